/**
 * Everything that runs for one DNSProbe on the leader: the probe engine, readiness checks of its
 * CoreDNS pods, metrics, Events, remediation and status writes. The controller creates one per
 * DNSProbe generation and feeds it targets from the caches.
 *
 * Rates: probes run at spec rate; assessment every 100 ms; Events, audit lines and remediation
 * counters only when a decision or a state changes (Events aggregated per target and reason by the
 * recorder); status on a change of state, within a budget, and otherwise every STATUS_PERIOD_MS
 * (status-writer.ts).
 *
 * The eviction history the hourly cap counts lives in status.evictions: a runtime starts from the
 * live status's and from the runtime it replaces (a spec edit), so neither an edit nor a failover
 * resets the cap.
 */
import type { DNSProbe, DNSProbeStatus } from '../api/types';
import { describeError } from '../runtime/errors';
import type { EventSink, EventTarget } from '../runtime/events';
import type { Logger } from '../runtime/logger';
import type { Metrics } from '../runtime/metrics';
import type { Assessment, TargetAssessment } from './detector';
import { ProbeEngine, type TargetChange } from './engine';
import type { LagSource } from './loop-lag';
import { ProbeMetricsRecorder } from './probe-metrics';
import {
  evictionRecords,
  probeVerdict,
  type DiscoveryProblem,
  type ProbeVerdict,
  type RemediationStatus,
} from './probe-status';
import { ReadinessChecker, type ReadinessAnswer } from './readiness';
import {
  decideRemediation,
  decisionKey,
  pruneHistory,
  settleMsFor,
  type ActDecision,
  type Decision,
  type EvictionApi,
  type EvictionRecord,
  type PodFacts,
  type RemediationHistory,
  type Settle,
} from './remediation';
import type { TokenBucket } from './scheduler';
import type { ProbeSettings } from './settings';
import { StatusWriter } from './status-writer';
import type { Discovery } from './targets';

/** Wait before trying an eviction again after a PDB refusal or an API error. */
export const EVICTION_RETRY_MS = 10_000;

export interface ProbeRuntimeOptions {
  readonly key: string;
  readonly regarding: EventTarget;
  readonly generation: number | undefined;
  readonly settings: ProbeSettings;
  readonly lag: LagSource;
  readonly namespaceBucket?: TokenBucket;
  readonly metrics: Metrics;
  readonly events: EventSink;
  readonly logger: Logger;
  /** Who acts, for the audit log (the operator's identity). */
  readonly identity: string;
  readonly eviction: EvictionApi;
  /** Writes the status: `compute` gets the live object's status. */
  readonly writeStatus: (
    compute: (live: DNSProbe) => DNSProbeStatus | undefined,
  ) => Promise<unknown>;
  readonly podFacts: (name: string) => PodFacts | undefined;
  /** The status when the runtime starts (seeds the eviction history: cooldown, hourly cap). */
  readonly initialStatus?: DNSProbeStatus;
  /** The evictions of the runtime this one replaces (its last may not be in status yet). */
  readonly evictions?: readonly EvictionRecord[];
  /** Wall-clock ms. */
  readonly now?: () => number;
  readonly statusPeriodMs?: number;
  /** Replaces the HTTP readiness check (tests). */
  readonly readinessCheck?: (url: string, timeoutMs: number) => Promise<ReadinessAnswer>;
  /** The engine's periodic assessment, ms (default 100; tests lengthen it). */
  readonly assessEveryMs?: number;
}

export class ProbeRuntime {
  readonly key: string;
  readonly generation: number | undefined;
  readonly #o: ProbeRuntimeOptions;
  readonly #log: Logger;
  readonly #engine: ProbeEngine;
  readonly #readiness: ReadinessChecker;
  readonly #metrics: ProbeMetricsRecorder;
  readonly #now: () => number;
  #problems: readonly DiscoveryProblem[] = [];
  #problemKey = '';
  #history: RemediationHistory;
  #lastDecision = '';
  #retryAtMs: number | undefined;
  #evicting = false;
  /** How old a candidate's failure must be (remediation.ts): the timeout, or a few intervals. */
  readonly #settle: Settle;
  /** Assesses again when a candidate's failure has settled (#reassessWhenSettled). */
  #settleTimer: NodeJS.Timeout | undefined;
  #rem: RemediationStatus;
  #verdictKey = 'Unknown/Starting';
  readonly #status: StatusWriter;
  #stopped = false;

