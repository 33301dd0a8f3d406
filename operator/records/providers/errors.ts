/** How every cloud provider turns a failed API call into the operator's typed errors. */
import { describeError, PermanentError, TransientError } from '../../runtime/errors';

/** What a failed call means for the reconciler, whatever the provider. */
export type ProviderFailureKind =
  'throttled' | 'unavailable' | 'conflict' | 'rejected' | 'auth' | 'notFound' | 'other';

export interface ProviderErrorOptions {
  /** "route53", "cloudDNS": prefixes the message. */
  readonly provider: string;
  /** The API call that failed, e.g. ChangeResourceRecordSets. */
  readonly call: string;
  readonly kind: ProviderFailureKind;
  /** Reason used when the zone is not found, e.g. HostedZoneNotFound. */
  readonly notFoundReason: string;
}

/**
 * Throttling, unavailability and conflicts are transient (retry with backoff); the rest need a
 * user's change (a condition and an Event). The provider's own message is kept.
 */
export function toProviderError(err: unknown, options: ProviderErrorOptions): Error {
  if (err instanceof TransientError || err instanceof PermanentError) return err;
  const message = `${options.provider} ${options.call}: ${describeError(err)}`;
  switch (options.kind) {
    case 'throttled':
    case 'unavailable':
    case 'conflict':
      return new TransientError(message, { cause: err });
    case 'auth':
      return new PermanentError('ProviderAuthFailed', message, { cause: err });
    case 'notFound':
      return new PermanentError(options.notFoundReason, message, { cause: err });
    default:
      return new PermanentError('ProviderRejected', message, { cause: err });
  }
}
