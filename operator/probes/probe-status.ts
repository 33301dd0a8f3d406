/**
 * The DNSProbe status (pure): conditions, targets, anomalies and the last remediation, from the
 * latest assessment. Plus `statusSignature`, the part of a status whose change must be written at
 * once (states, conditions, anomaly set); numbers alone wait for the periodic write.
 *
 * Conditions: exactly one of Healthy / Degraded / DNSUnavailable is True once there are results;
 * Remediating is True while an eviction is in progress.
 */
import type { AnomalyStatus, DNSProbeStatus, ProbeTargetStatus } from '../api/types';
import { kstatusConditions, setConditions, type ConditionInput } from '../runtime/conditions';
import type { Assessment } from './detector';

export const MAX_ANOMALIES = 50;

export interface RemediationStatus {
  readonly remediating: boolean;
  readonly reason: string;
  readonly message: string;
  readonly last?: { readonly pod: string; readonly time: string; readonly reason: string };
}

export interface StatusInput {
  readonly generation: number | undefined;
  readonly previous: DNSProbeStatus | undefined;
  readonly assessment: Assessment | undefined;
  /** Recent p50/p99 RTT per target key. */
  readonly percentiles: ReadonlyMap<string, { readonly p50Ms?: number; readonly p99Ms?: number }>;
  /** Why discovery found fewer targets than expected. */
  readonly problems: readonly { readonly reason: string; readonly message: string }[];
  readonly remediation: RemediationStatus;
  readonly now: Date;
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
  const conditions = setConditions(
    input.previous?.conditions,
    conditionInputs(a, input.problems, input.remediation),
    input.generation,
    input.now,
  );
  return {
    ...(input.generation !== undefined ? { observedGeneration: input.generation } : {}),
    conditions,
    targetsHealthy: `${healthy}/${targets.length}`,
    targets,
    anomalies: anomalies(a, input.previous?.anomalies, input.now),
    ...(input.remediation.last !== undefined
      ? { lastRemediation: { ...input.remediation.last } }
      : {}),
  };
}

/**
 * Status for a spec the operator cannot run (reason InvalidSpec, or Forbidden for a tenancy
 * refusal): Stalled until the spec changes.
 */
export function invalidSpecStatus(
  previous: DNSProbeStatus | undefined,
  generation: number | undefined,
  message: string,
  now: Date,
  reason = 'InvalidSpec',
): DNSProbeStatus {
  const unknown = (type: string): ConditionInput => ({
    type,
    status: 'Unknown',
    reason,
    message,
  });
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
    ...(previous?.lastRemediation !== undefined
      ? { lastRemediation: previous.lastRemediation }
      : {}),
  };
}

function conditionInputs(
  a: Assessment | undefined,
  problems: StatusInput['problems'],
  rem: RemediationStatus,
): ConditionInput[] {
  const remediating: ConditionInput = {
    type: 'Remediating',
    status: rem.remediating ? 'True' : 'False',
    reason: rem.reason,
    message: rem.message,
  };
  const problem = problems[0];
  if (a === undefined || a.state === 'Unknown') {
    const reason = problem?.reason ?? 'NoResults';
    const message = problem?.message ?? a?.message ?? 'no probe results yet';
    return [
      { type: 'Healthy', status: problem !== undefined ? 'False' : 'Unknown', reason, message },
      { type: 'Degraded', status: 'Unknown', reason, message },
      { type: 'DNSUnavailable', status: 'Unknown', reason, message },
      remediating,
    ];
  }
  const message = problem !== undefined ? `${a.message}; ${problem.message}` : a.message;
  const is = (state: string): 'True' | 'False' => (a.state === state ? 'True' : 'False');
  const reason = a.state === 'DNSUnavailable' ? (a.reason ?? 'DNSUnavailable') : a.state;
  return [
    {
      type: 'Healthy',
      status: is('Healthy'),
      reason: a.state === 'Healthy' ? 'AllTargetsHealthy' : reason,
      message,
    },
    {
      type: 'Degraded',
      status: is('Degraded'),
      reason: a.state === 'Degraded' ? 'TargetsUnhealthy' : reason,
      message,
    },
    {
      type: 'DNSUnavailable',
      status: is('DNSUnavailable'),
      reason: a.state === 'DNSUnavailable' ? reason : 'Available',
      message,
    },
    remediating,
  ];
}

function anomalies(
  a: Assessment | undefined,
  previous: readonly AnomalyStatus[] | undefined,
  now: Date,
): AnomalyStatus[] {
  if (a === undefined) return [];
  const since = new Map((previous ?? []).map((p) => [`${p.signal}|${p.target}`, p.since]));
  const out: AnomalyStatus[] = [];
  const add = (signal: string, target: string, value: number, threshold: number): void => {
    out.push({
      signal,
      target,
      since: since.get(`${signal}|${target}`) ?? now.toISOString(),
      value: round(value, 4),
      threshold: round(threshold, 4),
    });
  };
  for (const s of a.signals) add(s.signal, '*', s.value, s.threshold);
  for (const t of a.targets)
    for (const s of t.signals) add(s.signal, t.identity.address, s.value, s.threshold);
  return out.slice(0, MAX_ANOMALIES);
}

/** What must be written at once when it changes. */
export function statusSignature(
  a: Assessment | undefined,
  rem: RemediationStatus,
  problems: StatusInput['problems'],
): string {
  const parts: string[] = [
    a?.state ?? 'none',
    a?.reason ?? '',
    rem.remediating ? 'R' : '',
    rem.reason,
    rem.last?.time ?? '',
  ];
  for (const p of problems) parts.push(`p:${p.reason}`);
  for (const s of a?.signals ?? []) parts.push(`s:${s.signal}`);
  for (const t of a?.targets ?? []) {
    parts.push(`t:${t.identity.key}:${t.state}`);
    for (const s of t.signals) parts.push(`${s.signal}`);
  }
  return parts.join('|');
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
