import fc from 'fast-check';
import {
  BucketRing,
  LogHistogram,
  meanStd,
  RecentSamples,
  shannonEntropy,
  TimedSamples,
} from './stats';

describe('BucketRing', () => {
  it('sums a window and forgets what falls out of it', () => {
    const ring = new BucketRing(1000, 100, 1);
    ring.add(0, 0, 1);
    ring.add(50, 0, 1);
    ring.add(550, 0, 1);
    expect(ring.sum(900, 0)).toBe(3);
    expect(ring.sum(1050, 0)).toBe(1); // bucket 0 (0-99 ms) expired
    expect(ring.sum(1650, 0)).toBe(0);
  });

  it('splits recent from baseline without overlap', () => {
    const ring = new BucketRing(10_000, 100, 1);
    for (let t = 0; t < 10_000; t += 10) ring.add(t, 0, 1);
    const all = ring.sum(9_999, 0);
    const recent = ring.sum(9_999, 0, 1000);
    const baseline = ring.sum(9_999, 0, undefined, 1000);
    expect(all).toBe(1000);
    expect(recent + baseline).toBe(all);
    expect(recent).toBe(100);
  });

  it('ignores writes older than the window and survives long gaps', () => {
    const ring = new BucketRing(1000, 100, 2);
    ring.add(5000, 1, 2);
    ring.add(100, 1, 7);
    expect(ring.sum(5000, 1)).toBe(2);
    ring.add(1_000_000, 1, 1);
    expect(ring.sum(1_000_000, 1)).toBe(1);
  });

  it('matches a brute-force window sum', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat({ max: 20_000 }), { maxLength: 200 }),
        fc.nat({ max: 25_000 }),
        (times, query) => {
          const sorted = [...times].sort((a, b) => a - b);
          const ring = new BucketRing(2000, 100, 1);
          for (const t of sorted) ring.add(t, 0, 1);
          const now = Math.max(query, sorted.at(-1) ?? 0);
          const nowBucket = Math.floor(now / 100);
          const expected = sorted.filter((t) => Math.floor(t / 100) > nowBucket - 20).length;
          expect(ring.sum(now, 0)).toBe(expected);
        },
      ),
    );
  });
});

describe('LogHistogram', () => {
  it('gives quantiles within about 2% of the exact ones', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0.01, max: 5000, noNaN: true }), {
          minLength: 1,
          maxLength: 300,
        }),
        (values) => {
          const h = new LogHistogram();
          for (const v of values) h.add(v);
          const sorted = [...values].sort((a, b) => a - b);
          for (const q of [0.5, 0.99]) {
            const exact = sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
            expect(Math.abs(h.quantile(q)! - exact) / exact).toBeLessThan(0.021);
          }
        },
      ),
    );
  });
  it('is empty without samples', () => {
    expect(new LogHistogram().quantile(0.5)).toBeUndefined();
  });
});

describe('RecentSamples', () => {
  it('keeps the newest samples only', () => {
    const r = new RecentSamples(3);
    for (const v of [100, 1, 2, 3]) r.add(v);
    expect(r.quantiles([0.5, 1])).toEqual([2, 3]);
  });
});

describe('TimedSamples', () => {
  it('gives the median of the samples since a time', () => {
    const r = new TimedSamples(4);
    r.add(0, 100);
    r.add(10, 1);
    r.add(20, 3);
    r.add(30, 2);
    expect(r.medianSince(10)).toBe(2);
    expect(r.medianSince(0)).toBe(2.5);
    expect(r.medianSince(31)).toBeUndefined();
    r.add(40, 50); // overwrites the oldest
    expect(r.medianSince(0)).toBe(2.5); // 1, 2, 3, 50
    expect(r.medianSince(20)).toBe(3);
  });
});

describe('shannonEntropy', () => {
  it.each([
    [[], 0],
    [[5], 0],
    [[5, 0, 0], 0],
    [[1, 1], 1],
    [[4, 4, 4], Math.log2(3)],
    [[2, 2, 2, 2], 2],
  ])('%j -> %d bits', (counts, bits) => {
    expect(shannonEntropy(counts)).toBeCloseTo(bits, 10);
  });
});

describe('meanStd', () => {
  it('computes population statistics', () => {
    const { mean, std } = meanStd(4, 2 + 4 + 4 + 6, 4 + 16 + 16 + 36);
    expect(mean).toBe(4);
    expect(std).toBeCloseTo(Math.sqrt(2), 10);
    expect(meanStd(0, 0, 0)).toEqual({ mean: 0, std: 0 });
  });
});
