/**
 * Anomaly detection over probe results.
 *
 * Two halves:
 * - `TargetWindow` keeps windowed statistics for one target, fed one observation at a time
 *   (O(1) per probe, constant memory). It mutates only itself and never reads the clock.
 * - `assess(...)` is a pure function from snapshots of every target (+ readiness results, which
 *   are I/O and gathered elsewhere) to target and probe states. This is where the rules live.
 *
 * Signals per target: ConsecutiveFailures, RttSpike, NxdomainRatio, LowSuccessRatio, NotReady,
 * ServfailConcentrated; per probe: ServfailSpread, AllTargetsFailing.
 *
 * Severity (DESIGN.md, DNSProbe): DNSUnavailable only when clients cannot resolve (the Service
 * target failing while the pods answer, every pod failing, or an upstream-wide fault); some pods
 * failing while the others and the Service answer is Degraded. A target leaves Failing only after
 * `recoverySuccesses` successes in a row.
 */
import type { ProbeOutcome } from './query';
import {
  BucketRing,
  LogHistogram,
  meanStd,
  RecentSamples,
  shannonEntropy,
  TimedSamples,
} from './stats';

export interface Thresholds {
  readonly consecutiveFailures: number;
  readonly rttSpikeSigma: number;
  readonly rttWindowMs: number;
  readonly nxdomainRatio: number;
  readonly nxdomainWindowMs: number;
  readonly servfailEntropyBits: number;
  /** Successes in a row a Failing target needs to leave Failing. */
  readonly recoverySuccesses: number;
}

export type TargetKind = 'Service' | 'Pod' | 'Address';

export interface TargetIdentity {
  /** "address:port", unique within a probe. */
  readonly key: string;
  readonly address: string;
  readonly kind: TargetKind;
  /** Pod name (kind Pod). */
  readonly pod?: string;
}

/** The signals a target can raise (NotReady: pods only). */
export const TARGET_SIGNALS = [
  'ConsecutiveFailures',
  'RttSpike',
  'NxdomainRatio',
  'LowSuccessRatio',
  'NotReady',
  'ServfailConcentrated',
] as const;
/** The probe-wide signals (Assessment.signals). */
export const PROBE_SIGNALS = ['ServfailSpread', 'AllTargetsFailing'] as const;
export type SignalName = (typeof TARGET_SIGNALS)[number] | (typeof PROBE_SIGNALS)[number];

export interface Signal {
  readonly signal: SignalName;
  readonly value: number;
  readonly threshold: number;
}

export type TargetState = 'Unknown' | 'Healthy' | 'Degraded' | 'Failing';
export type ProbeState = 'Unknown' | 'Healthy' | 'Degraded' | 'DNSUnavailable';
/**
 * Why the probe is DNSUnavailable (UpstreamFailure, ServiceFailure) or Degraded (PodFailure: some
 * pods failing; TargetsUnhealthy: anomalies short of failure).
 */
export type ProbeReason = 'UpstreamFailure' | 'ServiceFailure' | 'PodFailure' | 'TargetsUnhealthy';

/** Tuning that is not in the CRD: minimum evidence before a windowed signal may fire. */
export const DETECTOR_LIMITS = Object.freeze({
  /** RTT samples needed in the baseline before a spike can be called. */
  minBaselineSamples: 30,
  /** RTT samples needed in the recent window. */
  minRecentSamples: 5,
  /** The recent window the spike compares against the rest of rttWindow. */
  recentWindowMs: 1000,
  /** A spike must also be this many ms above the baseline mean (sub-ms noise on loopback). */
  minSpikeMs: 1,
  /** Answers needed in the short window for the NXDOMAIN ratio / success ratio. */
  minWindowAnswers: 10,
  /** Success share under which a target is Degraded (LowSuccessRatio). */
  minSuccessRatio: 0.9,
  /** A source whose answers are at least this share SERVFAIL counts as SERVFAILing. */
  servfailShare: 0.5,
});

// Short-window fields.
const F_TOTAL = 0;
const F_SUCCESS = 1;
const F_SERVFAIL = 2;
const F_ANSWERED = 3;
const F_NX_ELIGIBLE = 4;
const F_NXDOMAIN = 5;
const SHORT_FIELDS = 6;
// RTT-window fields.
const R_COUNT = 0;
const R_SUM = 1;
const R_SUMSQ = 2;

