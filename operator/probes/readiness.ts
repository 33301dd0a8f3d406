/**
 * Readiness of each CoreDNS pod from its own ready endpoint (the `ready` plugin, default
 * :8181/ready): HTTP GET with a short hard timeout, 200 = ready. "Not ready" must be evidence
 * about the pod, never our own starvation (it licenses an eviction):
 * - an answer other than 200, or a refused/reset connection, is not ready at once;
 * - a timeout (a hung pod accepts the TCP connection but never answers) while our own event loop
 *   stalled for half the deadline or more says nothing: the verdict stays as it was;
 * - a timeout with a healthy loop is not ready only when a second check, begun at least
 *   `confirmApartMs` after the first unanswered one, times out too (it is asked at once).
 * With `adaptive`, each check's deadline is the pod's own (READINESS_DEADLINE_LIMITS), so a hung
 * pod is not ready about `confirmApartMs` plus one short deadline after its first unanswered check.
 * I/O, so it lives here and feeds the pure detector through `snapshot()`.
 */
import http from 'node:http';
import { AdaptiveDeadline, type DeadlineLimits } from './deadline';
import { NO_LAG, serverRttMs, type LagSource } from './loop-lag';

/**
 * The ready endpoint's own deadline when `adaptive`: like a probe's (deadline.ts), learnt from the
 * pod's answers to its checks (one a second), 3 x the p99 of the last 32, never below 20 ms (a
 * check opens a TCP connection), never above `timeoutMs`.
 */
export const READINESS_DEADLINE_LIMITS: DeadlineLimits = Object.freeze({
  floorMs: 20,
  quantile: 0.99,
  factor: 3,
  samples: 32,
  recomputeEvery: 4,
});

/** What one check saw: 200 (true), another answer or a refused connection (false), no answer. */
export type ReadinessAnswer = boolean | 'timeout';

export interface ReadinessTarget {
  /** The probe target key this readiness belongs to. */
  readonly key: string;
  /** Pod IP. */
  readonly address: string;
  /** The pod's own ready endpoint (its readinessProbe); default the checker's port and path. */
  readonly port?: number;
  readonly path?: string;
}

export interface ReadinessOptions {
  readonly port: number;
  readonly path: string;
  /** Hard deadline per check (the upper bound of the adaptive one). */
  readonly timeoutMs: number;
  /** Each pod's deadline learnt from its answers (READINESS_DEADLINE_LIMITS). Default false. */
  readonly adaptive?: boolean;
  /** Each pod is checked this often (and at once on `checkNow`). */
  readonly periodMs: number;
  /** Two unanswered checks must begin at least this far apart to call a pod not ready. */
  readonly confirmApartMs: number;
  /** Our own event-loop stalls: a timeout they explain is no verdict. Default none. */
  readonly lag?: LagSource;
  /** Monotonic clock (hrtime ns); tests inject it. */
  readonly nowNs?: () => bigint;
  /** Called when a pod's readiness changes. */
  readonly onChange?: (key: string, ready: boolean) => void;
  /** Replaces the HTTP check (tests). */
  readonly check?: (url: string, timeoutMs: number) => Promise<ReadinessAnswer>;
}

interface Entry {
  readonly target: ReadinessTarget;
  ready: boolean | undefined;
  inFlight: boolean;
  again: boolean;
  /** When the first check of the current run of unanswered ones began (hrtime ns). */
  unansweredSinceNs: bigint | undefined;
  /** The pod's own deadline (adaptive only). */
  readonly deadline: AdaptiveDeadline | undefined;
}

export class ReadinessChecker {
  readonly #options: ReadinessOptions;
  readonly #check: (url: string, timeoutMs: number) => Promise<ReadinessAnswer>;
  readonly #lag: LagSource;
  readonly #nowNs: () => bigint;
  readonly #entries = new Map<string, Entry>();
  #timer: NodeJS.Timeout | undefined;
  #stopped = true;

  constructor(options: ReadinessOptions) {
    this.#options = options;
    this.#check = options.check ?? httpReady;
    this.#lag = options.lag ?? NO_LAG;
    this.#nowNs = options.nowNs ?? ((): bigint => process.hrtime.bigint());
  }

