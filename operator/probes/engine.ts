/**
 * The probe engine of one DNSProbe: scheduler -> resolver -> per-target windows -> detector.
 * Used as is by `dnsop probe` and by the DNSProbe controller, which adds targets discovery,
 * readiness checks, status, metrics and remediation around it.
 *
 * Assessment runs every `assessEveryMs` and, at once, when a target enters or leaves Failing (so
 * detection does not wait for the next tick).
 *
 * Speed (DESIGN.md): with `adaptiveTimeout` each probe's deadline is its target's AdaptiveDeadline
 * and a counted failure of a target that is not yet Failing sends a confirmation probe at once, so
 * a hung server is Failing after one interval plus `consecutiveFailures` short deadlines rather
 * than `consecutiveFailures` intervals. A late answer (past the deadline, within the timeout)
 * ends the failure run: the server is slow, not hung, and its deadline grows.
 */
import {
  assess,
  TargetWindow,
  type Assessment,
  type TargetAssessment,
  type TargetIdentity,
  type TargetState,
} from './detector';
import { AdaptiveDeadline, DEADLINE_LIMITS, SilenceTolerance } from './deadline';
import { serverRttMs, type LagSource } from './loop-lag';
import type { PreparedQuery } from './query';
import { Resolver, type ProbeResult, type ProbeTarget } from './resolver';
import {
  ProbeScheduler,
  type ProbeSlot,
  type ResultSink,
  type SchedulerDeps,
  type TokenBucket,
} from './scheduler';
import type { ProbeSettings } from './settings';

export interface EngineTarget {
  readonly target: ProbeTarget;
  readonly identity: TargetIdentity;
}

/** Timeouts (by send time) still waiting for a late answer, per target; older ones drop off. */
const MAX_AWAITING_LATE = 64;

/** Per-target state the engine keeps; the slot data every probe of the target carries. */
export class TargetEntry {
  failing = false;
  /** The send time of the first probe of the current failure run. */
  runFirstSentAtNs: bigint | undefined;
  /** The deadline the first probe of the current failure run had, ms. */
  runFirstDeadlineMs = 0;
  /** The send time of the oldest probe unanswered since the target last answered. */
  silentSinceNs: bigint | undefined;
  /**
   * The engine's Failing episode this target last answered in (see ProbeEngine.#noteAnswered);
   * -1 until its first answer, which is news too (Unknown -> Healthy).
   */
  answeredInEpisode = -1;
  /** Failures in a row not counted (lag) and asked again at once. */
  uncountedRetries = 0;
  /** Send times of counted timeouts whose late answer would still count. */
  readonly #awaitingLate: bigint[] = [];
  constructor(
    readonly target: ProbeTarget,
    readonly identity: TargetIdentity,
    readonly window: TargetWindow,
    readonly deadline: AdaptiveDeadline,
    readonly tolerance: SilenceTolerance,
  ) {}

  /**
   * An answer (on time or late): a silence before it that never made the target Failing is one it
   * came back from by itself, and is learnt. Nothing to do in the common case (no silence).
   */
  answered(result: ProbeResult, stallMs: number, atMs: number): void {
    const since = this.silentSinceNs;
    if (since === undefined) return;
    this.silentSinceNs = undefined;
    const receivedNs = receivedAtNs(result, stallMs);
    if (!this.window.failing && receivedNs > since)
      this.tolerance.observe(Number(receivedNs - since) / 1e6, atMs);
  }

