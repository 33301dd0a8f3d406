/**
 * Safe self-healing of CoreDNS pods.
 *
 * `decideRemediation` is pure: from the assessment, the facts about the pods, the history of
 * evictions and the settings it returns what to do and why, with the evidence. The eviction call
 * (`KubeEvictionApi`) is the only I/O, at the edge. Rules (DESIGN.md, DNSProbe):
 * - a candidate is a pod target failing its own probes past the threshold AND not ready;
 * - never when the failure is upstream-wide (SERVFAIL spread or every target failing), and not
 *   before every other pod has answered since the candidate began failing: a failure seen first
 *   on one pod may be the first sign of an upstream fault (confirmation probes make one pod
 *   Failing within milliseconds, before the others have been probed again), nor before the
 *   failure has settled (`settle`: a hang, the probe timeout; errors, a few intervals);
 * - only pods controlled by a ReplicaSet (ownerReference controller=true);
 * - one at a time (an eviction whose pod still exists is in progress);
 * - cooldown per DNSProbe, an hourly cap, and minReadyPods ready pods must remain;
 * - DryRun decides exactly the same and reports instead of evicting; Off decides nothing.
 */
import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { describeError, httpStatusOf } from '../runtime/errors';
import type { Assessment, Signal, TargetAssessment } from './detector';
import type { RemediationSettings } from './settings';

export interface PodFacts {
  readonly name: string;
  readonly namespace: string;
  readonly uid?: string;
  /** The controlling owner (ownerReference with controller=true), if any. */
  readonly controller?: { readonly kind: string; readonly name: string };
  readonly deleting: boolean;
}

export function podFacts(pod: V1Pod): PodFacts {
  const owner = pod.metadata?.ownerReferences?.find((o) => o.controller === true);
  return {
    name: pod.metadata?.name ?? '',
    namespace: pod.metadata?.namespace ?? '',
    ...(pod.metadata?.uid !== undefined ? { uid: pod.metadata.uid } : {}),
    ...(owner !== undefined ? { controller: { kind: owner.kind, name: owner.name } } : {}),
    deleting: pod.metadata?.deletionTimestamp !== undefined,
  };
}

export interface EvictionRecord {
  readonly pod: string;
  readonly uid?: string;
  /** Wall-clock ms. */
  readonly atMs: number;
}

export interface RemediationHistory {
  /** Evictions done by this DNSProbe, oldest first (the last hour is enough). */
  readonly evictions: readonly EvictionRecord[];
  /** An eviction whose pod still exists: the next waits for it. */
  readonly inProgress?: EvictionRecord;
}

/** What the decision rests on: the signals and values of the pod's target. */
export interface Evidence {
  readonly target: string;
  readonly pod: string;
  readonly consecutiveFailures: number;
  readonly ready: boolean | undefined;
  readonly lastError?: string;
  readonly signals: readonly Signal[];
  readonly probeState: string;
  readonly probeReason?: string;
}

export type RefusalReason =
  | 'RemediationOff'
  | 'UpstreamFailure'
  | 'EvictionInProgress'
  | 'NotControlledByReplicaSet'
  | 'PodBeingDeleted'
  | 'PodNotFound'
  | 'Cooldown'
  | 'HourlyCapReached'
  | 'MinReadyPods';

export type Decision =
  | { readonly kind: 'none' }
  | {
      readonly kind: 'evict' | 'dryRun';
      readonly pod: PodFacts;
      readonly reason: string;
      readonly evidence: Evidence;
    }
  | {
      readonly kind: 'refuse';
      readonly reason: RefusalReason;
      readonly message: string;
      readonly pod?: string;
      readonly evidence?: Evidence;
    };

/** A decision to act (evict, or report that it would in DryRun). */
export type ActDecision = Extract<Decision, { kind: 'evict' | 'dryRun' }>;

export interface RemediationInput {
  readonly settings: RemediationSettings;
  readonly assessment: Assessment;
  /** Facts about the pods behind pod targets, by pod name. */
  readonly pods: ReadonlyMap<string, PodFacts>;
  readonly history: RemediationHistory;
  /** Wall-clock ms. */
  readonly nowMs: number;
  /**
   * How old a candidate's failure must be, ms (default 0 each). A hung pod (timeouts): the probe
   * timeout, after which no late answer can show it was only slow. A pod that answers with
   * errors (SERVFAIL, REFUSED...): consecutiveFailures intervals, the old pace, in which a fault
   * that shows on one pod first (an upstream outage, a config rolled out pod by pod) reaches the
   * others and is recognised as upstream-wide. Clients retry a server that answers SERVFAIL at
   * once; only a silent one makes them wait.
   */
  readonly settle?: Settle;
}

