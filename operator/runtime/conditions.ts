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
