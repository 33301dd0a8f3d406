/**
 * The port every DNS provider implements (Route 53, Cloud DNS, in-memory). Small on purpose:
 * the registry wraps it to add ownership, the planner never sees it.
 */
import type { Changes, Diagnostic, Endpoint } from '../endpoint';

export interface RecordsOptions {
  /**
   * true: list the zones from the API (full resync, after a failed change).
   * false (default): a provider may answer from its cached view of the zones it last listed
   * and has kept current with its own successful changes.
   */
  readonly refresh?: boolean;
  readonly signal?: AbortSignal;
}

export interface FailedGroup {
  /** The batchGroupKey of the records that could not be applied. */
  readonly group: string;
  /** Leads with the provider's code and message. */
  readonly message: string;
  /**
   * True when resending the same change cannot succeed (the provider refused it as invalid, or
   * the name is in none of the policy's zones): retry at spec.interval, not with fast backoff.
   * False or absent: the zone moved under us (a conflict); a re-read and re-plan may succeed.
   */
  readonly permanent?: boolean;
}

export interface ApplyResult {
  /** Number of record changes (create + update + delete) the provider accepted. */
  readonly applied: number;
  /** Groups the provider rejected after retrying them on their own; the rest were applied. */
  readonly failed: readonly FailedGroup[];
}

export interface AdjustResult {
  readonly endpoints: readonly Endpoint[];
  readonly diagnostics: readonly Diagnostic[];
}

export interface Provider {
  /** "route53" | "cloudDNS" | "inMemory": the key used in `dnsop plan` output and metrics. */
  readonly kind: string;
  /**
   * Every record in the provider's zones that falls under the policy's domains, TXT included.
   * Read-only: while the provider's view did not change, the answer may be the very same array
   * (the reconciler's steady check relies on that; a new array only costs that check).
   */
  records(options?: RecordsOptions): Promise<readonly Endpoint[]>;
  /**
   * Applies changes. Every change about one DNS name (a record, its ownership TXT(s), the delete
   * half of a type change; so every change sharing a batchGroupKey) is applied in one atomic
   * batch. Throws TransientError when a retry may help (throttled, no answer), PermanentError
   * when it cannot (zone not found, access denied); both lead with the provider's code and
   * message and name the call and zone.
   */
  applyChanges(changes: Changes, signal?: AbortSignal): Promise<ApplyResult>;
  /** Pure, offline provider-specific shaping of desired endpoints (e.g. Route 53 alias). */
  adjustEndpoints(endpoints: readonly Endpoint[]): AdjustResult;
}
