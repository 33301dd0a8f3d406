/**
 * Client-side rate limiting of provider API calls. One limiter per cloud account (see
 * accounts.ts) is shared by every DNSPolicy using that account, so many policies together stay
 * within the provider's quota instead of each being throttled in turn.
 */
export interface RateLimiter {
  /**
   * Resolves when one request may be sent now (first come, first served). Rejects with the
   * signal's reason when it aborts first; an aborted wait uses no slot.
   */
  acquire(signal?: AbortSignal): Promise<void>;
  /**
   * The provider answered "slow down" although we kept to our own rate (another client shares
   * the account): no request leaves for a while.
   */
  throttled(): void;
  /** How long a request asked for now would wait, ms (0: it would go at once). */
  pendingMs(): number;
}

/** Never waits: for tests that exercise a provider alone. Production always passes an account's limiter. */
export const UNLIMITED: RateLimiter = Object.freeze({
  acquire: (signal?: AbortSignal): Promise<void> =>
    signal?.aborted === true
      ? Promise.reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'))
      : Promise.resolve(),
  throttled: (): void => undefined,
  pendingMs: (): number => 0,
});

export interface WindowLimit {
  /** At most this many requests ... */
  readonly requests: number;
  /** ... in any window of this many ms. */
  readonly perMs: number;
}

export interface WindowLimiterOptions {
  /** Pause after the provider throttled us anyway. Default 1 s. */
  readonly throttlePauseMs?: number;
  /** Monotonic clock, ms. Default performance.now. */
  readonly now?: () => number;
}

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: () => void;
}

/**
 * At most `requests` grants in any window of `perMs` (a sliding window over the last grants, so
 * even a burst never exceeds the provider's per-second quota), granted in arrival order.
 */
export class SlidingWindowLimiter implements RateLimiter {
  readonly limit: WindowLimit;
  readonly #now: () => number;
  readonly #pauseMs: number;
  /** Times of the last `limit.requests` grants, oldest first. */
  readonly #grants: number[] = [];
  readonly #waiters: Waiter[] = [];
  #pausedUntil = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(limit: WindowLimit, options: WindowLimiterOptions = {}) {
    if (!(limit.requests >= 1) || !(limit.perMs > 0)) {
      throw new RangeError(`invalid rate limit ${limit.requests} per ${limit.perMs} ms`);
    }
    this.limit = Object.freeze({ ...limit });
    this.#now = options.now ?? ((): number => performance.now());
    this.#pauseMs = options.throttlePauseMs ?? 1_000;
  }

  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted === true) return Promise.reject(abortReason(signal));
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          const i = this.#waiters.indexOf(waiter);
          if (i >= 0) this.#waiters.splice(i, 1);
          reject(abortReason(signal));
          this.#pump();
        },
      };
      signal?.addEventListener('abort', waiter.onAbort, { once: true });
      this.#waiters.push(waiter);
      this.#pump();
    });
  }

  throttled(): void {
    this.#pausedUntil = Math.max(this.#pausedUntil, this.#now() + this.#pauseMs);
    this.#reschedule();
  }

  pendingMs(): number {
    // The slot a new request would get, behind everyone already waiting.
    const now = this.#now();
    const times = [...this.#grants];
    let at = now;
    for (let i = 0; i <= this.#waiters.length; i++) {
      at = this.#slotAfter(times, now);
      times.push(at);
      if (times.length > this.limit.requests) times.shift();
    }
    return Math.max(0, at - now);
  }

  /** Earliest time a grant may happen given the previous grants. */
  #slotAfter(grants: readonly number[], now: number): number {
    const full = grants.length >= this.limit.requests;
    const windowFree = full ? grants[grants.length - this.limit.requests]! + this.limit.perMs : 0;
    return Math.max(now, this.#pausedUntil, windowFree);
  }

  #pump(): void {
    for (;;) {
      if (this.#waiters.length === 0) {
        this.#clearTimer();
        return;
      }
      const now = this.#now();
      const at = this.#slotAfter(this.#grants, now);
      if (at > now) {
        this.#schedule(at - now);
        return;
      }
      const waiter = this.#waiters.shift()!;
      waiter.signal?.removeEventListener('abort', waiter.onAbort);
      this.#grants.push(now);
      if (this.#grants.length > this.limit.requests) this.#grants.shift();
      waiter.resolve();
    }
  }

  #reschedule(): void {
    this.#clearTimer();
    this.#pump();
  }

  #schedule(ms: number): void {
    this.#clearTimer();
    // ceil: a timer that fires a fraction early would find the slot still closed and spin.
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#pump();
    }, Math.ceil(ms));
    this.#timer.unref();
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

function abortReason(signal: AbortSignal | undefined): Error {
  return signal?.reason instanceof Error ? signal.reason : new Error('aborted');
}