/** How old a candidate's failure must be before it is evicted (RemediationInput.settle). */
export interface Settle {
  readonly hungMs: number;
  readonly answeringMs: number;
}

/** The settling a target's failure needs: a hung pod's, or one answering with errors. */
export function settleMsFor(target: TargetAssessment, settle: Settle | undefined): number {
  return (target.lastError === 'timeout' ? settle?.hungMs : settle?.answeringMs) ?? 0;
}

const HOUR_MS = 3_600_000;

export function decideRemediation(input: RemediationInput): Decision {
  const { assessment, settings } = input;
  // Only pod targets have a readiness verdict (detector.ts): `ready === false` means a pod.
  const candidates = assessment.targets
    .filter((t) => t.state === 'Failing' && t.ready === false)
    .sort(
      (a, b) =>
        b.consecutiveFailures - a.consecutiveFailures ||
        (a.identity.pod ?? '').localeCompare(b.identity.pod ?? ''),
    );
  if (candidates.length === 0) return { kind: 'none' };
  const first = evidenceOf(candidates[0]!, assessment);
  if (settings.mode === 'Off') {
    return refuse('RemediationOff', 'remediation mode is Off', first);
  }
  if (assessment.reason === 'UpstreamFailure') {
    return refuse('UpstreamFailure', `${assessment.message}; not evicting`, first);
  }
  if (input.history.inProgress !== undefined) {
    return refuse(
      'EvictionInProgress',
      `eviction of ${input.history.inProgress.pod} is still in progress; one at a time`,
      first,
    );
  }
  // The first candidate that is eligible; else the reason the best one is not.
  let refusal: Decision | undefined;
  let chosen: { target: TargetAssessment; pod: PodFacts } | undefined;
  for (const target of candidates) {
    const pod = input.pods.get(target.identity.pod ?? '');
    const problem = podProblem(target, pod, assessment);
    if (problem === undefined && pod !== undefined) {
      chosen = { target, pod };
      break;
    }
    refusal ??= problem;
  }
  if (chosen === undefined) return refusal ?? { kind: 'none' };
  // Not a refusal: the evidence is on its way (within about one interval), nothing to report.
  if (!othersAnsweredSince(assessment, chosen.target)) return { kind: 'none' };
  if ((chosen.target.failingForMs ?? Infinity) < settleMsFor(chosen.target, input.settle))
    return { kind: 'none' };
  return gate(input, chosen.target, chosen.pod);
}

/** Why the pod behind a candidate target may not be evicted, or undefined. */
function podProblem(
  target: TargetAssessment,
  pod: PodFacts | undefined,
  assessment: Assessment,
): Decision | undefined {
  const name = target.identity.pod ?? '';
  const evidence = evidenceOf(target, assessment);
  if (pod === undefined) return refuse('PodNotFound', `pod ${name} is not in the cache`, evidence);
  if (pod.deleting)
    return refuse('PodBeingDeleted', `pod ${name} is already being deleted`, evidence);
  if (pod.controller?.kind === 'ReplicaSet') return undefined;
  return refuse(
    'NotControlledByReplicaSet',
    `pod ${name} is ${pod.controller === undefined ? 'not controlled by anything' : `controlled by ${pod.controller.kind} ${pod.controller.name}`}; only ReplicaSet pods are evicted`,
    evidence,
  );
}

/**
 * Every other pod target (that has answered at all) is known to be failing too, or has answered
 * since `target` began failing: the candidate's failure is its own, not the first sign of a fault
 * every pod is about to show.
 */
function othersAnsweredSince(a: Assessment, target: TargetAssessment): boolean {
  const since = target.failingSinceMs;
  if (since === undefined) return true;
  // The candidate itself is Failing.
  return a.targets.every(
    (t) =>
      t.identity.kind !== 'Pod' ||
      t.state === 'Unknown' ||
      t.state === 'Failing' ||
      (t.lastSuccessAtMs ?? -Infinity) > since,
  );
}

/** Cooldown, hourly cap and minReadyPods, then the action. */
function gate(input: RemediationInput, target: TargetAssessment, pod: PodFacts): Decision {
  const { settings, nowMs, history, assessment } = input;
  const evidence = evidenceOf(target, assessment);
  const last = history.evictions.at(-1);
  if (last !== undefined && nowMs - last.atMs < settings.cooldownMs) {
    const leftS = Math.ceil((settings.cooldownMs - (nowMs - last.atMs)) / 1000);
    return refuse(
      'Cooldown',
      `last eviction (${last.pod}) was less than the cooldown ago; ${leftS}s left`,
      evidence,
    );
  }
  const lastHour = history.evictions.filter((e) => nowMs - e.atMs < HOUR_MS).length;
  if (lastHour >= settings.maxEvictionsPerHour) {
    return refuse(
      'HourlyCapReached',
      `${lastHour} evictions in the last hour reach maxEvictionsPerHour ${settings.maxEvictionsPerHour}`,
      evidence,
    );
  }
  // Ready means a pod target, and never the candidate (it is not ready).
  const readyOthers = assessment.targets.filter(
    (t) => t.ready === true && t.state !== 'Failing',
  ).length;
  if (readyOthers < settings.minReadyPods) {
    return refuse(
      'MinReadyPods',
      `only ${readyOthers} other ready CoreDNS pods would remain (minReadyPods ${settings.minReadyPods})`,
      evidence,
    );
  }
  const reason =
    `${target.consecutiveFailures} consecutive probe failures (threshold reached, last error ${target.lastError ?? 'n/a'}) ` +
    `and readiness endpoint not ready`;
  return { kind: settings.mode === 'Evict' ? 'evict' : 'dryRun', pod, reason, evidence };
}

