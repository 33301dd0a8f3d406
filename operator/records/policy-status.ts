/**
 * DNSPolicy status from one sync's outcome. Pure: the reconciler passes in what happened and
 * writes what this returns. Conditions: the kstatus trio (Ready, Reconciling, Stalled; see
 * runtime/conditions.ts) plus Synced and SourcesResolved.
 */
import type { V1Condition } from '@kubernetes/client-node';
import type {
  DNSPolicy,
  DNSPolicyStatus,
  DiagnosticStatus,
  PlannedChangeStatus,
} from '../api/types';
import {
  kstatusConditions,
  setConditions,
  type ConditionInput,
  type KstatusInput,
} from '../runtime/conditions';
import type { DeleteEntry } from './delete-history';
import type { Diagnostic } from './endpoint';
import { countChanges } from './endpoint';
import type { Plan } from './plan';
import { adoptionHistory, listChanges, MAX_STATUS_CHANGES } from './status-changes';
import { providerKind } from './providers/index';

export const MAX_STATUS_DIAGNOSTICS = 50;

/** How the sync ended, from the reconciler's point of view. */
export type SyncOutcome =
  | {
      readonly kind: 'Applied';
      readonly applied: number;
      readonly failedRecords: number;
      readonly failures: readonly string[];
      /** The batch groups the provider rejected (their adoptions did not happen). */
      readonly failedGroups?: readonly string[];
      /** With failures: true while a retry may still help (Reconciling), false once it cannot (Stalled). */
      readonly retrying?: boolean;
    }
  | { readonly kind: 'DryRun' }
  | { readonly kind: 'Guarded' }
  | {
      readonly kind: 'Failed';
      readonly reason: string;
      readonly message: string;
      /** True: retried with backoff (Reconciling); false: waits for a change or spec.interval (Stalled). */
      readonly retrying: boolean;
    };

export interface StatusInput {
  readonly policy: DNSPolicy;
  readonly diagnostics: readonly Diagnostic[];
  /** Absent when the sync failed before a plan existed (e.g. provider error). */
  readonly plan?: Plan;
  readonly outcome: SyncOutcome;
  readonly now: Date;
  /** The generation the sync worked from (the live object may be newer). */
  readonly generation: number | undefined;
  /** Deletions within the delete guard's hour, this sync's included. */
  readonly recentDeletes: readonly DeleteEntry[];
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Diagnostics for status: unique, newest first, capped. "Newest" is read from the previous
 * status: diagnostics it did not have come first (in a stable order among themselves), the
 * ones it had keep their relative order, so an unchanged set never reorders and never rewrites.
 */
export function statusDiagnostics(
  diagnostics: readonly Diagnostic[],
  previous: readonly DiagnosticStatus[] = [],
): DiagnosticStatus[] {
  const key = (d: DiagnosticStatus): string => `${d.object} ${d.reason} ${d.message}`;
  const current = new Map<string, DiagnosticStatus>();
  for (const d of diagnostics) {
    current.set(key(d), { object: d.object, reason: d.reason, message: d.message });
  }
  const known = new Set(previous.map(key));
  const fresh = [...current.entries()]
    .filter(([k]) => !known.has(k))
    .map(([, d]) => d)
    .sort(
      (a, b) =>
        compare(a.object, b.object) || compare(a.reason, b.reason) || compare(a.message, b.message),
    );
  const kept = previous.filter((d) => current.has(key(d))).map((d) => current.get(key(d))!);
  return [...fresh, ...kept].slice(0, MAX_STATUS_DIAGNOSTICS);
}

function summariseReasons(diagnostics: readonly Diagnostic[]): string {
  const counts = new Map<string, number>();
  for (const d of diagnostics) counts.set(d.reason, (counts.get(d.reason) ?? 0) + 1);
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || compare(a[0], b[0]))
    .map(([reason, n]) => `${n} ${reason}`)
    .join(', ');
}

