/**
 * How every cloud provider turns a failed API call into the operator's typed errors.
 *
 * Each provider classifies its SDK's errors into a ProviderFault (the provider's own code and
 * message, and what the failure means); this module turns a fault into a TransientError (retry
 * with backoff) or a PermanentError (a user must change something; retried at spec.interval)
 * whose message leads with the provider's code and message and says which call and zone failed.
 */
import { PermanentError, TransientError } from '../../runtime/errors';

/** What a failed call means for the caller, whatever the provider. */
export type FailureKind =
  /** Throttling or PriorRequestNotComplete: slow down and retry. Nothing was applied. */
  | 'throttled'
  /** 5xx, timeout, no response: retry. A change may or may not have been applied. */
  | 'unavailable'
  /** The zone changed under us (exists already, not found, values differ): re-read, re-plan. */
  | 'conflict'
  /** The request itself is wrong (validation, invalid change batch): a retry cannot fix it. */
  | 'invalid'
  /** Credentials or permissions. */
  | 'auth'
  /** The zone does not exist (or is not visible to these credentials). */
  | 'notFound'
  /** Our own abort signal (shutdown, a newer sync). */
  | 'aborted';

/** A provider's answer to one failed call, in the provider's own words. */
export interface ProviderFault {
  readonly kind: FailureKind;
  /** The provider's error code (NoSuchHostedZone, Throttling, notFound, ...) or, with no answer, the transport's (ECONNRESET, TimeoutError, HTTP503). */
  readonly code: string;
  /** The provider's own message. */
  readonly message: string;
}

/** Where a call failed: the provider, the API call and the zone it was about. */
export interface CallSite {
  /** "route53" | "cloudDNS". */
  readonly provider: string;
  /** The API call, e.g. ChangeResourceRecordSets, rrsets.list. */
  readonly operation: string;
  /** Zone id or name, when the call is about one zone. */
  readonly zone?: string;
}

/** What a user should do about a permanent fault, per kind; provider-specific wording. */
export type FaultHints = Readonly<Partial<Record<FailureKind, string>>>;

export interface ProviderErrorOptions {
  /** PermanentError reason for a zone that does not exist, e.g. HostedZoneNotFound. */
  readonly notFoundReason: string;
  readonly hints?: FaultHints;
  /** How the provider names a zone in messages, e.g. "hosted zone". Default "zone". */
  readonly zoneNoun?: string;
}

const TRANSIENT: ReadonlySet<FailureKind> = new Set([
  'throttled',
  'unavailable',
  'conflict',
  'aborted',
]);

export function isTransientKind(kind: FailureKind): boolean {
  return TRANSIENT.has(kind);
}

/** Worth retrying the same request at once (with backoff): throttling and no answer. */
export function isRetryableKind(kind: FailureKind): boolean {
  return kind === 'throttled' || kind === 'unavailable';
}

/** The leading text of every provider error: code, message, then which call and zone. */
export function describeFault(fault: ProviderFault, site: CallSite, zoneNoun = 'zone'): string {
  const where = site.zone === undefined ? '' : `, ${zoneNoun} ${site.zone}`;
  return `${fault.code}: ${fault.message} (${site.provider} ${site.operation}${where})`;
}

/** A provider error a retry may fix. */
export class ProviderTransientError extends TransientError {
  readonly fault: ProviderFault;
  readonly site: CallSite;
  constructor(message: string, fault: ProviderFault, site: CallSite, cause: unknown) {
    super(message, { cause });
    this.fault = fault;
    this.site = site;
  }
}

/** A provider error only a user's change can fix. */
export class ProviderPermanentError extends PermanentError {
  readonly fault: ProviderFault;
  readonly site: CallSite;
  constructor(
    reason: string,
    message: string,
    fault: ProviderFault,
    site: CallSite,
    cause: unknown,
  ) {
    super(reason, message, { cause });
    this.fault = fault;
    this.site = site;
  }
}

/** The fault behind a provider error, if it is one. */
export function faultOf(err: unknown): ProviderFault | undefined {
  return err instanceof ProviderTransientError || err instanceof ProviderPermanentError
    ? err.fault
    : undefined;
}

const PERMANENT_REASON: Partial<Record<FailureKind, string>> = {
  auth: 'ProviderAuthFailed',
  invalid: 'ProviderRejected',
};

/**
 * The typed error for a fault. The cause is kept (the SDK's error); its message is already part
 * of ours, and describeError does not repeat it.
 */
export function providerError(
  fault: ProviderFault,
  site: CallSite,
  cause: unknown,
  options: ProviderErrorOptions,
): ProviderTransientError | ProviderPermanentError {
  const text = describeFault(fault, site, options.zoneNoun);
  const hint = options.hints?.[fault.kind];
  const message = hint === undefined ? text : `${text}; ${hint}`;
  if (isTransientKind(fault.kind)) return new ProviderTransientError(message, fault, site, cause);
  const reason =
    fault.kind === 'notFound'
      ? options.notFoundReason
      : (PERMANENT_REASON[fault.kind] ?? 'ProviderRejected');
  return new ProviderPermanentError(reason, message, fault, site, cause);
}