/** What `assess` needs from one target: plain data, cheap to build. */
export interface TargetSnapshot {
  readonly identity: TargetIdentity;
  /** At least one counted observation so far. */
  readonly observed: boolean;
  /** Successful probes since the target was added. */
  readonly successes: number;
  readonly consecutiveFailures: number;
  /**
   * Latched: set when the consecutive failures reach the threshold, cleared only after
   * `recoverySuccesses` successes in a row (and the run below the threshold again).
   */
  readonly failing: boolean;
  /** The run that set `failing` (its value in the ConsecutiveFailures signal while latched). */
  readonly failingRun: number;
  /** When the failure run that set `failing` began (ms, the window's clock). */
  readonly failingSinceMs?: number;
  /** When the target last answered successfully (ms, the window's clock). */
  readonly lastSuccessAtMs?: number;
  readonly lastError?: string;
  /** Counts over the short window (nxdomainWindow). */
  readonly window: {
    readonly total: number;
    readonly success: number;
    readonly servfail: number;
    /** Responses received (not timeouts or errors). */
    readonly answered: number;
    /** Responses to queries that do not expect NXDOMAIN. */
    readonly nxEligible: number;
    readonly nxdomain: number;
  };
  readonly rtt: {
    readonly baselineCount: number;
    readonly baselineMean: number;
    readonly baselineStd: number;
    readonly recentCount: number;
    readonly recentMean: number;
    /**
     * Median of the recent window; computed only when the recent mean is already more than
     * minSpikeMs above the baseline mean (it cannot be a spike otherwise), else undefined.
     */
    readonly recentMedian?: number;
  };
}

const ANSWERED: Readonly<Record<ProbeOutcome, boolean>> = {
  success: true,
  nxdomain: true,
  servfail: true,
  refused: true,
  mismatch: true,
  timeout: false,
  error: false,
};

/** Windowed statistics of one target. */
export class TargetWindow {
  readonly identity: TargetIdentity;
  readonly #streams: Int32Array;
  readonly #thresholds: Thresholds;
  #run = 0;
  #runStartedAtMs = 0;
  #successRun = 0;
  #failing = false;
  #failingRun = 0;
  #failingSinceMs = 0;
  #lastSuccessAtMs: number | undefined;
  #observed = false;
  #lastError: string | undefined;
  readonly #short: BucketRing;
  readonly #rtt: BucketRing;
  readonly #recentMs: number;
  readonly #recent = new RecentSamples(1024);
  readonly #timed = new TimedSamples(256);
  readonly #all = new LogHistogram();
  #probes = 0;
  #successes = 0;

