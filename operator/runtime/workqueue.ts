/**
 * Keyed work queue, the level-triggered heart of both controllers:
 * - one reconcile per key at a time; an add while a key is running marks it dirty and it runs again;
 * - duplicate adds coalesce; addAfter keeps the earliest pending time per key (so it debounces);
 * - failures retry with exponential backoff and jitter (5 ms .. 5 min by default), a PermanentError
 *   waits for the next add instead;
 * - bounded concurrency across keys;
 * - shutdown stops taking work and waits for the reconciles in flight.
 */
import { backoffDelay } from './backoff';
import { describeError, isPermanent } from './errors';
import type { Logger } from './logger';

export interface ReconcileResult {
  /** Run this key again after this many ms (periodic resync). */
  readonly requeueAfterMs?: number;
}

export type ReconcileFn = (key: string, signal: AbortSignal) => Promise<ReconcileResult | void>;

export interface WorkQueueOptions {
  readonly name: string;
  readonly reconcile: ReconcileFn;
  readonly logger: Logger;
  /** Keys reconciled at once, across keys. Default 4. */
  readonly concurrency?: number;
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly random?: () => number;
  /** Called after every reconcile with its outcome, for metrics. */
  readonly onResult?: (key: string, outcome: 'success' | 'retry' | 'permanent', ms: number) => void;
}

export class WorkQueue {
  readonly #options: WorkQueueOptions;
  readonly #concurrency: number;
  /** Keys waiting to run, in order; mirrored by #queuedSet for O(1) membership. */
  readonly #queue: string[] = [];
  readonly #queuedSet = new Set<string>();
  readonly #running = new Set<string>();
  readonly #dirty = new Set<string>();
  readonly #timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  readonly #failures = new Map<string, number>();
  readonly #inFlight = new Set<Promise<void>>();
  readonly #abort = new AbortController();
  #started = false;
  #shuttingDown = false;

  constructor(options: WorkQueueOptions) {
    this.#options = options;
    this.#concurrency = Math.max(1, options.concurrency ?? 4);
  }

  get name(): string {
    return this.#options.name;
  }

  /** Keys waiting (not running, not delayed). */
  get length(): number {
    return this.#queue.length;
  }

  /** Failure count of a key since its last success; 0 when healthy. */
  failures(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  start(): void {
    this.#started = true;
    this.#pump();
  }

  /** Enqueues a key now. Coalesces with a queued or running key. */
  add(key: string): void {
    if (this.#shuttingDown) return;
    const pending = this.#timers.get(key);
    if (pending !== undefined) {
      clearTimeout(pending.timer);
      this.#timers.delete(key);
    }
    if (this.#running.has(key)) {
      this.#dirty.add(key);
      return;
    }
    if (this.#queuedSet.has(key)) return;
    this.#queuedSet.add(key);
    this.#queue.push(key);
    this.#pump();
  }

  /** Enqueues a key after a delay; an earlier pending time for the same key wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.#shuttingDown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const at = Date.now() + delayMs;
    const pending = this.#timers.get(key);
    if (pending !== undefined) {
      if (pending.at <= at) return;
      clearTimeout(pending.timer);
    }
    const timer = setTimeout(() => {
      this.#timers.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.#timers.set(key, { at, timer });
  }

  /** Forgets a key: pending timers and failure history (e.g. when its object is deleted). */
  forget(key: string): void {
    const pending = this.#timers.get(key);
    if (pending !== undefined) clearTimeout(pending.timer);
    this.#timers.delete(key);
    this.#failures.delete(key);
  }

  /**
   * Stops taking work, cancels delayed keys, and waits for running reconciles to finish.
   * After graceMs the running reconciles' signal is aborted.
   */
  async shutdown(graceMs = 30_000): Promise<void> {
    this.#shuttingDown = true;
    for (const { timer } of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    this.#queue.length = 0;
    this.#queuedSet.clear();
    const grace = setTimeout(() => this.#abort.abort(new Error('shutdown')), graceMs);
    grace.unref();
    while (this.#inFlight.size > 0) {
      await Promise.allSettled([...this.#inFlight]);
    }
    clearTimeout(grace);
  }

  #pump(): void {
    while (this.#started && !this.#shuttingDown && this.#running.size < this.#concurrency) {
      const key = this.#queue.shift();
      if (key === undefined) return;
      this.#queuedSet.delete(key);
      this.#running.add(key);
      const run = this.#run(key);
      this.#inFlight.add(run);
      void run.finally(() => this.#inFlight.delete(run));
    }
  }

  async #run(key: string): Promise<void> {
    const started = performance.now();
    let result: ReconcileResult | void = undefined;
    let outcome: 'success' | 'retry' | 'permanent' = 'success';
    try {
      result = await this.#options.reconcile(key, this.#abort.signal);
      this.#failures.delete(key);
    } catch (err) {
      outcome = isPermanent(err) ? 'permanent' : 'retry';
      this.#onFailure(key, err, outcome);
    } finally {
      this.#running.delete(key);
      this.#options.onResult?.(key, outcome, performance.now() - started);
    }
    if (this.#dirty.delete(key)) {
      this.add(key);
    } else if (outcome === 'success' && result?.requeueAfterMs !== undefined) {
      this.addAfter(key, result.requeueAfterMs);
    }
    this.#pump();
  }

  #onFailure(key: string, err: unknown, outcome: 'retry' | 'permanent'): void {
    const log = this.#options.logger.child({ queue: this.name, key });
    if (outcome === 'permanent') {
      this.#failures.delete(key);
      log.warn({ err: describeError(err) }, 'reconcile failed permanently; waiting for a change');
      return;
    }
    const attempt = this.#failures.get(key) ?? 0;
    this.#failures.set(key, attempt + 1);
    const delay = backoffDelay(attempt, {
      baseMs: this.#options.baseDelayMs ?? 5,
      maxMs: this.#options.maxDelayMs ?? 300_000,
      ...(this.#options.random ? { random: this.#options.random } : {}),
    });
    log.info(
      { err: describeError(err), attempt: attempt + 1, retryInMs: delay },
      'reconcile failed; retrying',
    );
    this.addAfter(key, delay);
  }
}
