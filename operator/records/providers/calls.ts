/**
 * Every cloud provider API request goes through ProviderCalls.call: it waits for the account's
 * rate limiter, counts the request (dnsop_provider_requests_total / _throttled_total), retries
 * throttling and no-answer failures with bounded backoff (each retry through the limiter again),
 * and throws the provider's typed error for anything else.
 */
import type { Metrics } from '../../runtime/metrics';
import type { RetryPolicy } from '../../runtime/retry';
import { DEFAULT_RETRY, withRetries } from '../../runtime/retry';
import type { CallSite, ProviderErrorOptions, ProviderFault } from './errors';
import { isRetryableKind, providerError } from './errors';
import type { RateLimiter } from './rate-limit';
import { UNLIMITED } from './rate-limit';
import type { SharedListings } from './shared-listings';

/** The provider metrics a call records; a subset of the operator's Metrics. */
export type ProviderMetrics = Pick<Metrics, 'providerRequests' | 'providerThrottled'>;

export interface ProviderCallsOptions extends ProviderErrorOptions {
  /** "route53" | "cloudDNS": the metrics' provider label and the messages' prefix. */
  readonly provider: string;
  /** Turns whatever the SDK threw into the provider's fault. */
  readonly classify: (err: unknown) => ProviderFault;
  /** The account's limiter. Default: none (tests of one provider alone). */
  readonly limiter?: RateLimiter;
  readonly metrics?: ProviderMetrics;
  readonly retry?: RetryPolicy;
  /** The account's shared listings (shared-listings.ts). Default: none, each listing is its own. */
  readonly listings?: SharedListings;
}

export class ProviderCalls {
  readonly #opts: ProviderCallsOptions;

  constructor(options: ProviderCallsOptions) {
    this.#opts = options;
  }

  get limiter(): RateLimiter {
    return this.#opts.limiter ?? UNLIMITED;
  }

  /**
   * A typed error about the policy's zones found without a failed request (none matches the
   * policy, a named zone cannot serve it), worded like the provider's own errors.
   */
  refusal(site: Omit<CallSite, 'provider'>, fault: ProviderFault): Error {
    return providerError(fault, { provider: this.#opts.provider, ...site }, undefined, this.#opts);
  }

  /**
   * A listing (one or several paginated requests made by `load`), shared with every provider of
   * the account when it shares them. A caller that gives up gets an aborted error as from call.
   */
  async listing<T>(
    site: Omit<CallSite, 'provider'>,
    load: (signal?: AbortSignal) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    const listings = this.#opts.listings;
    if (listings === undefined) return load(signal);
    try {
      return await listings.read(site.operation, site.zone ?? '', load, signal);
    } catch (err) {
      if (signal?.aborted !== true) throw err;
      throw providerError(
        abortedFault(signal),
        { provider: this.#opts.provider, ...site },
        err,
        this.#opts,
      );
    }
  }

  /** The zone changed, or may have: no provider of the account reuses a listing of it from before. */
  changed(zone: string): void {
    this.#opts.listings?.invalidate(zone);
  }

  /**
   * One API request. Throttling and failures without an answer are retried with backoff; the
   * rest is thrown at once as ProviderTransientError / ProviderPermanentError.
   */
  async call<T>(
    site: Omit<CallSite, 'provider'>,
    request: (signal?: AbortSignal) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    const { provider, classify, metrics } = this.#opts;
    const limiter = this.limiter;
    const operation = site.operation;
    let last: ProviderFault | undefined;
    const attempt = async (): Promise<T> => {
      last = undefined;
      await limiter.acquire(signal);
      try {
        const value = await untilAborted(request(signal), signal);
        metrics?.providerRequests.inc({ provider, operation, code: 'OK' });
        return value;
      } catch (err) {
        last = classify(err);
        if (last.kind !== 'aborted') {
          metrics?.providerRequests.inc({ provider, operation, code: last.code });
        }
        if (last.kind === 'throttled') {
          limiter.throttled();
          metrics?.providerThrottled.inc({ provider });
        }
        throw err;
      }
    };
    try {
      return await withRetries(
        attempt,
        () => last !== undefined && isRetryableKind(last.kind),
        this.#opts.retry ?? DEFAULT_RETRY,
        signal,
      );
    } catch (err) {
      // An abort while waiting for the limiter or a backoff never reached the API.
      const fault = signal?.aborted === true ? abortedFault(signal) : (last ?? classify(err));
      throw providerError(fault, { provider, ...site }, err, this.#opts);
    }
  }
}

/** The fault of a call its caller gave up on (the signal's reason, if it is an Error). */
function abortedFault(signal: AbortSignal): ProviderFault {
  const reason: unknown = signal.reason;
  const message = reason instanceof Error ? reason.message : 'the call was aborted';
  return { kind: 'aborted', code: 'Aborted', message };
}

/**
 * Rejects as soon as the signal aborts, even when the request itself cannot be cancelled (the
 * Google client takes no signal); the request's own outcome is then ignored.
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void =>
      reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