function syncedCondition(input: StatusInput): ConditionInput {
  const { plan, outcome } = input;
  switch (outcome.kind) {
    case 'DryRun':
      return {
        type: 'Synced',
        status: 'False',
        reason: 'DryRun',
        message: `dryRun: ${plan ? listChanges(plan.changes, plan.adopted).length : 0} record changes planned, none applied; see status.plannedChanges`,
      };
    case 'Guarded':
      return {
        type: 'Synced',
        status: 'False',
        reason: plan?.guard?.reason ?? 'Guarded',
        message: plan?.guard?.message ?? '',
      };
    case 'Failed':
      return { type: 'Synced', status: 'False', reason: outcome.reason, message: outcome.message };
    case 'Applied':
      return outcome.failures.length > 0
        ? {
            type: 'Synced',
            status: 'False',
            reason: 'ProviderRejected',
            message: outcome.failures.slice(0, 5).join('; '),
          }
        : // A message that varied per sync (e.g. a change count) would make every sync write
          // status, and the echo of that write would trigger another sync.
          {
            type: 'Synced',
            status: 'True',
            reason: 'Synced',
            message: 'the provider holds every record this policy wants',
          };
  }
}

/** Where the policy stands for kstatus and Argo CD, from how its sync ended. */
export function policyKstatus(input: StatusInput, synced: ConditionInput): KstatusInput {
  const { outcome, plan } = input;
  const { reason, message } = synced;
  switch (outcome.kind) {
    case 'Applied':
      if (outcome.failures.length === 0) return { state: 'Ready', reason, message };
      return { state: outcome.retrying === true ? 'Reconciling' : 'Stalled', reason, message };
    case 'DryRun':
      return { state: 'Ready', reason, message };
    case 'Guarded':
      // Waiting for caches is progress; a refused mass delete needs a person.
      return {
        state: plan?.guard?.reason === 'CachesNotSynced' ? 'Reconciling' : 'Stalled',
        reason,
        message,
      };
    case 'Failed':
      return { state: outcome.retrying ? 'Reconciling' : 'Stalled', reason, message };
  }
}

export function computePolicyStatus(
  input: StatusInput,
  previous: readonly V1Condition[] | undefined,
): DNSPolicyStatus {
  const { policy, plan, outcome, now, diagnostics, generation } = input;
  const synced = syncedCondition(input);
  // A source kind whose API is not served says so first (DESIGN.md, Resilience).
  const unservedApis = diagnostics.filter((d) => d.reason === 'APINotInstalled');
  const sources: ConditionInput =
    diagnostics.length === 0
      ? {
          type: 'SourcesResolved',
          status: 'True',
          reason: 'AllSourcesResolved',
          message: 'every selected object produced its records',
        }
      : unservedApis.length > 0
        ? {
            type: 'SourcesResolved',
            status: 'False',
            reason: 'APINotInstalled',
            message: `${unservedApis.map((d) => d.message).join('; ')}; see status.diagnostics`,
          }
        : {
            type: 'SourcesResolved',
            status: 'False',
            reason: 'SourceDiagnostics',
            message: `${summariseReasons(diagnostics)}; see status.diagnostics`,
          };
  const conditions = setConditions(
    previous,
    [...kstatusConditions(policyKstatus(input, synced)), synced, sources],
    generation,
    now,
  );
  const inSync = plan?.inSync ?? 0;
  let records = inSync;
  let pendingChanges = 0;
  if (plan !== undefined) {
    if (outcome.kind === 'Applied') {
      records = inSync + plan.recordChanges - outcome.failedRecords;
      pendingChanges = outcome.failedRecords;
    } else if (outcome.kind === 'Guarded') {
      pendingChanges = countChanges(plan.refused);
    } else if (outcome.kind === 'DryRun') {
      pendingChanges = countChanges(plan.changes);
    }
  }
  return {
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    conditions,
    // For the Provider printer column: `kubectl get dnspol` cannot print a map key.
    provider: providerKind(policy.spec.provider),
    records,
    pendingChanges,
    ...(outcome.kind === 'Applied' && outcome.failures.length === 0
      ? { lastSyncTime: now.toISOString() }
      : policy.status?.lastSyncTime
        ? { lastSyncTime: policy.status.lastSyncTime }
        : {}),
    diagnostics: statusDiagnostics(diagnostics, policy.status?.diagnostics),
    ...(input.recentDeletes.length > 0 ? { recentDeletes: [...input.recentDeletes] } : {}),
    ...recordChangeFields(input),
  };
}

