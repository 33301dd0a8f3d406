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
  readonly message: string;
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
  /** Every record in the provider's zones that falls under the policy's domains, TXT included. */
  records(options?: RecordsOptions): Promise<Endpoint[]>;
  /**
   * Applies changes. A record and its ownership TXT (same batchGroupKey) are always applied in
   * one batch. Throws TransientError when nothing could be applied and a retry may help,
   * PermanentError when the request itself is wrong.
   */
  applyChanges(changes: Changes, signal?: AbortSignal): Promise<ApplyResult>;
  /** Pure, offline provider-specific shaping of desired endpoints (e.g. Route 53 alias). */
  adjustEndpoints(endpoints: readonly Endpoint[]): AdjustResult;
}
