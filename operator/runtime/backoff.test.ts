import fc from 'fast-check';
import { backoffDelay } from './backoff';

describe('backoffDelay', () => {
  it('doubles from 5 ms and is capped at 5 min', () => {
    const mid = { baseMs: 5, maxMs: 300_000, random: () => 1 };
    expect([0, 1, 2, 3].map((a) => backoffDelay(a, mid))).toEqual([5, 10, 20, 40]);
    expect(backoffDelay(30, mid)).toBe(300_000);
  });

  it('always stays within [d/2, d] of the exponential step', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 60 }),
        fc.double({ min: 0, max: 0.999, noNaN: true }),
        (attempt, r) => {
          const d = Math.min(300_000, 5 * 2 ** attempt);
          const delay = backoffDelay(attempt, { baseMs: 5, maxMs: 300_000, random: () => r });
          return delay >= Math.floor(d / 2) && delay <= Math.ceil(d);
        },
      ),
    );
  });
});
