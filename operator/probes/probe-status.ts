/**
 * The DNSProbe status (pure): one verdict (state, reason, message leading with the cause) from the
 * latest assessment and what discovery could not find; conditions, targets, anomalies, the
 * eviction history and the last remediation from it. Plus `statusSignature`, the part of a status
 * whose change must be written at once (states, not numbers or signal values).
 *
 * Conditions: Ready, Reconciling, Stalled as kstatus and Argo CD read them (runtime/conditions.ts:
 * Reconciling while starting, Ready when DNS is available (Healthy or Degraded), Stalled when it is
 * not or the spec cannot run); exactly one of Healthy / Degraded / DNSUnavailable is True once
 * there are results; Remediating is True while an eviction is in progress.
 */
import type {
  AnomalyStatus,
  DNSProbeStatus,
  EvictionStatus,
  ProbeTargetStatus,
} from '../api/types';
import {
  kstatusConditions,
  setConditions,
  type ConditionInput,
  type ConditionStatus,
  type KstatusState,
} from '../runtime/conditions';
import type { Assessment, ProbeState, Signal } from './detector';
import type { EvictionRecord } from './remediation';

export const MAX_ANOMALIES = 50;
/**
 * How long an anomaly that cleared stays in status (with `until`): status is written on state
 * changes within a budget and otherwise every 10 s, so a spike that came and went between two
 * writes would otherwise never show there.
 */
export const ANOMALY_KEEP_MS = 60_000;
/** Evictions kept in status: the hourly cap's window holds at most maxEvictionsPerHour (<= 60). */
export const MAX_EVICTIONS = 60;
const HOUR_MS = 3_600_000;

export interface RemediationStatus {
  readonly remediating: boolean;
  readonly reason: string;
  readonly message: string;
  readonly last?: { readonly pod: string; readonly time: string; readonly reason: string };
}

/** Why discovery found fewer targets than expected. */
export interface DiscoveryProblem {
  readonly reason: string;
  readonly message: string;
}

/** What the probe says about cluster DNS, once, for conditions, metrics and Events. */
export interface ProbeVerdict {
  readonly state: ProbeState;
  /** CamelCase: AllTargetsHealthy, PodFailure, UpstreamFailure, ServiceNotFound, Starting... */
  readonly reason: string;
  /** Leads with the cause. */
  readonly message: string;
  readonly kstatus: KstatusState;
}

/**
 * The verdict. A discovery problem leads the message; with no target at all (the Service does not
 * exist), or none that has answered yet, DNS is unavailable as far as this probe can tell, and
 * nothing will change until someone acts: Stalled. When every target fails and the Service has no port `spec.server.port`, the wrong
 * port is the reason, not an upstream fault.
 */
export function probeVerdict(
  a: Assessment | undefined,
  problems: readonly DiscoveryProblem[],
): ProbeVerdict {
  const problem = problems[0];
  const lead = (message: string): string =>
    problem === undefined ? message : `${problem.message}; ${message}`;
  // Until a target has answered, the problem is all this probe knows (no Unknown/Starting in
  // between: the verdict and dns_unavailable would flap 1 -> 0 -> 1 while the first probes run).
  if (
    problem !== undefined &&
    (a === undefined || a.targets.length === 0 || a.state === 'Unknown')
  ) {
    return {
      state: 'DNSUnavailable',
      reason: problem.reason,
      message: problem.message,
      kstatus: 'Stalled',
    };
  }
  if (a === undefined || a.state === 'Unknown') {
    return {
      state: 'Unknown',
      reason: 'Starting',
      message: lead('waiting for the first probe results'),
      kstatus: 'Reconciling',
    };
  }
  switch (a.state) {
    case 'Healthy':
      return {
        state: a.state,
        reason: 'AllTargetsHealthy',
        message: lead(a.message),
        kstatus: 'Ready',
      };
    case 'Degraded':
      return {
        state: a.state,
        reason: a.reason ?? 'TargetsUnhealthy',
        message: lead(a.message),
        kstatus: 'Ready',
      };
    case 'DNSUnavailable': {
      const wrongPort = problem?.reason === 'ServicePortNotFound' && a.reason === 'UpstreamFailure';
      return {
        state: a.state,
        reason: wrongPort ? problem.reason : (a.reason ?? 'DNSUnavailable'),
        message: lead(a.message),
        kstatus: 'Stalled',
      };
    }
  }
}

export interface StatusInput {
  readonly generation: number | undefined;
  readonly previous: DNSProbeStatus | undefined;
  readonly assessment: Assessment | undefined;
  /** Recent p50/p99 RTT per target key. */
  readonly percentiles: ReadonlyMap<string, { readonly p50Ms?: number; readonly p99Ms?: number }>;
  readonly problems: readonly DiscoveryProblem[];
  readonly remediation: RemediationStatus;
  /** Evictions this runtime knows of (merged with the live status's). */
  readonly evictions: readonly EvictionRecord[];
  /** The anomalies to report, cleared ones included (trackAnomalies); default: the assessment's. */
  readonly anomalies?: readonly AnomalyRecord[];
  readonly now: Date;
}

