/**
 * metav1.Condition helpers. Pure: every function returns a new array and never mutates its input.
 * lastTransitionTime moves only when the status changes, as kstatus and kubectl wait expect.
 */
import type { V1Condition } from '@kubernetes/client-node';

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface ConditionInput {
  readonly type: string;
  readonly status: ConditionStatus;
  /** CamelCase, e.g. DeleteGuard. */
  readonly reason: string;
  readonly message: string;
}

const MAX_MESSAGE = 32_768;

export function getCondition(
  conditions: readonly V1Condition[] | undefined,
  type: string,
): V1Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function isConditionTrue(
  conditions: readonly V1Condition[] | undefined,
  type: string,
): boolean {
  return getCondition(conditions, type)?.status === 'True';
}

/** Sets (adds or replaces) one condition, keeping the order of the others. */
export function setCondition(
  conditions: readonly V1Condition[] | undefined,
  input: ConditionInput,
  observedGeneration: number | undefined,
  now: Date = new Date(),
): V1Condition[] {
  const existing = getCondition(conditions, input.type);
  const transitioned = existing === undefined || existing.status !== input.status;
  const next: V1Condition = {
    type: input.type,
    status: input.status,
    reason: input.reason,
    message:
      input.message.length > MAX_MESSAGE ? input.message.slice(0, MAX_MESSAGE) : input.message,
    lastTransitionTime: transitioned ? now : (existing.lastTransitionTime ?? now),
    ...(observedGeneration !== undefined ? { observedGeneration } : {}),
  };
  const others = conditions ?? [];
  return existing === undefined
    ? [...others, next]
    : others.map((c) => (c.type === input.type ? next : c));
}

/** Sets several conditions at once. */
export function setConditions(
  conditions: readonly V1Condition[] | undefined,
  inputs: readonly ConditionInput[],
  observedGeneration: number | undefined,
  now: Date = new Date(),
): V1Condition[] {
  return inputs.reduce<V1Condition[]>(
    (acc, input) => setCondition(acc, input, observedGeneration, now),
    [...(conditions ?? [])],
  );
}

/** True when two condition lists say the same thing (ignoring timestamps), to skip no-op writes. */
export function sameConditions(
  a: readonly V1Condition[] | undefined,
  b: readonly V1Condition[] | undefined,
): boolean {
  const key = (list: readonly V1Condition[] | undefined): string =>
    JSON.stringify(
      (list ?? [])
        .map((c) => [c.type, c.status, c.reason, c.message, c.observedGeneration ?? null])
        .sort((x, y) => String(x[0]).localeCompare(String(y[0]))),
    );
  return key(a) === key(b);
}

// ---- kstatus -----------------------------------------------------------------------------------

/**
 * Where an object stands, in the terms of kstatus (sigs.k8s.io/cli-utils pkg/kstatus) and Argo CD,
 * which every dnsop kind reports through the same three conditions:
 * - Reconciling: work is under way (first sight, a new generation, a retry after a transient error);
 *   kstatus InProgress, Argo CD Progressing;
 * - Stalled: it cannot make progress until someone changes something (bad credentials, zone not
 *   found, DeleteGuard, Forbidden, InvalidSpec, DNS unavailable); kstatus Failed, Argo CD Degraded;
 * - Ready: reconciled and healthy; kstatus Current, Argo CD Healthy.
 * All three carry the state's reason and message, so whichever a tool reads explains itself.
 */
export type KstatusState = 'Reconciling' | 'Stalled' | 'Ready';

export interface KstatusInput {
  readonly state: KstatusState;
  /** CamelCase, e.g. HostedZoneNotFound. */
  readonly reason: string;
  readonly message: string;
}

/**
 * Ready, Reconciling and Stalled for one state. At most one of Reconciling and Stalled is ever
 * True (kstatus reads whichever True one comes first, so both at once would be ambiguous); the
 * "abnormal-true" pair is kept as False rather than removed, so all three are always visible. Pair with `setConditions` and set `status.observedGeneration` to the generation the
 * state describes: kstatus reports InProgress while it differs from metadata.generation.
 */
export function kstatusConditions(input: KstatusInput): ConditionInput[] {
  const { state, reason, message } = input;
  const is = (s: KstatusState): ConditionStatus => (state === s ? 'True' : 'False');
  return [
    { type: 'Ready', status: is('Ready'), reason, message },
    { type: 'Reconciling', status: is('Reconciling'), reason, message },
    { type: 'Stalled', status: is('Stalled'), reason, message },
  ];
}

/** True when status.observedGeneration already describes the object's current spec. */
export function generationObserved(obj: {
  readonly metadata?: { readonly generation?: number };
  readonly status?: { readonly observedGeneration?: number };
}): boolean {
  const generation = obj.metadata?.generation;
  return generation === undefined || obj.status?.observedGeneration === generation;
}