  constructor(identity: TargetIdentity, queryCount: number, thresholds: Thresholds) {
    this.identity = identity;
    this.#thresholds = thresholds;
    this.#streams = new Int32Array(Math.max(1, queryCount));
    this.#short = new BucketRing(
      thresholds.nxdomainWindowMs,
      Math.max(50, thresholds.nxdomainWindowMs / 50),
      SHORT_FIELDS,
    );
    const width = Math.max(100, thresholds.rttWindowMs / 600);
    this.#rtt = new BucketRing(thresholds.rttWindowMs, width, 3);
    this.#recentMs = Math.max(DETECTOR_LIMITS.recentWindowMs, 2 * width);
  }

  /**
   * Records one counted probe result (lag-affected probes are not passed in). `rttUsable` is false
   * when event-loop lag may have inflated the RTT: the result counts, its RTT does not.
   */
  observe(
    query: number,
    outcome: ProbeOutcome,
    rttMs: number,
    atMs: number,
    flags: {
      readonly rttUsable: boolean;
      readonly expectNx: boolean;
      readonly detail?: string;
      /**
       * A timeout whose run does not yet show enough silence to latch Failing (the engine's
       * judgement: too little time covered, see ProbeEngine); it still counts in the run.
       */
      readonly silenceShort?: boolean;
    },
  ): void {
    this.#observed = true;
    this.#probes++;
    const ok = outcome === 'success';
    if (ok) {
      this.#successes++;
      this.#successRun++;
      this.#lastSuccessAtMs = atMs;
      this.#run = 0;
      this.#streams[query] = 0;
    } else {
      if (this.consecutiveFailures === 0) this.#runStartedAtMs = atMs;
      this.#successRun = 0;
      this.#run++;
      this.#streams[query]!++;
      this.#lastError = flags.detail ?? outcome;
    }
    this.#latch(flags.silenceShort === true);
    this.#short.add(atMs, F_TOTAL, 1);
    this.#answer(outcome, rttMs, atMs, flags);
  }

  /**
   * An answer that came after its probe was already counted as a timeout (it went past the
   * adaptive deadline but within the hard `timeout`): the server is alive, only slower than its
   * recent RTTs. A success ends the failure run and turns the timeout into a success in the
   * windowed counts; every late answer adds its RTT, so the adaptive deadline and the spike
   * detector see the slowdown. The answer to the first probe of the failure run that set a
   * Failing state (`firstOfRun`) withdraws it: the server answered that probe within the timeout,
   * so it was slow when the run began, not hung. Any other Failing state needs on-time successes
   * to end (the first probe of its run went unanswered for a whole timeout), and its late answers
   * add no RTT: a resumed server answering held queries measures its hang, not its latency.
   */
  observeLate(
    query: number,
    outcome: ProbeOutcome,
    rttMs: number,
    atMs: number,
    flags: {
      readonly rttUsable: boolean;
      readonly expectNx: boolean;
      readonly firstOfRun: boolean;
    },
  ): void {
    if (outcome === 'success') {
      this.#successes++;
      this.#lastSuccessAtMs = atMs;
      this.#run = 0;
      this.#streams[query] = 0;
      if (this.#failing && flags.firstOfRun) {
        this.#failing = false;
        this.#failingRun = 0;
      }
      this.#latch();
    }
    // Answers a hung server sends when it resumes measure the hang, not its latency.
    this.#answer(outcome, rttMs, atMs, { ...flags, rttUsable: flags.rttUsable && !this.#failing });
  }

  /** Sets or clears the Failing latch after a result (`held`: a run too short in time to set it). */
  #latch(held = false): void {
    const run = this.consecutiveFailures;
    const th = this.#thresholds;
    if (run >= th.consecutiveFailures) {
      if (held && !this.#failing) return;
      if (!this.#failing) this.#failingSinceMs = this.#runStartedAtMs;
      this.#failing = true;
      this.#failingRun = Math.max(this.#failingRun, run);
    } else if (this.#failing && this.#successRun >= th.recoverySuccesses) {
      this.#failing = false;
      this.#failingRun = 0;
    }
  }

  /** Windowed counts and RTT samples of a response (or of a timeout/error: counts only). */
  #answer(
    outcome: ProbeOutcome,
    rttMs: number,
    atMs: number,
    flags: { readonly rttUsable: boolean; readonly expectNx: boolean },
  ): void {
    const s = this.#short;
    if (outcome === 'success') s.add(atMs, F_SUCCESS, 1);
    if (outcome === 'servfail') s.add(atMs, F_SERVFAIL, 1);
    if (!ANSWERED[outcome]) return;
    s.add(atMs, F_ANSWERED, 1);
    if (!flags.expectNx) {
      s.add(atMs, F_NX_ELIGIBLE, 1);
      if (outcome === 'nxdomain') s.add(atMs, F_NXDOMAIN, 1);
    }
    if (flags.rttUsable) {
      this.#rtt.add(atMs, R_COUNT, 1);
      this.#rtt.add(atMs, R_SUM, rttMs);
      this.#rtt.add(atMs, R_SUMSQ, rttMs * rttMs);
      this.#recent.add(rttMs);
      this.#timed.add(atMs, rttMs);
      this.#all.add(rttMs);
    }
  }

  /** Latched Failing state (see TargetSnapshot.failing). */
  get failing(): boolean {
    return this.#failing;
  }

  /**
   * The target's consecutive failures: the longest current run of failures in one query's stream,
   * or across all its queries in completion order, whichever is longer. Per stream, so one query
   * failing everywhere still counts while the others succeed; across streams, so a dead server is
   * seen after `threshold` failures of any mix of queries (faster with several queries).
   */
  get consecutiveFailures(): number {
    let max = this.#run;
    for (const n of this.#streams) if (n > max) max = n;
    return max;
  }

  snapshot(nowMs: number): TargetSnapshot {
    const s = this.#short;
    const r = this.#rtt;
    const recentMs = this.#recentMs;
    const baselineCount = r.sum(nowMs, R_COUNT, undefined, recentMs);
    const baseline = meanStd(
      baselineCount,
      r.sum(nowMs, R_SUM, undefined, recentMs),
      r.sum(nowMs, R_SUMSQ, undefined, recentMs),
    );
    const recentCount = r.sum(nowMs, R_COUNT, recentMs);
    const recentMean = recentCount > 0 ? r.sum(nowMs, R_SUM, recentMs) / recentCount : 0;
    const recentMedian =
      recentCount >= DETECTOR_LIMITS.minRecentSamples &&
      recentMean > baseline.mean + DETECTOR_LIMITS.minSpikeMs
        ? this.#timed.medianSince(nowMs - recentMs)
        : undefined;
    return {
      identity: this.identity,
      observed: this.#observed,
      successes: this.#successes,
      consecutiveFailures: this.consecutiveFailures,
      failing: this.#failing,
      failingRun: this.#failingRun,
      ...(this.#failing ? { failingSinceMs: this.#failingSinceMs } : {}),
      ...(this.#lastSuccessAtMs !== undefined ? { lastSuccessAtMs: this.#lastSuccessAtMs } : {}),
      ...(this.#lastError !== undefined ? { lastError: this.#lastError } : {}),
      window: {
        total: s.sum(nowMs, F_TOTAL),
        success: s.sum(nowMs, F_SUCCESS),
        servfail: s.sum(nowMs, F_SERVFAIL),
        answered: s.sum(nowMs, F_ANSWERED),
        nxEligible: s.sum(nowMs, F_NX_ELIGIBLE),
        nxdomain: s.sum(nowMs, F_NXDOMAIN),
      },
      rtt: {
        baselineCount,
        baselineMean: baseline.mean,
        baselineStd: baseline.std,
        recentCount,
        recentMean,
        ...(recentMedian !== undefined ? { recentMedian } : {}),
      },
    };
  }

  /** p50/p99 RTT of the most recent (up to 1,024) answers, for status. */
  recentPercentiles(): { p50Ms?: number; p99Ms?: number } {
    const [p50, p99] = this.#recent.quantiles([0.5, 0.99]);
    return {
      ...(p50 !== undefined ? { p50Ms: p50 } : {}),
      ...(p99 !== undefined ? { p99Ms: p99 } : {}),
    };
  }

  /** Totals since the target was first probed (the CLI summary). */
  summary(): { probes: number; successRatio: number; p50Ms?: number; p99Ms?: number } {
    const p50 = this.#all.quantile(0.5);
    const p99 = this.#all.quantile(0.99);
    return {
      probes: this.#probes,
      successRatio: this.#probes === 0 ? 0 : this.#successes / this.#probes,
      ...(p50 !== undefined ? { p50Ms: p50 } : {}),
      ...(p99 !== undefined ? { p99Ms: p99 } : {}),
    };
  }
}

// --- the pure assessment ---

export interface TargetAssessment {
  readonly identity: TargetIdentity;
  readonly state: TargetState;
  readonly consecutiveFailures: number;
  readonly successRatio?: number;
  readonly lastError?: string;
  /** Readiness of a pod target: true / false, undefined when unknown or not a pod. */
  readonly ready?: boolean;
  readonly signals: readonly Signal[];
  /** When the failure run that made it Failing began (the engine's clock, ms). */
  readonly failingSinceMs?: number;
  /** How long ago that was, ms (when the input has `nowMs`). */
  readonly failingForMs?: number;
  /** When it last answered successfully (the engine's clock, ms). */
  readonly lastSuccessAtMs?: number;
  /**
   * Service targets: the current failure episode (keyed by when it began) is explained by a
   * failing pod, so it is Degraded, not Failing.
   */
  readonly explainedSince?: number;
}

export interface Assessment {
  readonly state: ProbeState;
  /** Set for DNSUnavailable and Degraded. */
  readonly reason?: ProbeReason;
  readonly targets: readonly TargetAssessment[];
  /** Probe-wide signals (ServfailSpread, AllTargetsFailing). */
  readonly signals: readonly Signal[];
  /** Entropy (bits) of SERVFAIL sources in the short window, when there were enough SERVFAILs. */
  readonly servfailEntropy?: number;
  /** Leads with the cause. */
  readonly message: string;
}

export interface AssessInput {
  readonly targets: readonly TargetSnapshot[];
  /** Readiness per target key, for pod targets; absent or undefined = unknown. */
  readonly readiness: ReadonlyMap<string, boolean | undefined>;
  readonly thresholds: Thresholds;
  /** The previous assessment: a Service failure once explained by pods stays explained. */
  readonly previous?: Assessment;
  /** Now, on the clock of the snapshots (for `failingForMs`). */
  readonly nowMs?: number;
}

export function assess(input: AssessInput): Assessment {
  const { thresholds } = input;
  const servfail = servfailSignals(input.targets, thresholds);
  const own = input.targets.map((t) =>
    assessTarget(
      t,
      input.readiness.get(t.identity.key),
      thresholds,
      servfail.concentrated.get(t.identity.key),
      input.nowMs,
    ),
  );
  const targets = judgeServiceTargets(input.targets, own, input.previous);
  const known = targets.filter((t) => t.state !== 'Unknown');
  const probeSignals: Signal[] = [];
  if (servfail.spread !== undefined) probeSignals.push(servfail.spread);
  const failing = known.filter((t) => t.state === 'Failing');
  const pods = known.filter((t) => t.identity.kind === 'Pod');
  const failingPods = pods.filter((t) => t.state === 'Failing');
  const everyPod = pods.length > 0 && failingPods.length === pods.length;
  if (known.length > 0 && (failing.length === known.length || everyPod)) {
    probeSignals.push({
      signal: 'AllTargetsFailing',
      value: everyPod ? failingPods.length : failing.length,
      threshold: everyPod ? pods.length : known.length,
    });
  }
  const base = {
    targets,
    signals: probeSignals,
    ...(servfail.entropy !== undefined ? { servfailEntropy: servfail.entropy } : {}),
  };
  if (known.length === 0) return { ...base, state: 'Unknown', message: 'no probe results yet' };
  if (probeSignals.length > 0) {
    const why =
      servfail.spread !== undefined
        ? `SERVFAIL spread over servers (entropy ${servfail.spread.value.toFixed(2)} bits >= ${thresholds.servfailEntropyBits})`
        : everyPod
          ? `every CoreDNS pod failing (${failingPods.length}/${pods.length})`
          : `every target failing (${failing.length}/${known.length})`;
    return {
      ...base,
      state: 'DNSUnavailable',
      reason: 'UpstreamFailure',
      message: `${why}${lastErrors(failing)}: an upstream or network fault a pod restart cannot fix`,
    };
  }
  const service = failing.find((t) => t.identity.kind === 'Service');
  if (service !== undefined) {
    return {
      ...base,
      state: 'DNSUnavailable',
      reason: 'ServiceFailure',
      message:
        `Service address ${service.identity.address} failing its probes${lastErrors([service])} ` +
        `while every CoreDNS pod answers: the Service path (kube-proxy, network policy) is broken`,
    };
  }
  if (failingPods.length > 0) {
    const notReady = failingPods.filter((t) => t.ready === false).length;
    return {
      ...base,
      state: 'Degraded',
      reason: 'PodFailure',
      message:
        `${failingPods.map(who).join(', ')} failing ${failingPods.length === 1 ? 'its' : 'their'} probes` +
        `${lastErrors(failingPods)}${notReady > 0 ? ` (${notReady} not ready)` : ''}; ` +
        `${pods.length - failingPods.length} of ${pods.length} pods${targets.some((t) => t.identity.kind === 'Service') ? ' and the Service' : ''} answer`,
    };
  }
  const unhealthy = known.filter((t) => t.state !== 'Healthy');
  if (unhealthy.length > 0) {
    return {
      ...base,
      state: 'Degraded',
      reason: 'TargetsUnhealthy',
      message: unhealthy
        .map((t) => `${who(t)} ${t.state}: ${describeSignals(t.signals)}`)
        .join('; '),
    };
  }
  return { ...base, state: 'Healthy', message: `${known.length} targets healthy` };
}

function who(t: TargetAssessment): string {
  return t.identity.pod !== undefined
    ? `pod ${t.identity.pod} (${t.identity.address})`
    : `${t.identity.kind === 'Service' ? 'Service address' : 'server'} ${t.identity.address}`;
}

/** ", last error timeout" for the distinct last errors of failing targets. */
function lastErrors(targets: readonly TargetAssessment[]): string {
  const errors = [...new Set(targets.map((t) => t.lastError).filter((e) => e !== undefined))];
  return errors.length === 0 ? '' : ` (last error ${errors.join(', ')})`;
}

/**
 * A Service target load-balances over the pods, so its failures while a pod fails are that pod's,
 * not the Service's: the Service is Failing only when its failure run is not explained by pods,
 * i.e. no pod target is failing and every pod has answered since the run began (a pod that has
 * not may be hanging, not yet detected). Once explained, an episode stays explained until the
 * Service recovers, so the eviction of the failing pod does not turn it into a Service failure.
 */
function judgeServiceTargets(
  snapshots: readonly TargetSnapshot[],
  own: readonly TargetAssessment[],
  previous: Assessment | undefined,
): TargetAssessment[] {
  const pods = own
    .map((t, i) => ({ t, s: snapshots[i]! }))
    .filter(({ t }) => t.identity.kind === 'Pod' && t.state !== 'Unknown');
  if (pods.length === 0) return [...own];
  return own.map((t, i) => {
    const since = snapshots[i]!.failingSinceMs;
    if (t.identity.kind !== 'Service' || t.state !== 'Failing' || since === undefined) return t;
    const before = previous?.targets.find((p) => p.identity.key === t.identity.key);
    if (before?.explainedSince === since || pods.some(({ t: p }) => p.state === 'Failing'))
      return { ...t, state: 'Degraded', explainedSince: since };
    // A pod not heard from since the run began may be hanging, not yet detected: wait for it.
    const pending = pods.some(({ s }) => (s.lastSuccessAtMs ?? -Infinity) < since);
    return pending ? { ...t, state: 'Degraded' } : t;
  });
}

export function describeSignals(signals: readonly Signal[]): string {
  return signals
    .map((s) => `${s.signal}=${round(s.value)} (threshold ${round(s.threshold)})`)
    .join(', ');
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

function assessTarget(
  t: TargetSnapshot,
  ready: boolean | undefined,
  th: Thresholds,
  servfail: Signal | undefined,
  nowMs: number | undefined,
): TargetAssessment {
  const w = t.window;
  const successRatio = w.total > 0 ? w.success / w.total : undefined;
  const base = {
    identity: t.identity,
    consecutiveFailures: t.consecutiveFailures,
    ...(successRatio !== undefined ? { successRatio } : {}),
    ...(t.lastError !== undefined ? { lastError: t.lastError } : {}),
    ...(ready !== undefined && t.identity.kind === 'Pod' ? { ready } : {}),
    ...(t.failingSinceMs !== undefined ? { failingSinceMs: t.failingSinceMs } : {}),
    ...(t.failingSinceMs !== undefined && nowMs !== undefined
      ? { failingForMs: nowMs - t.failingSinceMs }
      : {}),
    ...(t.lastSuccessAtMs !== undefined ? { lastSuccessAtMs: t.lastSuccessAtMs } : {}),
  };
  if (!t.observed) return { ...base, state: 'Unknown', signals: [] };
  const signals = targetSignals(t, successRatio, th);
  if (servfail !== undefined) signals.push(servfail);
  if (t.identity.kind === 'Pod' && ready === false)
    signals.push({ signal: 'NotReady', value: 0, threshold: 1 });
  // Until a target has answered once, "no anomaly" is not evidence of health.
  const state: TargetState = t.failing
    ? 'Failing'
    : signals.length > 0
      ? 'Degraded'
      : t.successes > 0
        ? 'Healthy'
        : 'Unknown';
  return { ...base, state, signals };
}

/** The target's own signals from its windows: failures, RTT spike, NXDOMAIN and success ratios. */
function targetSignals(
  t: TargetSnapshot,
  successRatio: number | undefined,
  th: Thresholds,
): Signal[] {
  const w = t.window;
  const signals: Signal[] = [];
  if (t.failing) {
    signals.push({
      signal: 'ConsecutiveFailures',
      value: Math.max(t.failingRun, t.consecutiveFailures),
      threshold: th.consecutiveFailures,
    });
  }
  const spike = rttSpike(t.rtt, th.rttSpikeSigma);
  if (spike !== undefined) signals.push(spike);
  if (
    w.nxEligible >= DETECTOR_LIMITS.minWindowAnswers &&
    w.nxdomain / w.nxEligible >= th.nxdomainRatio
  ) {
    signals.push({
      signal: 'NxdomainRatio',
      value: w.nxdomain / w.nxEligible,
      threshold: th.nxdomainRatio,
    });
  }
  if (
    successRatio !== undefined &&
    w.total >= DETECTOR_LIMITS.minWindowAnswers &&
    successRatio < DETECTOR_LIMITS.minSuccessRatio
  ) {
    signals.push({
      signal: 'LowSuccessRatio',
      value: successRatio,
      threshold: DETECTOR_LIMITS.minSuccessRatio,
    });
  }
  return signals;
}

/**
 * RTT spike: the recent RTT above the baseline mean + k sigma of the rest of rttWindow (and at
 * least minSpikeMs above it), for both the recent mean and the recent median: the typical answer
 * got slower, not one straggler (one 15 ms answer among ten would lift a mean past the threshold).
 * The value reported is the recent median.
 */
export function rttSpike(rtt: TargetSnapshot['rtt'], sigma: number): Signal | undefined {
  if (
    rtt.baselineCount < DETECTOR_LIMITS.minBaselineSamples ||
    rtt.recentCount < DETECTOR_LIMITS.minRecentSamples
  ) {
    return undefined;
  }
  const threshold = Math.max(
    rtt.baselineMean + sigma * rtt.baselineStd,
    rtt.baselineMean + DETECTOR_LIMITS.minSpikeMs,
  );
  const median = rtt.recentMedian;
  return rtt.recentMean > threshold && median !== undefined && median > threshold
    ? { signal: 'RttSpike', value: median, threshold }
    : undefined;
}

/**
 * SERVFAIL source entropy over the short window, across server targets (pods or fixed addresses;
 * the Service address is not a source of its own, it load-balances over the pods).
 * Low entropy = concentrated on few servers (a pod problem); high entropy, or every server
 * mostly SERVFAILing, = spread (upstream).
 */
export function servfailSignals(
  targets: readonly TargetSnapshot[],
  th: Thresholds,
): { spread?: Signal; concentrated: Map<string, Signal>; entropy?: number } {
  const sources = targets.filter((t) => t.identity.kind !== 'Service');
  const concentrated = new Map<string, Signal>();
  const counts = sources.map((t) => t.window.servfail);
  const total = counts.reduce((a, b) => a + b, 0);
  if (total < th.consecutiveFailures) return { concentrated };
  const entropy = shannonEntropy(counts);
  const mostlyServfail = (t: TargetSnapshot): boolean =>
    t.window.answered > 0 && t.window.servfail / t.window.answered >= DETECTOR_LIMITS.servfailShare;
  const spread =
    (entropy >= th.servfailEntropyBits && counts.filter((c) => c > 0).length >= 2) ||
    (sources.length >= 2 && sources.every(mostlyServfail));
  if (spread) {
    return {
      spread: { signal: 'ServfailSpread', value: entropy, threshold: th.servfailEntropyBits },
      concentrated,
      entropy,
    };
  }
  for (const t of sources) {
    if (t.window.servfail >= th.consecutiveFailures) {
      concentrated.set(t.identity.key, {
        signal: 'ServfailConcentrated',
        value: entropy,
        threshold: th.servfailEntropyBits,
      });
    }
  }
  return { concentrated, entropy };
}