  /** Pods to check; ones no longer listed are forgotten, new ones checked at once. */
  setTargets(targets: readonly ReadinessTarget[]): void {
    const wanted = new Map(targets.map((t) => [t.key, t]));
    for (const key of [...this.#entries.keys()]) {
      const next = wanted.get(key);
      const now = this.#entries.get(key)?.target;
      if (
        next === undefined ||
        next.address !== now?.address ||
        next.port !== now.port ||
        next.path !== now.path
      )
        this.#entries.delete(key);
    }
    for (const [key, target] of wanted) {
      if (this.#entries.has(key)) continue;
      this.#entries.set(key, {
        target,
        ready: undefined,
        inFlight: false,
        again: false,
        unansweredSinceNs: undefined,
        deadline:
          this.#options.adaptive === true
            ? new AdaptiveDeadline(this.#options.timeoutMs, READINESS_DEADLINE_LIMITS)
            : undefined,
      });
      if (!this.#stopped) this.checkNow(key);
    }
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    for (const key of this.#entries.keys()) this.checkNow(key);
    this.#timer = setInterval(() => {
      for (const key of this.#entries.keys()) this.checkNow(key);
    }, this.#options.periodMs);
    this.#timer.unref();
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Checks a pod now (or right after the check in flight). */
  checkNow(key: string): void {
    const entry = this.#entries.get(key);
    if (entry === undefined || this.#stopped) return;
    if (entry.inFlight) {
      entry.again = true;
      return;
    }
    entry.inFlight = true;
    const { address, port = this.#options.port, path = this.#options.path } = entry.target;
    const url = `http://${hostOf(address)}:${port}${path}`;
    const startedNs = this.#nowNs();
    const timeoutMs = entry.deadline?.ms ?? this.#options.timeoutMs;
    void this.#check(url, timeoutMs)
      .catch((): ReadinessAnswer => false)
      .then((answer) => {
        entry.inFlight = false;
        if (this.#entries.get(key) !== entry) return;
        if (answer !== 'timeout' && entry.deadline !== undefined) {
          const rtt = serverRttMs(
            Number(this.#nowNs() - startedNs) / 1e6,
            this.#lag.maxStallSince(startedNs),
          );
          if (rtt !== undefined) entry.deadline.observe(rtt);
        }
        const ready = this.#verdict(entry, answer, startedNs, timeoutMs);
        if (ready === 'confirm') {
          this.checkNow(key);
          return;
        }
        if (ready !== 'unknown' && entry.ready !== ready) {
          entry.ready = ready;
          this.#options.onChange?.(key, ready);
        }
        if (entry.again) {
          entry.again = false;
          this.checkNow(key);
        }
      });
  }

  /**
   * The verdict an answer allows: a boolean, 'unknown' (a timeout our own stall explains: the
   * verdict stays), or 'confirm' (a first unanswered check: ask again at once).
   */
  #verdict(
    entry: Entry,
    answer: ReadinessAnswer,
    startedNs: bigint,
    timeoutMs: number,
  ): boolean | 'unknown' | 'confirm' {
    if (answer !== 'timeout') {
      entry.unansweredSinceNs = undefined;
      return answer;
    }
    if (2 * this.#lag.maxStallSince(startedNs) >= timeoutMs) {
      entry.unansweredSinceNs = undefined;
      return 'unknown';
    }
    const since = entry.unansweredSinceNs;
    if (since === undefined) {
      entry.unansweredSinceNs = startedNs;
      return entry.ready === false ? false : 'confirm';
    }
    const apartMs = Number(startedNs - since) / 1e6;
    return apartMs >= this.#options.confirmApartMs ? false : 'confirm';
  }

  get(key: string): boolean | undefined {
    return this.#entries.get(key)?.ready;
  }

  snapshot(): ReadonlyMap<string, boolean | undefined> {
    return new Map([...this.#entries].map(([k, e]) => [k, e.ready]));
  }
}

function hostOf(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

/** GET url; true on 200, false on another answer or error, 'timeout' past the deadline. */
export function httpReady(url: string, timeoutMs: number): Promise<ReadinessAnswer> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (ok: ReadinessAnswer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(ok);
    };
    const req = http.get(url, { agent: false }, (res) => {
      res.resume();
      done(res.statusCode === 200);
    });
    req.on('error', () => done(false));
    const deadline = performance.now() + timeoutMs;
    // A timer that fires late means the event loop was stuck: let the poll phase read an answer
    // that may already be there before calling the pod not ready (setImmediate runs after it).
    const timer = setTimeout(() => {
      if (performance.now() - deadline > 5) setImmediate(() => done('timeout'));
      else done('timeout');
    }, timeoutMs);
    timer.unref();
  });
}