  /** A counted timeout: its late answer, if one comes, corrects the window. */
  awaitLate(sentAtNs: bigint): void {
    this.#awaitingLate.push(sentAtNs);
    if (this.#awaitingLate.length > MAX_AWAITING_LATE) this.#awaitingLate.shift();
  }

  /** True (once) when the late answer belongs to a counted timeout. */
  takeLate(sentAtNs: bigint): boolean {
    const i = this.#awaitingLate.indexOf(sentAtNs);
    if (i < 0) return false;
    this.#awaitingLate.splice(i, 1);
    return true;
  }
}

/** Sees every probe result (metrics). Must be cheap: it runs at probe rate. */
export interface ProbeObserver {
  onProbe(entry: TargetEntry, query: PreparedQuery, result: ProbeResult, counted: boolean): void;
  /** A late answer (the probe was already seen as a timeout). */
  onLate?(entry: TargetEntry, query: PreparedQuery, result: ProbeResult): void;
}

export interface TargetChange {
  readonly identity: TargetIdentity;
  readonly from: TargetState;
  readonly to: TargetState;
  readonly assessment: TargetAssessment;
}

export interface EngineOptions {
  readonly settings: ProbeSettings;
  readonly lag: LagSource;
  readonly onAssessment: (assessment: Assessment, changes: readonly TargetChange[]) => void;
  /** A target's first counted failure after a success (e.g. check a pod's readiness now). */
  readonly onSuspect?: (entry: TargetEntry) => void;
  readonly namespaceBucket?: TokenBucket;
  readonly observer?: ProbeObserver;
  /** Current readiness per target key (pod targets); I/O done elsewhere. */
  readonly readiness?: () => ReadonlyMap<string, boolean | undefined>;
  /** Replaces the resolver (tests). */
  readonly sender?: SchedulerDeps<TargetEntry>['sender'];
  /** Monotonic ms. Default performance.now. */
  readonly now?: () => number;
  readonly random?: () => number;
  readonly assessEveryMs?: number;
}

const NO_READINESS: ReadonlyMap<string, boolean | undefined> = new Map();

export class ProbeEngine implements ResultSink<TargetEntry> {
  readonly settings: ProbeSettings;
  readonly #options: EngineOptions;
  readonly #now: () => number;
  readonly #scheduler: ProbeScheduler<TargetEntry>;
  readonly #entries = new Map<string, TargetEntry>();
  readonly #states = new Map<string, TargetState>();
  #last: Assessment | undefined;
  #timer: NodeJS.Timeout | undefined;
  #immediate: NodeJS.Immediate | undefined;
  #running = false;
  /** Bumped whenever a target enters Failing: a new question "have the others answered since?". */
  #episode = 0;

  constructor(options: EngineOptions) {
    this.settings = options.settings;
    this.#options = options;
    this.#now = options.now ?? (() => performance.now());
    const s = options.settings;
    this.#scheduler = new ProbeScheduler<TargetEntry>(
      {
        intervalMs: s.intervalMs,
        timeoutMs: s.timeoutMs,
        transport: s.transport,
        maxQps: s.maxQps,
      },
      s.queries,
      {
        sink: this,
        lag: options.lag,
        sender: options.sender ?? ((onResult) => new Resolver<ProbeSlot<TargetEntry>>(onResult)),
        now: this.#now,
        ...(options.namespaceBucket !== undefined
          ? { namespaceBucket: options.namespaceBucket }
          : {}),
        ...(options.random !== undefined ? { random: options.random } : {}),
      },
    );
  }

  get scheduler(): ProbeScheduler<TargetEntry> {
    return this.#scheduler;
  }

  /** The latest assessment. */
  get last(): Assessment | undefined {
    return this.#last;
  }

