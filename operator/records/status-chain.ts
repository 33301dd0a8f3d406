/**
 * Status writes off the sync's critical path (issue 14, ADR 0011): per object, one chain of
 * status writes that the next sync does not wait for.
 *
 * - Ordered per key: one write under way at a time; writes asked for meanwhile wait for it.
 * - Latest wins, nothing lost: the writes waiting for a key become one GET and one PATCH that
 *   applies their steps in order (each step sees the status the one before computed), so an
 *   earlier step's history (adoptions, lastSyncTime) survives the coalescing.
 * - Held writes: a step may ask to be held a while (`holdMs`) before its write goes; steps asked
 *   for meanwhile join it. The write goes when the first held step's hold ends, or at once with
 *   any step that asks for no hold. The fast path holds the status of a sync that an event
 *   started, so the status round trip is not on its way while the policy's next change call is
 *   (a failover's second label change comes tens of ms after the first).
 * - Errors: a failed write is logged and retried with backoff (5 ms doubling to 5 min, as the
 *   work queue retries a sync), together with the steps asked for since.
 * - Shutdown: `drain` writes what waits (held writes and retries waiting for their backoff go at
 *   once) and waits for it until the deadline; then the writes under way are aborted and whatever
 *   could not be written is dropped, and said so in the log.
 * - A key's timer (a hold or a retry's backoff) waits only while no write of it is under way.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { backoffDelay, type BackoffOptions } from '../runtime/backoff';
import { describeError } from '../runtime/errors';
import type { Logger } from '../runtime/logger';
import type { ObjectRef, StatusOf, StatusWriter } from '../runtime/status';

type Obj = KubernetesObject & { status?: unknown };

/** One status change: what to write given the live object, and what to do once it is written. */
export interface StatusStep<T extends Obj> {
  /**
   * The status to write given the live object (whose status is an earlier waiting step's result,
   * when steps were coalesced), or undefined when there is nothing to write.
   */
  compute(live: T): StatusOf<T> | undefined;
  /** Called once the write that carried this step succeeded (or found nothing to write). */
  written?(): void;
}

/** A cancellable timer (injectable, so tests drive the retries without waiting). */
export type Schedule = (fn: () => void, ms: number) => () => void;

export interface StatusChainOptions {
  readonly writer: Pick<StatusWriter, 'update'>;
  readonly logger: Logger;
  /** Retry delays of a failed write; default 5 ms doubling to 5 min. */
  readonly backoff?: BackoffOptions;
  /** Called for each failed write, with the delay before its retry (undefined: dropped). */
  readonly onError?: (key: string, err: unknown, retryInMs: number | undefined) => void;
  readonly schedule?: Schedule;
}

interface KeyState {
  ref: ObjectRef;
  /** Steps waiting for the next write, in the order they were asked for. */
  waiting: StatusStep<Obj>[];
  /** The shortest hold the waiting steps asked for (0: write at once). */
  holdMs: number;
  running: boolean;
  failures: number;
  /** The timer the next write waits for: a failed write's backoff, or a hold. */
  timer?: { readonly cancel: () => void; readonly retry: boolean } | undefined;
}

const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 5, maxMs: 300_000 };

const defaultSchedule: Schedule = (fn, ms) => {
  const timer = setTimeout(fn, ms);
  timer.unref();
  return () => clearTimeout(timer);
};

export class StatusChain {
  readonly #options: StatusChainOptions;
  readonly #keys = new Map<string, KeyState>();
  #abort = new AbortController();
  #draining = false;
  /** Woken whenever a key goes idle (drain waits on it). */
  #idle: (() => void) | undefined;

  constructor(options: StatusChainOptions) {
    this.#options = options;
  }

  /**
   * Asks for a status write of `ref`; never waits for it. With `holdMs`, the write waits that
   * long (unless a write that is not held comes first), and what is asked for meanwhile joins it.
   */
  enqueue<T extends Obj>(key: string, ref: ObjectRef, step: StatusStep<T>, holdMs = 0): void {
    let state = this.#keys.get(key);
    if (state === undefined) {
      state = { ref, waiting: [], holdMs, running: false, failures: 0 };
      this.#keys.set(key, state);
    }
    state.ref = ref;
    state.holdMs = state.waiting.length === 0 ? holdMs : Math.min(state.holdMs, holdMs);
    state.waiting.push(step);
    this.#next(key, state);
  }

  /** True while a write of `key` waits, is under way or waits for its retry. */
  busy(key: string): boolean {
    return this.#keys.has(key);
  }

  /** Drops what waits for `key` (its object is gone); a write under way finishes. */
  forget(key: string): void {
    const state = this.#keys.get(key);
    if (state === undefined) return;
    state.timer?.cancel();
    state.timer = undefined;
    state.waiting = [];
    if (!state.running) this.#settle(key, state);
  }