/** One anomaly as seen over the assessments: since when, its latest value, when it cleared. */
export interface AnomalyRecord {
  readonly signal: string;
  /** The target's address, or "*" for a probe-wide signal. */
  readonly target: string;
  readonly sinceMs: number;
  readonly value: number;
  readonly threshold: number;
  /** When it cleared; absent while it is tripped. */
  readonly untilMs?: number;
}

export function buildProbeStatus(input: StatusInput): DNSProbeStatus {
  const a = input.assessment;
  const targets = (a?.targets ?? []).map((t): ProbeTargetStatus => {
    const p = input.percentiles.get(t.identity.key);
    const troubled = t.state !== 'Healthy' || (t.successRatio !== undefined && t.successRatio < 1);
    return {
      address: t.identity.address,
      kind: t.identity.kind,
      ...(t.identity.pod !== undefined ? { pod: t.identity.pod } : {}),
      ...(t.successRatio !== undefined ? { successRatio: round(t.successRatio, 4) } : {}),
      ...(p?.p50Ms !== undefined ? { p50Ms: round(p.p50Ms, 3) } : {}),
      ...(p?.p99Ms !== undefined ? { p99Ms: round(p.p99Ms, 3) } : {}),
      consecutiveFailures: t.consecutiveFailures,
      state: t.state,
      ...(troubled && t.lastError !== undefined ? { lastError: t.lastError } : {}),
    };
  });
  const healthy = targets.filter((t) => t.state === 'Healthy').length;
  const verdict = probeVerdict(a, input.problems);
  const conditions = setConditions(
    input.previous?.conditions,
    conditionInputs(verdict, input.remediation),
    input.generation,
    input.now,
  );
  const evictions = evictionStatus(input.previous?.evictions, input.evictions, input.now.getTime());
  return {
    ...(input.generation !== undefined ? { observedGeneration: input.generation } : {}),
    conditions,
    targetsHealthy: `${healthy}/${targets.length}`,
    targets,
    anomalies: anomalyStatus(
      input.anomalies ?? trackAnomalies([], a, input.now.getTime()),
      input.previous?.anomalies,
    ),
    ...(evictions.length > 0 || input.previous?.evictions !== undefined ? { evictions } : {}),
    ...(input.remediation.last !== undefined
      ? { lastRemediation: { ...input.remediation.last } }
      : {}),
  };
}

/**
 * Status for a spec the operator cannot run (InvalidSpec; the tenancy refusals go through here
 * too): Stalled with the reason, nothing probed. The eviction history and the last remediation
 * are kept: the hourly cap still counts them when the spec is fixed.
 */
export function cannotRunStatus(
  previous: DNSProbeStatus | undefined,
  generation: number | undefined,
  reason: string,
  message: string,
  now: Date,
): DNSProbeStatus {
  const unknown = (type: string): ConditionInput => ({ type, status: 'Unknown', reason, message });
  return {
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    conditions: setConditions(
      previous?.conditions,
      [
        ...kstatusConditions({ state: 'Stalled', reason, message }),
        { type: 'Healthy', status: 'False', reason, message },
        unknown('Degraded'),
        unknown('DNSUnavailable'),
        { type: 'Remediating', status: 'False', reason, message },
      ],
      generation,
      now,
    ),
    targetsHealthy: '0/0',
    targets: [],
    anomalies: [],
    ...(previous?.evictions !== undefined ? { evictions: previous.evictions } : {}),
    ...(previous?.lastRemediation !== undefined
      ? { lastRemediation: previous.lastRemediation }
      : {}),
  };
}

function conditionInputs(v: ProbeVerdict, rem: RemediationStatus): ConditionInput[] {
  const is = (state: ProbeState): ConditionStatus =>
    v.state === 'Unknown' ? 'Unknown' : v.state === state ? 'True' : 'False';
  const { reason, message } = v;
  return [
    ...kstatusConditions({ state: v.kstatus, reason, message }),
    { type: 'Healthy', status: is('Healthy'), reason, message },
    { type: 'Degraded', status: is('Degraded'), reason, message },
    {
      type: 'DNSUnavailable',
      status: is('DNSUnavailable'),
      reason: v.state === 'Healthy' || v.state === 'Degraded' ? 'Available' : reason,
      message,
    },
    {
      type: 'Remediating',
      status: rem.remediating ? 'True' : 'False',
      reason: rem.reason,
      message: rem.message,
    },
  ];
}

/**
 * The evictions of the last hour, from the live status and this runtime's own (a leader that
 * took over, or a runtime rebuilt for a new spec, counts the ones before it), oldest first.
 */
