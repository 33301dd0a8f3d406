/**
 * The AWS Route 53 provider.
 *
 * - Zones: discovered from ListHostedZones (paginated), filtered by hostedZoneIds, zoneType and
 *   the policy's domains; the list is cached for a short time.
 * - Records: each zone's record sets are listed once and kept as a cached view that the
 *   provider's own successful changes keep current; `records({refresh: true})` (full resync)
 *   and any failed change re-list. Applying one change therefore costs one API call.
 * - Changes: ChangeResourceRecordSets batches within Route 53's limits; a record and its
 *   ownership TXT always travel together; a rejected batch is retried group by group, once,
 *   and the groups that still fail are reported. Throttling is retried with bounded backoff.
 */
import type {
  ListResourceRecordSetsCommandInput,
  ResourceRecordSet,
} from '@aws-sdk/client-route-53';
import type { Logger } from 'pino';
import type { Route53Spec } from '../../api/types';
import { describeError } from '../../runtime/errors';
import type { Changes, Endpoint } from '../endpoint';
import { endpointKey, normaliseName } from '../endpoint';
import type { AdjustResult, ApplyResult, FailedGroup, Provider, RecordsOptions } from './provider';
import { shapeForRoute53 } from './route53-alias';
import type { Route53Api } from './route53-api';
import { classifyRoute53Error, isRetryableRoute53Error, route53ApiFromSdk } from './route53-api';
import type { ChangeGroup, Route53Limits } from './route53-batch';
import { buildZoneChanges, packBatches, ROUTE53_LIMITS } from './route53-batch';
import type { CredentialContext } from './route53-credentials';
import { resolveRoute53Credentials } from './route53-credentials';
import { endpointFromRecordSet, recordSetKey } from './route53-records';
import type { RetryPolicy } from '../../runtime/retry';
import { DEFAULT_RETRY, withRetries } from '../../runtime/retry';
import type { Route53Zone } from './route53-zones';
import { isUnder, selectZones, zonesForName } from './route53-zones';
import { toProviderError as toTypedProviderError } from './errors';

export interface Route53ProviderOptions {
  readonly api: Route53Api;
  readonly spec: Pick<Route53Spec, 'hostedZoneIds' | 'zoneType' | 'aliasMode'>;
  readonly domains: readonly string[];
  readonly excludeDomains?: readonly string[];
  /** How long the hosted zone list is reused. Default 60 s. */
  readonly zoneCacheTtlMs?: number;
  /** Default: Route 53's published limits. Lower only in tests. */
  readonly limits?: Route53Limits;
  readonly retry?: RetryPolicy;
  /** ListResourceRecordSets page size (Route 53 returns at most 300). */
  readonly pageSize?: number;
  readonly now?: () => number;
  readonly log?: Pick<Logger, 'debug' | 'warn'>;
}

interface ZoneListCache {
  readonly at: number;
  readonly zones: readonly Route53Zone[];
}

export class Route53Provider implements Provider {
  readonly kind = 'route53';
  readonly #opts: Route53ProviderOptions;
  readonly #domains: readonly string[];
  readonly #exclude: readonly string[];
  #zoneList: ZoneListCache | undefined;
  /** zone id -> record set key -> record set, as Route 53 holds it. */
  readonly #records = new Map<string, Map<string, ResourceRecordSet>>();
  /** Zones whose cached view can no longer be trusted (a change failed). */
  readonly #stale = new Set<string>();

  constructor(options: Route53ProviderOptions) {
    this.#opts = options;
    this.#domains = options.domains.map(normaliseName);
    this.#exclude = (options.excludeDomains ?? []).map(normaliseName);
  }

