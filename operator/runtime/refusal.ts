/**
 * Refusals: spec fields the operator will not act on (DESIGN.md, Tenancy). Both kinds decide them
 * in pure functions (records/tenancy.ts, probes/tenancy.ts) and report them the same way: a
 * permanent error, so the object is Stalled with the reason and an Event carries the message.
 */
import { PermanentError } from './errors';

export interface Refusal {
  /** Forbidden: a tenancy rule (another namespace could use it); InvalidSpec: nobody may. */
  readonly reason: 'Forbidden' | 'InvalidSpec';
  /** The spec field, e.g. spec.ownerId. */
  readonly field: string;
  /** Names the field, the rule and what would allow it (the flag, when there is one). */
  readonly message: string;
}

/** The flag that makes a namespace trusted. */
export const TRUST_FLAG = '--trusted-namespaces';

/** The end of a Forbidden message: how a cluster admin would allow it. */
export function trustHint(namespace: string): string {
  return `or add "${namespace}" to ${TRUST_FLAG} (cluster admins only)`;
}

/**
 * One PermanentError for a list of refusals: reason Forbidden when any is, else InvalidSpec; the
 * message lists them all. Undefined for an empty list.
 */
export function refusalError(refusals: readonly Refusal[]): PermanentError | undefined {
  if (refusals.length === 0) return undefined;
  const reason = refusals.some((r) => r.reason === 'Forbidden') ? 'Forbidden' : 'InvalidSpec';
  return new PermanentError(reason, refusals.map((r) => r.message).join('; '));
}