/**
 * status.plannedChanges (what a dry run or a guard left unapplied, record by record, capped) and
 * status.adoptions (the records taken over, kept across syncs).
 */
function recordChangeFields({
  plan,
  outcome,
  policy,
  now,
}: StatusInput): Pick<DNSPolicyStatus, 'plannedChanges' | 'adoptions'> {
  let planned: PlannedChangeStatus[] = [];
  if (plan !== undefined && outcome.kind === 'DryRun') {
    planned = listChanges(plan.changes, plan.adopted);
  } else if (plan !== undefined && outcome.kind === 'Guarded') {
    planned = listChanges(plan.refused);
  }
  const adoptions =
    plan !== undefined && outcome.kind === 'Applied'
      ? adoptionHistory(policy.status?.adoptions, plan.adopted, new Set(outcome.failedGroups), now)
      : (policy.status?.adoptions ?? []);
  return {
    ...(planned.length > 0 ? { plannedChanges: planned.slice(0, MAX_STATUS_CHANGES) } : {}),
    ...(adoptions.length > 0 ? { adoptions } : {}),
  };
}

/**
 * The status while no sync result can be shown: on first sight of a generation (Reconciling) and
 * while a deletion is blocked. Only the kstatus conditions and observedGeneration change; the
 * rest of the status (records, diagnostics, the delete history) is kept as it was.
 */
export function progressStatus(
  previous: DNSPolicyStatus | undefined,
  state: KstatusInput,
  generation: number | undefined,
  now: Date,
): DNSPolicyStatus {
  return {
    ...previous,
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    conditions: setConditions(previous?.conditions, kstatusConditions(state), generation, now),
  };
}

/** Synced=False reasons that are no failure: nothing to recover from. */
const NOT_FAILURES = new Set(['DryRun', 'CachesNotSynced']);

/**
 * The Synced condition of a failed sync when this status says the policy is in sync again, for a
 * Normal Event saying it recovered; undefined otherwise (a first sync recovers from nothing).
 */
export function recovered(
  before: readonly V1Condition[] | undefined,
  after: readonly V1Condition[] | undefined,
): V1Condition | undefined {
  const synced = (list: readonly V1Condition[] | undefined): V1Condition | undefined =>
    list?.find((c) => c.type === 'Synced');
  const was = synced(before);
  return was?.status === 'False' &&
    !NOT_FAILURES.has(was.reason ?? '') &&
    synced(after)?.status === 'True'
    ? was
    : undefined;
}

/** True when two statuses say the same thing apart from lastSyncTime and transition times. */
export function sameStatusContent(a: DNSPolicyStatus | undefined, b: DNSPolicyStatus): boolean {
  const strip = (s: DNSPolicyStatus | undefined): unknown => ({
    observedGeneration: s?.observedGeneration,
    records: s?.records,
    provider: s?.provider,
    pendingChanges: s?.pendingChanges,
    diagnostics: s?.diagnostics ?? [],
    recentDeletes: s?.recentDeletes ?? [],
    plannedChanges: s?.plannedChanges ?? [],
    adoptions: s?.adoptions ?? [],
    conditions: (s?.conditions ?? []).map((c) => [
      c.type,
      c.status,
      c.reason,
      c.message,
      c.observedGeneration,
    ]),
  });
  return JSON.stringify(strip(a)) === JSON.stringify(strip(b));
}