  adjustEndpoints(endpoints: readonly Endpoint[]): AdjustResult {
    return shapeForRoute53(endpoints, this.#opts.spec.aliasMode);
  }

  async records(options: RecordsOptions = {}): Promise<Endpoint[]> {
    const zones = await this.#zones(options.signal);
    for (const zone of zones) {
      if (options.refresh === true || !this.#records.has(zone.id) || this.#stale.has(zone.id)) {
        await this.#loadZone(zone, options.signal);
      }
    }
    const seen = new Set<string>();
    const out: Endpoint[] = [];
    for (const zone of zones) {
      for (const rrs of this.#records.get(zone.id)?.values() ?? []) {
        const ep = endpointFromRecordSet(rrs);
        if (ep === undefined || !this.#manages(ep.name)) continue;
        const key = endpointKey(ep);
        if (seen.has(key)) continue; // split-horizon twin or a weighted/latency set member
        seen.add(key);
        out.push(ep);
      }
    }
    return out;
  }

  async applyChanges(changes: Changes, signal?: AbortSignal): Promise<ApplyResult> {
    const zones = await this.#zones(signal);
    await this.#ensureLoaded(zones, changes, signal);
    const plan = buildZoneChanges(changes, zones, (zoneId, key) =>
      this.#records.get(zoneId)?.get(key),
    );
    const failed: FailedGroup[] = [...plan.unroutable];
    let applied = 0;
    for (const [zoneId, groups] of plan.byZone) {
      for (const batch of packBatches(groups, this.#opts.limits ?? ROUTE53_LIMITS)) {
        const result = await this.#applyBatch(zoneId, batch, signal);
        applied += result.applied;
        failed.push(...result.failed);
      }
    }
    return { applied, failed };
  }

  /** Submits one batch; when Route 53 rejects it, submits each of its groups alone, once. */
  async #applyBatch(
    zoneId: string,
    batch: readonly ChangeGroup[],
    signal?: AbortSignal,
  ): Promise<ApplyResult> {
    try {
      await this.#submit(zoneId, batch, signal);
      return { applied: count(batch), failed: [] };
    } catch (err) {
      this.#stale.add(zoneId);
      if (classifyRoute53Error(err) !== 'rejected')
        throw toProviderError(err, 'ChangeResourceRecordSets');
      if (batch.length === 1) return { applied: 0, failed: failedGroups(batch[0]!, err) };
      this.#opts.log?.warn(
        { zoneId, groups: batch.length, err: describeError(err) },
        'route53 rejected a batch; retrying its groups one by one',
      );
    }
    let applied = 0;
    const failed: FailedGroup[] = [];
    for (const group of batch) {
      try {
        await this.#submit(zoneId, [group], signal);
        applied += group.endpointCount;
      } catch (err) {
        if (classifyRoute53Error(err) !== 'rejected')
          throw toProviderError(err, 'ChangeResourceRecordSets');
        failed.push(...failedGroups(group, err));
      }
    }
    return { applied, failed };
  }

  async #submit(
    zoneId: string,
    batch: readonly ChangeGroup[],
    signal?: AbortSignal,
  ): Promise<void> {
    const changes = batch.flatMap((g) => g.changes);
    this.#opts.log?.debug({ zoneId, changes: changes.length }, 'route53 ChangeResourceRecordSets');
    await withRetries(
      () =>
        this.#opts.api.changeResourceRecordSets(
          { HostedZoneId: zoneId, ChangeBatch: { Comment: 'dnsop', Changes: changes } },
          signal,
        ),
      isRetryableRoute53Error,
      this.#opts.retry ?? DEFAULT_RETRY,
      signal,
    );
    const cache = this.#records.get(zoneId);
    if (!cache) return;
    for (const change of changes) {
      const rrs = change.ResourceRecordSet;
      if (!rrs) continue;
      if (change.Action === 'DELETE') cache.delete(recordSetKey(rrs));
      else cache.set(recordSetKey(rrs), rrs);
    }
  }

  async #zones(signal?: AbortSignal): Promise<readonly Route53Zone[]> {
    const now = (this.#opts.now ?? Date.now)();
    const ttl = this.#opts.zoneCacheTtlMs ?? 60_000;
    if (this.#zoneList && now - this.#zoneList.at < ttl) return this.#zoneList.zones;
    const all = [];
    let marker: string | undefined;
    do {
      const page = await this.#call('ListHostedZones', signal, () =>
        this.#opts.api.listHostedZones({ Marker: marker }, signal),
      );
      all.push(...(page.HostedZones ?? []));
      marker = page.IsTruncated ? page.NextMarker : undefined;
    } while (marker !== undefined);
    const zones = selectZones(all, {
      domains: this.#domains,
      hostedZoneIds: this.#opts.spec.hostedZoneIds,
      zoneType: this.#opts.spec.zoneType,
    });
    // Zones that are gone lose their cached records.
    for (const id of this.#records.keys())
      if (!zones.some((z) => z.id === id)) this.#records.delete(id);
    this.#zoneList = { at: now, zones };
    return zones;
  }

  async #loadZone(zone: Route53Zone, signal?: AbortSignal): Promise<void> {
    const records = new Map<string, ResourceRecordSet>();
    let from: ListResourceRecordSetsCommandInput | undefined = {
      HostedZoneId: zone.id,
      MaxItems: this.#opts.pageSize ?? 300,
    };
    while (from !== undefined) {
      const input: ListResourceRecordSetsCommandInput = from;
      const page = await this.#call('ListResourceRecordSets', signal, () =>
        this.#opts.api.listResourceRecordSets(input, signal),
      );
      for (const rrs of page.ResourceRecordSets ?? []) records.set(recordSetKey(rrs), rrs);
      from = page.IsTruncated
        ? {
            ...input,
            StartRecordName: page.NextRecordName,
            StartRecordType: page.NextRecordType,
            StartRecordIdentifier: page.NextRecordIdentifier,
          }
        : undefined;
    }
    this.#records.set(zone.id, records);
    this.#stale.delete(zone.id);
  }

  /** Loads the zones a change touches when they are not cached yet or no longer trusted. */
  async #ensureLoaded(
    zones: readonly Route53Zone[],
    changes: Changes,
    signal?: AbortSignal,
  ): Promise<void> {
    const needed = new Map<string, Route53Zone>();
    for (const list of [changes.create, changes.updateOld, changes.updateNew, changes.delete]) {
      for (const ep of list) for (const z of zonesForName(zones, ep.name)) needed.set(z.id, z);
    }
    for (const zone of needed.values()) {
      if (!this.#records.has(zone.id) || this.#stale.has(zone.id))
        await this.#loadZone(zone, signal);
    }
  }

  #manages(name: string): boolean {
    return (
      this.#domains.some((d) => isUnder(name, d)) && !this.#exclude.some((d) => isUnder(name, d))
    );
  }

  async #call<T>(what: string, signal: AbortSignal | undefined, op: () => Promise<T>): Promise<T> {
    try {
      return await withRetries(
        op,
        isRetryableRoute53Error,
        this.#opts.retry ?? DEFAULT_RETRY,
        signal,
      );
    } catch (err) {
      throw toProviderError(err, what);
    }
  }
}

