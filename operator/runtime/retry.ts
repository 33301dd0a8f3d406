/** Bounded retries with exponential backoff and jitter (runtime/backoff.ts) for calls to external APIs (DNS providers). */
import { backoffDelay, sleep } from './backoff';

export interface RetryPolicy {
  /** Total attempts including the first. */
  readonly maxAttempts: number;
  readonly baseMs: number;
  readonly maxMs: number;
  readonly random?: () => number;
}

export const DEFAULT_RETRY: RetryPolicy = Object.freeze({
  maxAttempts: 6,
  baseMs: 200,
  maxMs: 5_000,
});

/**
 * Runs `op` until it succeeds, a failure is not retryable, or the attempts run out; then throws
 * the last error unchanged so the caller can classify it.
 */
export async function withRetries<T>(
  op: () => Promise<T>,
  isRetryable: (err: unknown) => boolean,
  policy: RetryPolicy,
  signal?: AbortSignal,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await op();
    } catch (err) {
      if (attempt + 1 >= policy.maxAttempts || !isRetryable(err) || signal?.aborted) throw err;
      await sleep(backoffDelay(attempt, policy), signal);
    }
  }
}
