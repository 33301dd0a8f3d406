/**
 * The skeleton both cloud providers share, beside the port: a Provider over zones, whose calls
 * go through the account's limiter and the typed-error classification (calls.ts), whose zones
 * and records are cached (zone-cache.ts) and whose changes are grouped, packed and isolated
 * (zone-changes.ts). A provider subclass supplies only what is its own: its traits (error
 * classification, record format, per-request limits) and three API operations.
 */
import type { Changes, Endpoint } from '../endpoint';
import { DomainFilter } from '../hostname';
import { ProviderCalls } from './calls';
import type { FaultHints, ProviderFault } from './errors';
import type { AdjustResult, ApplyResult, Provider, RecordsOptions } from './provider';
import type { CloudProviderOptions, ZoneRef } from './zone-cache';
import { ZoneCache } from './zone-cache';
import type { ChangeDriver, ResolvedGroup } from './zone-changes';
import { ZoneChangeApplier } from './zone-changes';

/** What makes a zoned provider itself, besides its API operations. */
export interface ZonedProviderTraits<R> extends Omit<ChangeDriver<R>, 'submit'> {
  /** "route53" | "cloudDNS". */
  readonly provider: string;
  /** PermanentError reason for a zone that does not exist. */
  readonly notFoundReason: string;
  readonly classify: (err: unknown) => ProviderFault;
  readonly hints: FaultHints;
  readonly recordKey: (rrset: R) => string;
  readonly endpointOf: (rrset: R) => Endpoint | undefined;
}

export abstract class ZonedProvider<Z extends ZoneRef, R> implements Provider {
  abstract readonly kind: string;
  /** Every API request of the subclass goes through here. */
  protected readonly calls: ProviderCalls;
  readonly #cache: ZoneCache<Z, R>;
  readonly #applier: ZoneChangeApplier<Z, R>;

  protected constructor(options: CloudProviderOptions, traits: ZonedProviderTraits<R>) {
    this.calls = new ProviderCalls({
      provider: traits.provider,
      classify: traits.classify,
      notFoundReason: traits.notFoundReason,
      zoneNoun: traits.zoneNoun,
      hints: traits.hints,
      ...(options.limiter ? { limiter: options.limiter } : {}),
      ...(options.listings ? { listings: options.listings } : {}),
      ...(options.metrics ? { metrics: options.metrics } : {}),
      ...(options.retry ? { retry: options.retry } : {}),
    });
    this.#cache = new ZoneCache<Z, R>(
      {
        listZones: (signal) => this.listZones(signal),
        listRecordSets: (zone, signal) =>
          this.calls.listing(
            { operation: 'listRecordSets', zone: zone.id },
            (s) => this.listRecordSets(zone, s),
            signal,
          ),
        recordKey: traits.recordKey,
        endpointOf: traits.endpointOf,
      },
      {
        provider: traits.provider,
        onZoneChanged: (zoneId) => this.calls.changed(zoneId),
        filter: new DomainFilter(options.domains, options.excludeDomains ?? []),
        ...(options.zoneCacheTtlMs !== undefined ? { zoneTtlMs: options.zoneCacheTtlMs } : {}),
        ...(options.now ? { now: options.now } : {}),
        ...(options.log ? { log: options.log } : {}),
      },
    );
    this.#applier = new ZoneChangeApplier<Z, R>(this.#cache, {
      zoneNoun: traits.zoneNoun,
      limits: traits.limits,
      cost: traits.cost,
      describeCost: traits.describeCost,
      effects: traits.effects,
      submit: (zoneId, groups, signal) => this.submit(zoneId, groups, signal),
    });
  }

  abstract adjustEndpoints(endpoints: readonly Endpoint[]): AdjustResult;

  records(options: RecordsOptions = {}): Promise<Endpoint[]> {
    return this.#cache.records(options);
  }

  applyChanges(changes: Changes, signal?: AbortSignal): Promise<ApplyResult> {
    return this.#applier.apply(changes, signal);
  }

  /** The policy's zones, from the API; none found is a permanent error. */
  protected abstract listZones(signal?: AbortSignal): Promise<readonly Z[]>;
  /** Every record set of one zone, from the API. */
  protected abstract listRecordSets(zone: Z, signal?: AbortSignal): Promise<Iterable<R>>;
  /** Applies groups as one atomic request; resolves when applied. */
  protected abstract submit(
    zoneId: string,
    groups: readonly ResolvedGroup<R>[],
    signal?: AbortSignal,
  ): Promise<void>;
}