  entries(): TargetEntry[] {
    return [...this.#entries.values()];
  }

  /** Replaces the target set; a target whose identity changed (same IP, new pod) starts afresh. */
  setTargets(targets: readonly EngineTarget[]): void {
    const wanted = new Map(targets.map((t) => [t.target.key, t]));
    let removed = false;
    for (const [key, entry] of this.#entries) {
      const next = wanted.get(key);
      if (next === undefined || !sameIdentity(next.identity, entry.identity)) {
        this.#entries.delete(key);
        this.#states.delete(key);
        removed = true;
      }
    }
    if (removed)
      this.#scheduler.setTargets(
        [...this.#entries.values()].map((e) => e.target),
        (t) => this.#entries.get(t.key)!,
      );
    for (const [key, t] of wanted) {
      if (this.#entries.has(key)) continue;
      this.#entries.set(
        key,
        new TargetEntry(
          t.target,
          t.identity,
          new TargetWindow(t.identity, this.settings.queries.length, this.settings.thresholds),
          new AdaptiveDeadline(
            this.settings.timeoutMs,
            DEADLINE_LIMITS,
            this.settings.queries.length,
          ),
          new SilenceTolerance(this.settings.timeoutMs),
        ),
      );
    }
    this.#scheduler.setTargets(
      [...this.#entries.values()].map((e) => e.target),
      (t) => this.#entries.get(t.key)!,
    );
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#scheduler.start();
    this.#timer = setInterval(() => this.assessNow(), this.#options.assessEveryMs ?? 100);
    this.#timer.unref();
  }

  stop(): void {
    this.#running = false;
    this.#scheduler.stop();
    clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#immediate !== undefined) clearImmediate(this.#immediate);
    this.#immediate = undefined;
  }

  onProbeResult(
    slot: ProbeSlot<TargetEntry>,
    result: ProbeResult,
    counted: boolean,
    stallMs: number,
  ): boolean {
    const entry = slot.data;
    this.#options.observer?.onProbe(entry, slot.query, result, counted);
    if (!counted) return this.#retryUncounted(entry, result, stallMs);
    entry.uncountedRetries = 0;
    const window = entry.window;
    const before = window.consecutiveFailures;
    const wasFailing = window.failing;
    const rtt = serverRttMs(result.rttMs, stallMs);
    this.#trackRun(entry, result, stallMs, before === 0);
    const silenceShort = result.outcome === 'timeout' && this.#silenceShort(entry, result);
    window.observe(slot.queryIndex, result.outcome, rtt ?? result.rttMs, this.#now(), {
      rttUsable: rtt !== undefined,
      expectNx: slot.query.expectRcode === 'NXDOMAIN',
      ...(result.detail !== undefined ? { detail: result.detail } : {}),
      ...(silenceShort ? { silenceShort } : {}),
    });
    // Not while Failing: the first answers after a hang come from the backlog it left.
    if (!wasFailing && rtt !== undefined && answeredAtAll(result)) entry.deadline.observe(rtt);
    this.#noteFailing(entry);
    if (result.outcome === 'success') {
      this.#noteAnswered(entry);
      return false;
    }
    if (result.outcome === 'timeout') entry.awaitLate(result.sentAtNs);
    if (before === 0) this.#options.onSuspect?.(entry);
    return (
      this.settings.adaptiveTimeout &&
      !window.failing &&
      (silenceShort || window.consecutiveFailures < this.settings.thresholds.consecutiveFailures)
    );
  }

  /**
   * Before a counted result is observed: a failure that starts a run notes its first probe; a
   * timeout starts or continues a silence, an answer ends it (and may be learnt).
   */
  #trackRun(entry: TargetEntry, result: ProbeResult, stallMs: number, runStarts: boolean): void {
    if (runStarts && result.outcome !== 'success') {
      entry.runFirstSentAtNs = result.sentAtNs;
      entry.runFirstDeadlineMs = this.#deadlineOf(result);
    }
    if (result.outcome === 'timeout') entry.silentSinceNs ??= result.sentAtNs;
    else if (answeredAtAll(result)) entry.answered(result, stallMs, this.#now());
  }

