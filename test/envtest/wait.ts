import { get } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitOptions {
  /** Give up after this long (default 30 s). */
  readonly timeoutMs?: number;
  /** Pause between attempts (default 100 ms). */
  readonly intervalMs?: number;
}

/** Thrown by an attempt to stop waiting at once (e.g. the process being waited on has exited). */
export class WaitAbortedError extends Error {
  override readonly name = 'WaitAbortedError';
}

/**
 * Polls `attempt` until it returns a value other than `undefined`, and returns that value.
 * An attempt that throws counts as "not yet" (the last error becomes the timeout error's cause),
 * except a `WaitAbortedError`, which is rethrown at once.
 */
export async function waitFor<T>(
  description: string,
  attempt: () => Promise<T | undefined> | T | undefined,
  options: WaitOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const intervalMs = options.intervalMs ?? 100;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await attempt();
      if (value !== undefined) return value;
    } catch (err) {
      if (err instanceof WaitAbortedError) throw err;
      lastError = err;
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}`, {
        cause: lastError,
      });
    }
    await sleep(intervalMs);
  }
}

/**
 * Whether `url` (plain HTTP) answers 200 within `timeoutMs`. Each call opens a new connection:
 * a kept-alive one could still be served by a CoreDNS instance that a reload has replaced.
 */
export async function httpOk(url: string, timeoutMs = 1_000): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const req = get(url, { agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
      res.on('error', () => resolve(false));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}