function count(batch: readonly ChangeGroup[]): number {
  return batch.reduce((n, g) => n + g.endpointCount, 0);
}

function failedGroups(group: ChangeGroup, err: unknown): FailedGroup[] {
  const message = describeError(err);
  return group.groupKeys.map((key) => ({ group: key, message }));
}

/** Maps a failed call to the operator's typed errors, keeping the provider's own message. */
export function toProviderError(err: unknown, what: string): Error {
  return toTypedProviderError(err, {
    provider: 'route53',
    call: what,
    kind: classifyRoute53Error(err),
    notFoundReason: 'HostedZoneNotFound',
  });
}

export interface Route53ProviderParams {
  readonly spec: Route53Spec;
  readonly domains: readonly string[];
  readonly excludeDomains?: readonly string[];
  readonly credentials: CredentialContext;
  readonly log?: Pick<Logger, 'debug' | 'warn'>;
}

/** Builds the provider for one DNSPolicy: credentials from its Secret (or ambient), real SDK. */
export async function newRoute53Provider(params: Route53ProviderParams): Promise<Route53Provider> {
  const choice = await resolveRoute53Credentials(params.spec, params.credentials);
  const api = route53ApiFromSdk({
    region: params.spec.region,
    ...(params.spec.endpoint ? { endpoint: params.spec.endpoint } : {}),
    ...(choice.kind === 'static' ? { credentials: choice.credentials } : {}),
  });
  return new Route53Provider({
    api,
    spec: params.spec,
    domains: params.domains,
    ...(params.excludeDomains ? { excludeDomains: params.excludeDomains } : {}),
    ...(params.log ? { log: params.log } : {}),
  });
}