export function evictionStatus(
  live: readonly EvictionStatus[] | undefined,
  own: readonly EvictionRecord[],
  nowMs: number,
): EvictionStatus[] {
  const byKey = new Map<string, EvictionStatus>();
  for (const e of live ?? []) byKey.set(`${e.pod}|${e.time}`, e);
  for (const e of own) {
    const time = new Date(e.atMs).toISOString();
    byKey.set(`${e.pod}|${time}`, {
      pod: e.pod,
      ...(e.uid !== undefined ? { uid: e.uid } : {}),
      time,
    });
  }
  return [...byKey.values()]
    .filter((e) => nowMs - Date.parse(e.time) < HOUR_MS)
    .sort((x, y) => x.time.localeCompare(y.time))
    .slice(-MAX_EVICTIONS);
}

/** Evictions recorded in a status, as history records. */
export function evictionRecords(status: DNSProbeStatus | undefined): EvictionRecord[] {
  const out: EvictionRecord[] = [];
  for (const e of status?.evictions ?? []) {
    const atMs = Date.parse(e.time);
    if (Number.isFinite(atMs))
      out.push({ pod: e.pod, ...(e.uid !== undefined ? { uid: e.uid } : {}), atMs });
  }
  // A status from before the history was kept: its last remediation is the one known eviction.
  const last = status?.lastRemediation;
  const lastMs = last !== undefined ? Date.parse(last.time) : NaN;
  if (last !== undefined && Number.isFinite(lastMs) && !out.some((e) => e.atMs === lastMs))
    out.push({ pod: last.pod, atMs: lastMs });
  return out.sort((x, y) => x.atMs - y.atMs);
}

/** One anomaly per signal and target, in records and in status alike. */
function anomalyKey(a: { readonly signal: string; readonly target: string }): string {
  return `${a.signal}|${a.target}`;
}

/**
 * The anomalies after assessment `a` at `nowMs`: those tripped now (first), then those that
 * cleared less than `keepMs` ago, with the time they cleared. One record per signal and target:
 * one that trips again starts anew.
 */
export function trackAnomalies(
  previous: readonly AnomalyRecord[],
  a: Assessment | undefined,
  nowMs: number,
  keepMs = ANOMALY_KEEP_MS,
): AnomalyRecord[] {
  const before = new Map(previous.map((r) => [anomalyKey(r), r]));
  const tripped = new Map<string, AnomalyRecord>();
  const add = (s: Signal, target: string): void => {
    const k = anomalyKey({ signal: s.signal, target });
    if (tripped.has(k)) return;
    const was = before.get(k);
    const sinceMs = was !== undefined && was.untilMs === undefined ? was.sinceMs : nowMs;
    tripped.set(k, { signal: s.signal, target, sinceMs, value: s.value, threshold: s.threshold });
  };
  for (const s of a?.signals ?? []) add(s, '*');
  for (const t of a?.targets ?? []) for (const s of t.signals) add(s, t.identity.address);
  const cleared: AnomalyRecord[] = [];
  for (const [k, r] of before) {
    if (tripped.has(k)) continue;
    const untilMs = r.untilMs ?? nowMs;
    if (nowMs - untilMs < keepMs) cleared.push({ ...r, untilMs });
  }
  return [...tripped.values(), ...cleared];
}

/**
 * Records as status. An episode the live status already shows (the same record, or one a
 * previous leader or runtime wrote while it was tripped) keeps its `since`.
 */
function anomalyStatus(
  records: readonly AnomalyRecord[],
  previous: readonly AnomalyStatus[] | undefined,
): AnomalyStatus[] {
  const shown = new Map((previous ?? []).map((p) => [anomalyKey(p), p]));
  return records.slice(0, MAX_ANOMALIES).map((r) => {
    const until = r.untilMs !== undefined ? new Date(r.untilMs).toISOString() : undefined;
    const p = shown.get(anomalyKey(r));
    const same = p !== undefined && (p.until === undefined || p.until === until);
    return {
      signal: r.signal,
      target: r.target,
      since: same ? p.since : new Date(r.sinceMs).toISOString(),
      ...(until !== undefined ? { until } : {}),
      value: round(r.value, 4),
      threshold: round(r.threshold, 4),
    };
  });
}

/**
 * What must be written at once when it changes: the verdict, target states, remediation and
 * discovery problems. Numbers and signal values wait for the periodic write.
 */
export function statusSignature(
  a: Assessment | undefined,
  rem: RemediationStatus,
  problems: readonly DiscoveryProblem[],
): string {
  const v = probeVerdict(a, problems);
  const parts: string[] = [
    v.state,
    v.reason,
    rem.remediating ? 'R' : '',
    rem.reason,
    rem.last?.time ?? '',
  ];
  for (const p of problems) parts.push(`p:${p.reason}`);
  for (const t of a?.targets ?? []) parts.push(`t:${t.identity.key}:${t.state}`);
  return parts.join('|');
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