  constructor(o: ProbeRuntimeOptions) {
    this.#o = o;
    this.key = o.key;
    this.generation = o.generation;
    this.#now = o.now ?? Date.now;
    this.#log = o.logger.child({ controller: 'dnsprobe', key: o.key });
    this.#metrics = new ProbeMetricsRecorder(o.metrics, o.key);
    this.#status = new StatusWriter({
      generation: o.generation,
      writeStatus: o.writeStatus,
      ...(o.statusPeriodMs !== undefined ? { periodMs: o.statusPeriodMs } : {}),
      now: this.#now,
      onError: (err) =>
        this.#log.warn({ err: describeError(err) }, 'could not write DNSProbe status'),
    });
    const last = o.initialStatus?.lastRemediation;
    this.#history = {
      evictions: mergeEvictions(evictionRecords(o.initialStatus), o.evictions ?? []),
    };
    this.#settle = {
      hungMs: o.settings.timeoutMs,
      answeringMs: o.settings.intervalMs * o.settings.thresholds.consecutiveFailures,
    };
    this.#rem = {
      remediating: false,
      reason: o.settings.remediation.mode === 'Off' ? 'RemediationOff' : 'Idle',
      message:
        o.settings.remediation.mode === 'Off'
          ? 'remediation mode is Off'
          : 'no pod needs remediation',
      ...(last !== undefined ? { last } : {}),
    };
    this.#readiness = new ReadinessChecker({
      port: o.settings.readiness.port,
      path: o.settings.readiness.path,
      // A hung pod accepts the connection and never answers: "not ready" is this timeout (each
      // pod's own, learnt, with adaptiveTimeout), seen on checks begun half a probe interval
      // apart with our own loop not stalled (readiness.ts).
      timeoutMs: Math.min(1000, Math.max(100, o.settings.timeoutMs)),
      adaptive: o.settings.adaptiveTimeout,
      confirmApartMs: o.settings.intervalMs / 2,
      lag: o.lag,
      ...(o.readinessCheck !== undefined ? { check: o.readinessCheck } : {}),
      periodMs: 1000,
      onChange: () => {
        if (!this.#stopped) this.#engine.assessNow();
      },
    });
    this.#engine = new ProbeEngine({
      settings: o.settings,
      lag: o.lag,
      ...(o.namespaceBucket !== undefined ? { namespaceBucket: o.namespaceBucket } : {}),
      observer: this.#metrics,
      readiness: () => this.#readiness.snapshot(),
      onAssessment: (a, changes) => this.#onAssessment(a, changes),
      ...(o.assessEveryMs !== undefined ? { assessEveryMs: o.assessEveryMs } : {}),
      // A pod's first failure: ask its ready endpoint now, while the confirmations run.
      onSuspect: (entry) => {
        if (entry.identity.kind === 'Pod') this.#readiness.checkNow(entry.target.key);
      },
    });
  }

  /** The evictions this runtime knows of (handed to the runtime that replaces it). */
  get evictions(): readonly EvictionRecord[] {
    return this.#history.evictions;
  }

  /** Status writes made so far (tests). */
  get statusWrites(): number {
    return this.#status.writes;
  }

  get engine(): ProbeEngine {
    return this.#engine;
  }

  start(): void {
    this.#engine.start();
    this.#readiness.start();
  }

  /** Stops probing; with `clearMetrics` (DNSProbe deleted) its series go too. */
  stop(clearMetrics: boolean): void {
    this.#stopped = true;
    this.#engine.stop();
    this.#readiness.stop();
    clearTimeout(this.#settleTimer);
    this.#settleTimer = undefined;
    if (clearMetrics) this.#metrics.clear();
  }

  /** Keys of the pod targets probed now (discovery keeps them while they exist). */
  podTargetKeys(): Set<string> {
    return new Set(
      this.#engine
        .entries()
        .filter((e) => e.identity.kind === 'Pod')
        .map((e) => e.target.key),
    );
  }

  setTargets(discovery: Discovery): void {
    this.#setProblems(discovery.problems);
    this.#engine.setTargets(discovery.targets);
    this.#readiness.setTargets(
      discovery.targets
        .filter((t) => t.identity.kind === 'Pod')
        .map((t) => ({ key: t.target.key, address: t.target.address, ...t.readiness })),
    );
    this.#metrics.retainTargets(new Set(discovery.targets.map((t) => t.identity.address)));
  }

  /** A new set of discovery problems: one Warning per problem, and the verdict re-evaluated. */
  #setProblems(problems: readonly DiscoveryProblem[]): void {
    this.#problems = problems;
    const key = problems.map((p) => `${p.reason}:${p.message}`).join('|');
    if (key === this.#problemKey) return;
    this.#problemKey = key;
    for (const p of problems) {
      this.#o.events.emit({
        regarding: this.#o.regarding,
        type: 'Warning',
        reason: p.reason,
        action: 'Probe',
        note: p.message,
      });
    }
    // No target to assess: the verdict (e.g. ServiceNotFound) still goes to status and metrics.
    if (!this.#stopped && this.#engine.last !== undefined) this.#engine.assessNow();
    else if (!this.#stopped && problems.length > 0) this.#onVerdict(undefined);
  }

  // --- every assessment (about 10 per second) ---

  #onAssessment(a: Assessment, changes: readonly TargetChange[]): void {
    if (this.#stopped) return;
    for (const change of changes) this.#onTargetChange(change);
    this.#onVerdict(a);
    this.#remediate(a);
    this.#maybeWriteStatus(a);
  }

  #onVerdict(a: Assessment | undefined): void {
    const v = probeVerdict(a, this.#problems);
    this.#metrics.onVerdict(a, v.state === 'DNSUnavailable');
    const key = `${v.state}/${v.reason}`;
    if (key === this.#verdictKey) return;
    const from = this.#verdictKey;
    this.#verdictKey = key;
    this.#onProbeChange(from, v);
    if (a === undefined) this.#maybeWriteStatus(undefined);
  }

  #onTargetChange(change: TargetChange): void {
    const t = change.assessment;
    if (t.state === 'Failing' && t.identity.kind === 'Pod')
      this.#readiness.checkNow(t.identity.key);
    if (change.from === 'Unknown' && change.to === 'Healthy') return; // startup, not news
    if (change.to === 'Unknown') return;
    // One Event series per target and reason (aggregateBy), with a stable note (no counts or
    // values): the recorder raises its count instead of posting a new Event (at most one write a
    // minute).
    this.#o.events.emit({
      regarding: this.#o.regarding,
      type: change.to === 'Healthy' ? 'Normal' : 'Warning',
      reason: change.to === 'Healthy' ? 'TargetRecovered' : `Target${change.to}`,
      action: 'Probe',
      note: targetNote(t),
      aggregateBy: t.identity.address,
    });
  }

  #onProbeChange(from: string, v: ProbeVerdict): void {
    if (from.startsWith('Unknown/') && v.state === 'Healthy') return;
    if (v.state === 'Unknown') return;
    this.#log.info(
      { from, to: `${v.state}/${v.reason}`, message: v.message },
      'DNSProbe state changed',
    );
    this.#o.events.emit({
      regarding: this.#o.regarding,
      type: v.state === 'Healthy' ? 'Normal' : 'Warning',
      reason: v.state === 'Healthy' ? 'Recovered' : v.reason,
      action: 'Probe',
      note: v.message,
    });
  }

  // --- remediation ---

  #remediate(a: Assessment): void {
    if (this.#evicting) return;
    const now = this.#now();
    const inProgress = this.#history.inProgress;
    const live = new Map<string, PodFacts>();
    if (inProgress !== undefined) {
      const facts = this.#o.podFacts(inProgress.pod);
      if (facts !== undefined) live.set(inProgress.pod, facts);
    }
    this.#history = pruneHistory(this.#history, live, now);
    if (inProgress !== undefined && this.#history.inProgress === undefined)
      this.#setIdle('evicted pod is gone');
    const pods = new Map<string, PodFacts>();
    for (const t of a.targets) {
      const name = t.identity.pod;
      if (t.identity.kind !== 'Pod' || name === undefined) continue;
      const facts = this.#o.podFacts(name);
      if (facts !== undefined) pods.set(name, facts);
    }
    const decision = decideRemediation({
      settings: this.#o.settings.remediation,
      assessment: a,
      pods,
      history: this.#history,
      nowMs: now,
      settle: this.#settle,
    });
    if (decision.kind === 'none') this.#reassessWhenSettled(a);
    const key = decisionKey(decision);
    const retry =
      decision.kind === 'evict' && this.#retryAtMs !== undefined && now >= this.#retryAtMs;
    if (key === this.#lastDecision && !retry) return;
    this.#lastDecision = key;
    this.#retryAtMs = undefined;
    this.#record(decision);
    if (decision.kind === 'evict') void this.#evict(decision);
  }

  /**
   * A candidate (Failing, not ready) whose failure is still settling is assessed again the moment
   * it has settled, not at the next tick: the tick would add up to its period to an eviction.
   */
  #reassessWhenSettled(a: Assessment): void {
    if (this.#settleTimer !== undefined) return;
    let wait = Infinity;
    for (const t of a.targets) {
      if (t.state !== 'Failing' || t.ready !== false || t.failingForMs === undefined) continue;
      const left = settleMsFor(t, this.#settle) - t.failingForMs;
      if (left > 0 && left < wait) wait = left;
    }
    if (wait === Infinity) return;
    this.#settleTimer = setTimeout(() => {
      this.#settleTimer = undefined;
      if (!this.#stopped) this.#engine.assessNow();
    }, Math.ceil(wait));
    this.#settleTimer.unref();
  }

  /** The audit line, Event, counter and status for a new decision. */
  #record(d: Decision): void {
    if (d.kind === 'none') {
      if (!this.#rem.remediating) this.#setIdle('no pod needs remediation');
      return;
    }
    const pod = d.kind === 'refuse' ? d.pod : d.pod.name;
    const why = d.kind === 'refuse' ? d.message : d.reason;
    const what =
      d.kind === 'refuse'
        ? `refuse (${d.reason})`
        : d.kind === 'dryRun'
          ? 'would evict (DryRun)'
          : 'evict';
    this.#log.info(
      {
        audit: { who: this.#o.identity, probe: this.#o.key, what, pod, why, evidence: d.evidence },
      },
      'remediation decision',
    );
    if (d.kind === 'evict') return; // Event, counter and status follow the API's answer
    const reason = d.kind === 'refuse' ? d.reason : 'DryRun';
    this.#o.events.emit({
      regarding: this.#o.regarding,
      type: d.kind === 'refuse' && d.reason !== 'RemediationOff' ? 'Warning' : 'Normal',
      reason: d.kind === 'refuse' ? `Remediation${d.reason}` : 'DryRunEviction',
      action: 'Remediate',
      note:
        d.kind === 'refuse'
          ? `not evicting pod ${pod ?? ''}: ${why}`
          : `would evict pod ${pod ?? ''}: ${why}`,
    });
    this.#metrics.remediation(d.kind === 'refuse' ? `refused_${snake(d.reason)}` : 'dry_run');
    // While an eviction is in progress the condition keeps saying so.
    if (this.#history.inProgress !== undefined) return;
    this.#rem = {
      ...this.#rem,
      remediating: false,
      reason,
      message: d.kind === 'refuse' ? why : `would evict pod ${pod ?? ''}: ${why}`,
    };
  }

  async #evict(d: ActDecision): Promise<void> {
    this.#evicting = true;
    const started = this.#now();
    try {
      const result = await this.#o.eviction.evict(d.pod);
      if (this.#stopped) return;
      const audit = {
        who: this.#o.identity,
        probe: this.#o.key,
        pod: d.pod.name,
        result: result.kind,
      };
      this.#log.info(
        { audit: { ...audit, ...('message' in result ? { message: result.message } : {}) } },
        'eviction result',
      );
      switch (result.kind) {
        case 'evicted': {
          const record = {
            pod: d.pod.name,
            ...(d.pod.uid !== undefined ? { uid: d.pod.uid } : {}),
            atMs: started,
          };
          this.#history = { evictions: [...this.#history.evictions, record], inProgress: record };
          const last = { pod: d.pod.name, time: new Date(started).toISOString(), reason: d.reason };
          this.#rem = {
            remediating: true,
            reason: 'Evicting',
            message: `evicted pod ${d.pod.name}: ${d.reason}`,
            last,
          };
          this.#metrics.remediation('evicted');
          this.#o.events.emit({
            regarding: this.#o.regarding,
            type: 'Normal',
            reason: 'Evicted',
            action: 'Remediate',
            note: `evicted pod ${d.pod.name}: ${d.reason}`,
          });
          return;
        }
        case 'blocked':
        case 'failed': {
          this.#retryAtMs = this.#now() + EVICTION_RETRY_MS;
          const reason = result.kind === 'blocked' ? 'EvictionBlocked' : 'EvictionFailed';
          const message =
            result.kind === 'blocked'
              ? `eviction of pod ${d.pod.name} refused by a PodDisruptionBudget: ${result.message}`
              : `eviction of pod ${d.pod.name} failed: ${result.message}`;
          this.#rem = { ...this.#rem, remediating: false, reason, message };
          this.#metrics.remediation(result.kind === 'blocked' ? 'blocked_pdb' : 'failed');
          this.#o.events.emit({
            regarding: this.#o.regarding,
            type: 'Warning',
            reason,
            action: 'Remediate',
            note: message,
          });
          return;
        }
        case 'gone':
          this.#lastDecision = '';
          return;
      }
    } catch (err) {
      this.#retryAtMs = this.#now() + EVICTION_RETRY_MS;
      this.#log.error({ err: describeError(err), pod: d.pod.name }, 'eviction failed');
    } finally {
      this.#evicting = false;
    }
  }

  #setIdle(message: string): void {
    const off = this.#o.settings.remediation.mode === 'Off';
    this.#rem = {
      ...this.#rem,
      remediating: false,
      reason: off ? 'RemediationOff' : 'Idle',
      message: off ? 'remediation mode is Off' : message,
    };
  }

  // --- status ---

  #maybeWriteStatus(a: Assessment | undefined): void {
    if (this.#stopped) return;
    this.#status.offer(a, this.#rem, this.#problems, () => ({
      percentiles: new Map(
        this.#engine.entries().map((e) => [e.target.key, e.window.recentPercentiles()]),
      ),
      evictions: this.#history.evictions,
    }));
  }
}

/**
 * "pod coredns-x (10.244.0.7) Failing: ConsecutiveFailures; last error timeout": the state's main
 * signal only (the others come and go), so repeats carry the same note.
 */
function targetNote(t: TargetAssessment): string {
  const who =
    t.identity.pod !== undefined
      ? `pod ${t.identity.pod} (${t.identity.address})`
      : `${t.identity.kind === 'Service' ? 'Service address' : 'server'} ${t.identity.address}`;
  const main = t.signals.find((x) => x.signal === 'ConsecutiveFailures') ?? t.signals[0];
  const error =
    t.state === 'Failing' && t.lastError !== undefined ? `; last error ${t.lastError}` : '';
  return `${who} ${t.state}${main !== undefined ? `: ${main.signal}` : ''}${error}`;
}

/** Two eviction histories as one, oldest first, without duplicates. */
function mergeEvictions(
  a: readonly EvictionRecord[],
  b: readonly EvictionRecord[],
): EvictionRecord[] {
  const byKey = new Map<string, EvictionRecord>();
  for (const e of [...a, ...b]) byKey.set(`${e.pod}|${e.atMs}`, e);
  return [...byKey.values()].sort((x, y) => x.atMs - y.atMs);
}

function snake(s: string): string {
  return s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}