  /** The deadline a probe had, ms. */
  #deadlineOf(result: ProbeResult): number {
    return result.deadlineMs ?? this.settings.timeoutMs;
  }

  /**
   * Timeouts are evidence of a hung server only as far as they cover time: `threshold` probes that
   * were all out during one short stall (several queries, sent milliseconds apart) show one
   * silence of about one deadline, not `threshold` of them. A run of timeouts is short while the
   * silence it shows, from the send of its first probe to the deadline of this one, is under
   * `threshold` deadlines of that first probe: what one query's run with confirmations shows
   * (each confirmation is sent at the previous deadline), so one query is not slowed down. With
   * `adaptiveTimeout` it is also short while under the silence the target has been seen to come
   * back from by itself (SilenceTolerance): a pod a busy node starves for 250 ms now and then is
   * not Failing at the next such pause, a quiet one is judged on its deadlines alone.
   */
  #silenceShort(entry: TargetEntry, result: ProbeResult): boolean {
    const first = entry.runFirstSentAtNs;
    if (first === undefined) return false;
    const coveredMs = Number(result.sentAtNs - first) / 1e6 + this.#deadlineOf(result);
    const needMs = Math.max(
      this.settings.thresholds.consecutiveFailures * entry.runFirstDeadlineMs,
      this.settings.adaptiveTimeout ? entry.tolerance.ms(this.#now()) : 0,
    );
    return coveredMs < needMs;
  }

  onLateResult(slot: ProbeSlot<TargetEntry>, result: ProbeResult, stallMs: number): void {
    const entry = slot.data;
    this.#options.observer?.onLate?.(entry, slot.query, result);
    // Only the answer to a timeout the window counted may correct it (a lag-excluded one was
    // never counted).
    if (!entry.takeLate(result.sentAtNs)) return;
    entry.answered(result, stallMs, this.#now());
    const rtt = serverRttMs(result.rttMs, stallMs);
    entry.window.observeLate(slot.queryIndex, result.outcome, rtt ?? result.rttMs, this.#now(), {
      rttUsable: rtt !== undefined,
      expectNx: slot.query.expectRcode === 'NXDOMAIN',
      firstOfRun: result.sentAtNs === entry.runFirstSentAtNs,
    });
    // Not while Failing: answers a resumed server sends late measure its hang, not its latency.
    if (rtt !== undefined && !entry.window.failing) entry.deadline.observe(rtt);
    this.#noteFailing(entry);
  }

  /**
   * A failure our own loop stall kept out of the counts says nothing either way: ask again at once
   * (a few times in a row at most) rather than wait an interval, so short stalls on the prober's
   * side (CPU contention) do not slow detection down by whole intervals. Not after a stall of an
   * interval or more: the scheduler spreads the probes it missed over the next period, and a
   * burst sent while the process catches up would measure the backlog, not the server.
   */
  #retryUncounted(entry: TargetEntry, result: ProbeResult, stallMs: number): boolean {
    if (
      !this.settings.adaptiveTimeout ||
      result.outcome === 'success' ||
      entry.window.failing ||
      stallMs >= this.settings.intervalMs
    )
      return false;
    if (entry.uncountedRetries >= this.settings.thresholds.consecutiveFailures) return false;
    entry.uncountedRetries++;
    return true;
  }

  deadlineMs(slot: ProbeSlot<TargetEntry>): number {
    return this.settings.adaptiveTimeout ? slot.data.deadline.ms : this.settings.timeoutMs;
  }

  /** Assesses at once when a target enters or leaves Failing. */
  #noteFailing(entry: TargetEntry): void {
    const failing = entry.window.failing;
    if (failing !== entry.failing) {
      entry.failing = failing;
      if (failing) this.#episode++;
      this.#immediate ??= setImmediate(this.#assessSoon);
    }
  }

  /**
   * Assesses at once when a target answers for the first time, or since another entered Failing:
   * that the others still answer is evidence remediation waits for (a failure of one pod, not
   * the first sign of one every pod is about to show), and it should not wait for the next tick.
   * At most one assessment per target and Failing episode, so not at probe rate.
   */
  #noteAnswered(entry: TargetEntry): void {
    if (entry.answeredInEpisode === this.#episode) return;
    entry.answeredInEpisode = this.#episode;
    this.#immediate ??= setImmediate(this.#assessSoon);
  }

  readonly #assessSoon = (): void => {
    this.#immediate = undefined;
    if (this.#running) this.assessNow();
  };

  /** Assesses now and reports the result (with the target state changes since last time). */
  assessNow(): Assessment {
    const now = this.#now();
    const assessment = assess({
      targets: [...this.#entries.values()].map((e) => e.window.snapshot(now)),
      readiness: this.#options.readiness?.() ?? NO_READINESS,
      thresholds: this.settings.thresholds,
      ...(this.#last !== undefined ? { previous: this.#last } : {}),
      nowMs: now,
    });
    const changes: TargetChange[] = [];
    for (const t of assessment.targets) {
      const from = this.#states.get(t.identity.key) ?? 'Unknown';
      if (from !== t.state) {
        changes.push({ identity: t.identity, from, to: t.state, assessment: t });
        this.#states.set(t.identity.key, t.state);
      }
    }
    this.#last = assessment;
    this.#options.onAssessment(assessment, changes);
    return assessment;
  }
}

/** The server sent an answer (of any rcode): not a timeout, not a transport error. */
function answeredAtAll(result: ProbeResult): boolean {
  return result.outcome !== 'timeout' && result.outcome !== 'error';
}

/** When a result's answer arrived (hrtime ns), less our own loop stall it waited behind. */
function receivedAtNs(result: ProbeResult, stallMs: number): bigint {
  return result.sentAtNs + BigInt(Math.round(Math.max(0, result.rttMs - stallMs) * 1e6));
}

function sameIdentity(a: TargetIdentity, b: TargetIdentity): boolean {
  return a.kind === b.kind && a.pod === b.pod && a.address === b.address;
}
