import fc from 'fast-check';
import { SlidingWindowLimiter, UNLIMITED } from './rate-limit';

/** A limiter on a hand-driven clock, with Jest's fake timers firing its wake-ups. */
function harness(requests: number, perMs: number, throttlePauseMs?: number) {
  let now = 1_000;
  const limiter = new SlidingWindowLimiter(
    { requests, perMs },
    { now: () => now, ...(throttlePauseMs !== undefined ? { throttlePauseMs } : {}) },
  );
  const granted: number[] = [];
  const ask = (signal?: AbortSignal): Promise<void> =>
    limiter.acquire(signal).then(() => {
      granted.push(now);
    });
  const advance = async (ms: number): Promise<void> => {
    for (let i = 0; i < ms; i++) {
      now += 1;
      jest.advanceTimersByTime(1);
      await flush();
    }
  };
  return { limiter, granted, ask, advance, at: () => now };
}

const flush = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

describe('SlidingWindowLimiter', () => {
  it('grants a burst up to the limit at once, then one slot per window as they free up', async () => {
    const h = harness(5, 1_000);
    const all = Array.from({ length: 12 }, () => h.ask());
    await flush();
    expect(h.granted).toEqual([1000, 1000, 1000, 1000, 1000]);
    await h.advance(999);
    expect(h.granted).toHaveLength(5);
    await h.advance(1);
    expect(h.granted).toHaveLength(10);
    await h.advance(1_000);
    await Promise.all(all);
    expect(h.granted).toEqual([...Array(5).fill(1000), ...Array(5).fill(2000), 3000, 3000]);
  });

  it('never grants more than the limit in any window (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 10, max: 200 }),
        fc.array(fc.integer({ min: 0, max: 120 }), { minLength: 1, maxLength: 20 }),
        async (requests, perMs, gaps) => {
          const h = harness(requests, perMs);
          const pending: Promise<void>[] = [];
          for (const gap of gaps) {
            await h.advance(gap);
            pending.push(h.ask());
            await flush();
          }
          await h.advance(perMs * (gaps.length + 1));
          await Promise.all(pending);
          expect(h.granted).toHaveLength(gaps.length);
          for (let i = requests; i < h.granted.length; i++) {
            expect(h.granted[i]! - h.granted[i - requests]!).toBeGreaterThanOrEqual(perMs);
          }
        },
      ),
      { numRuns: 30 },
    );
  });

  it('serves waiters in arrival order', async () => {
    const h = harness(1, 100);
    const order: number[] = [];
    const all = [0, 1, 2, 3].map((i) => h.limiter.acquire().then(() => order.push(i)));
    await h.advance(300);
    await Promise.all(all);
    expect(order).toEqual([0, 1, 2, 3]);
  });

  it('pauses every request after the provider throttled anyway', async () => {
    const h = harness(5, 1_000, 2_000);
    h.limiter.throttled();
    const first = h.ask();
    await h.advance(1_999);
    expect(h.granted).toEqual([]);
    await h.advance(1);
    await first;
    expect(h.granted).toEqual([3000]);
  });

  it('drops an aborted waiter without using its slot', async () => {
    const h = harness(1, 1_000);
    await h.ask();
    const controller = new AbortController();
    const aborted = h.ask(controller.signal);
    const next = h.ask();
    controller.abort(new Error('sync cancelled'));
    await expect(aborted).rejects.toThrow('sync cancelled');
    await h.advance(1_000);
    await next;
    expect(h.granted).toEqual([1000, 2000]);
  });

  it('says how long a request asked now would wait', async () => {
    const h = harness(2, 1_000);
    expect(h.limiter.pendingMs()).toBe(0);
    void h.ask();
    void h.ask();
    await flush();
    expect(h.limiter.pendingMs()).toBe(1_000);
    void h.ask();
    await flush();
    expect(h.limiter.pendingMs()).toBe(1_000);
    void h.ask();
    await flush();
    expect(h.limiter.pendingMs()).toBe(2_000);
  });

  it('refuses a limit that cannot be kept', () => {
    expect(() => new SlidingWindowLimiter({ requests: 0, perMs: 1000 })).toThrow(RangeError);
    expect(() => new SlidingWindowLimiter({ requests: 1, perMs: 0 })).toThrow(RangeError);
  });
});

describe('UNLIMITED', () => {
  it('never waits but still honours an aborted signal', async () => {
    await expect(UNLIMITED.acquire()).resolves.toBeUndefined();
    await expect(UNLIMITED.acquire(AbortSignal.abort(new Error('gone')))).rejects.toThrow('gone');
    expect(UNLIMITED.pendingMs()).toBe(0);
  });
});