  /** Accepts retries again after a drain (a leader that won its lease back). */
  start(): void {
    this.#draining = false;
    if (this.#abort.signal.aborted) this.#abort = new AbortController();
  }

  /**
   * Writes what waits, at once and once (no more retries), and waits for it for at most
   * `withinMs`; then aborts the writes under way and drops what waits. What was not written is
   * logged as dropped. A key whose aborted write has not answered yet stays busy until it does,
   * so a new term's writes still come after it.
   */
  async drain(withinMs: number): Promise<void> {
    this.#draining = true;
    for (const [key, state] of this.#keys) {
      if (state.timer === undefined) continue;
      state.timer.cancel();
      state.timer = undefined;
      void this.#write(key, state);
    }
    let cancelDeadline: (() => void) | undefined;
    const deadline = new Promise<void>((resolve) => {
      cancelDeadline = this.#schedule(resolve, Math.max(0, withinMs));
    });
    while (this.#keys.size > 0) {
      const idle = new Promise<void>((resolve) => (this.#idle = resolve));
      if ((await Promise.race([idle.then(() => 'idle'), deadline.then(() => 'late')])) === 'late')
        break;
    }
    cancelDeadline?.();
    if (this.#keys.size > 0) {
      const left = [...this.#keys.keys()];
      this.#abort.abort(new Error('shutdown: the grace period is over'));
      this.#options.logger.warn({ keys: left }, 'status writes dropped at shutdown');
      for (const key of left) this.forget(key);
    }
  }

  /**
   * What a key does next when no write of it is under way: nothing while a retry waits; else its
   * waiting steps are written at once, or when their hold ends (while draining, at once).
   */
  #next(key: string, state: KeyState): void {
    if (state.running || state.timer?.retry === true) return;
    if (state.waiting.length === 0) {
      this.#settle(key, state);
      return;
    }
    if (state.holdMs > 0 && !this.#draining) {
      state.timer ??= {
        cancel: this.#schedule(() => this.#timerFired(key, state), state.holdMs),
        retry: false,
      };
      return;
    }
    state.timer?.cancel();
    state.timer = undefined;
    void this.#write(key, state);
  }

  /** A key's hold or retry is over. */
  #timerFired(key: string, state: KeyState): void {
    state.timer = undefined;
    void this.#write(key, state);
  }

  #schedule(fn: () => void, ms: number): () => void {
    return (this.#options.schedule ?? defaultSchedule)(fn, ms);
  }

  async #write(key: string, state: KeyState): Promise<void> {
    const steps = state.waiting;
    state.waiting = [];
    state.holdMs = 0;
    state.running = true;
    const signal = this.#abort.signal;
    let ok = false;
    try {
      await this.#options.writer.update<Obj>(state.ref, composed(steps), signal);
      ok = true;
    } catch (err) {
      this.#failed(key, state, steps, err, signal);
    } finally {
      state.running = false;
    }
    if (ok) {
      state.failures = 0;
      for (const step of steps) step.written?.();
    }
    this.#next(key, state);
  }

  /** A failed write: retried with the steps asked for since, or dropped while draining. */
  #failed(
    key: string,
    state: KeyState,
    steps: StatusStep<Obj>[],
    err: unknown,
    signal: AbortSignal,
  ): void {
    const log = this.#options.logger.child({ key });
    if (this.#draining || signal.aborted) {
      log.warn({ err: describeError(err) }, 'could not write status; dropped at shutdown');
      this.#options.onError?.(key, err, undefined);
      return;
    }
    state.waiting = [...steps, ...state.waiting];
    const delay = backoffDelay(state.failures++, this.#options.backoff ?? DEFAULT_BACKOFF);
    log.warn({ err: describeError(err), retryInMs: delay }, 'could not write status; retrying');
    this.#options.onError?.(key, err, delay);
    state.timer = {
      cancel: this.#schedule(() => this.#timerFired(key, state), delay),
      retry: true,
    };
  }

  /** A key with nothing left to write goes (unless a new term's writes for it came meanwhile). */
  #settle(key: string, state: KeyState): void {
    if (this.#keys.get(key) === state) this.#keys.delete(key);
    const idle = this.#idle;
    this.#idle = undefined;
    idle?.();
  }
}

/**
 * The steps as one computation: each sees the live object with the status the steps before it
 * computed. Undefined (no write) when no step has anything to write.
 */
function composed(steps: readonly StatusStep<Obj>[]): (live: Obj) => unknown {
  return (live) => {
    let current = live;
    let changed = false;
    for (const step of steps) {
      const next = step.compute(current);
      if (next === undefined) continue;
      current = { ...current, status: next };
      changed = true;
    }
    return changed ? current.status : undefined;
  };
}