function refuse(reason: RefusalReason, message: string, evidence: Evidence): Decision {
  return { kind: 'refuse', reason, message, pod: evidence.pod, evidence };
}

function evidenceOf(t: TargetAssessment, a: Assessment): Evidence {
  return {
    target: t.identity.address,
    pod: t.identity.pod ?? t.identity.address,
    consecutiveFailures: t.consecutiveFailures,
    ready: t.ready,
    ...(t.lastError !== undefined ? { lastError: t.lastError } : {}),
    signals: [...t.signals, ...a.signals],
    probeState: a.state,
    ...(a.reason !== undefined ? { probeReason: a.reason } : {}),
  };
}

/** A stable key for "the same decision", so Events, audit lines and counters fire on changes. */
export function decisionKey(d: Decision): string {
  switch (d.kind) {
    case 'none':
      return 'none';
    case 'refuse':
      return `refuse/${d.reason}/${d.pod ?? ''}`;
    default:
      return `${d.kind}/${d.pod.name}/${d.pod.uid ?? ''}`;
  }
}

/** Drops evictions older than an hour and clears `inProgress` once its pod is gone or replaced. */
export function pruneHistory(
  history: RemediationHistory,
  livePods: ReadonlyMap<string, PodFacts>,
  nowMs: number,
  maxInProgressMs = 5 * 60_000,
): RemediationHistory {
  const evictions = history.evictions.filter((e) => nowMs - e.atMs < HOUR_MS);
  const p = history.inProgress;
  const live = p === undefined ? undefined : livePods.get(p.pod);
  const stillThere =
    p !== undefined && live !== undefined && (p.uid === undefined || live.uid === p.uid);
  const inProgress = stillThere && nowMs - p.atMs < maxInProgressMs ? p : undefined;
  return { evictions, ...(inProgress !== undefined ? { inProgress } : {}) };
}

// --- the edge ---

export type EvictionResult =
  | { readonly kind: 'evicted' }
  /** 429: a PodDisruptionBudget does not allow it now. */
  | { readonly kind: 'blocked'; readonly message: string }
  /** 404 / 409: the pod is gone or is another pod now. */
  | { readonly kind: 'gone'; readonly message: string }
  | { readonly kind: 'failed'; readonly message: string };

/** The one call remediation makes; a port so tests can fake it. */
export interface EvictionApi {
  evict(pod: PodFacts): Promise<EvictionResult>;
}

/** Evicts through the Eviction API (policy/v1), PDBs apply; the UID precondition avoids a namesake. */
export class KubeEvictionApi implements EvictionApi {
  readonly #core: CoreV1Api;

  constructor(kubeConfig: KubeConfig) {
    this.#core = kubeConfig.makeApiClient(CoreV1Api);
  }

  async evict(pod: PodFacts): Promise<EvictionResult> {
    try {
      await this.#core.createNamespacedPodEviction({
        name: pod.name,
        namespace: pod.namespace,
        body: {
          apiVersion: 'policy/v1',
          kind: 'Eviction',
          metadata: { name: pod.name, namespace: pod.namespace },
          ...(pod.uid !== undefined ? { deleteOptions: { preconditions: { uid: pod.uid } } } : {}),
        },
      });
      return { kind: 'evicted' };
    } catch (err) {
      const status = httpStatusOf(err);
      const message = describeError(err);
      if (status === 429) return { kind: 'blocked', message: pdbMessage(err) ?? message };
      if (status === 404 || status === 409) return { kind: 'gone', message };
      return { kind: 'failed', message };
    }
  }
}

/** The API server's own words for a PDB refusal ("Cannot evict pod as it would violate ..."). */
function pdbMessage(err: unknown): string | undefined {
  const body = (err as { body?: unknown }).body;
  const text = typeof body === 'string' ? body : JSON.stringify(body ?? '');
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    return typeof parsed.message === 'string' ? parsed.message : undefined;
  } catch {
    return undefined;
  }
}
