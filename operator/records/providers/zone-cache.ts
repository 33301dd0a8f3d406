/**
 * What every zone-based cloud provider (Route 53, Cloud DNS) shares, beside the port: the cached
 * list of the policy's zones, a cached view of each zone's record sets that the provider's own
 * successful changes keep current, name-to-zone routing and the policy's domain filter.
 *
 * Caches survive failures: a zone list that cannot be refreshed (throttling, an outage) keeps
 * being served until it can; a zone whose listing fails keeps its last view. A zone's view is
 * dropped only when the provider no longer knows what the zone holds (a change whose outcome is
 * unknown, a conflict), and re-listed before it is used again.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import { describeError, TransientError } from '../../runtime/errors';
import type { RetryPolicy } from '../../runtime/retry';
import type { Endpoint } from '../endpoint';
import { endpointKey } from '../endpoint';
import { DomainFilter, isNameUnder } from '../hostname';
import { parseOwnershipName } from '../registry';
import type { ProviderMetrics } from './calls';
import type { RecordsOptions } from './provider';
import type { RateLimiter } from './rate-limit';
import type { SharedListings } from './shared-listings';

/** What both cloud providers take besides their API and spec. */
export interface CloudProviderOptions {
  readonly domains: readonly string[];
  readonly excludeDomains?: readonly string[];
  /** How long the zone list is reused. Default 60 s. */
  readonly zoneCacheTtlMs?: number;
  readonly retry?: RetryPolicy;
  /** The cloud account's limiter, shared by every policy using the account (accounts.ts). */
  readonly limiter?: RateLimiter;
  /** The cloud account's shared listings, shared like the limiter (shared-listings.ts). */
  readonly listings?: SharedListings;
  readonly metrics?: ProviderMetrics;
  readonly now?: () => number;
  readonly log?: Pick<Logger, 'debug' | 'warn'>;
}

/** A zone as the cache needs it. */
export interface ZoneRef {
  /** The provider's identifier (hosted zone id, managed zone name). */
  readonly id: string;
  /** DNS name, normalised (lower case, no trailing dot). */
  readonly name: string;
}

/** The provider-specific half: how to list zones and record sets, and read a record set. */
export interface ZoneSource<Z extends ZoneRef, R> {
  /** The policy's zones, from the API. Throws typed errors (none found is permanent). */
  listZones(signal?: AbortSignal): Promise<readonly Z[]>;
  /** Every record set of one zone, from the API. */
  listRecordSets(zone: Z, signal?: AbortSignal): Promise<Iterable<R>>;
  /** Identity of a record set inside its zone. */
  recordKey(rrset: R): string;
  /** The Endpoint view of a record set, or undefined for types dnsop does not manage. */
  endpointOf(rrset: R): Endpoint | undefined;
}

export interface ZoneCacheOptions {
  readonly filter: DomainFilter;
  readonly zoneTtlMs?: number;
  readonly now?: () => number;
  readonly log?: Pick<Logger, 'debug' | 'warn'>;
  /** "route53" | "cloudDNS", for log lines. */
  readonly provider: string;
  /** Called when a zone changed through this cache, or may have (commit, markStale). */
  readonly onZoneChanged?: (zoneId: string) => void;
}

/**
 * endpointOf -> record set -> its Endpoint (null: a type dnsop does not manage). A shared listing
 * hands every policy of the account the same record set objects, so each is converted once, not
 * once per policy (the conversion is pure; record sets are never modified in place).
 */
const converted = new WeakMap<object, WeakMap<object, Endpoint | null>>();

function endpointOnce<R>(
  source: Pick<ZoneSource<ZoneRef, R>, 'endpointOf'>,
  rrset: R,
): Endpoint | undefined {
  if (typeof rrset !== 'object' || rrset === null) return source.endpointOf(rrset);
  let memo = converted.get(source.endpointOf);
  if (memo === undefined) {
    memo = new WeakMap();
    converted.set(source.endpointOf, memo);
  }
  let ep = memo.get(rrset);
  if (ep === undefined) {
    ep = source.endpointOf(rrset) ?? null;
    memo.set(rrset, ep);
  }
  return ep ?? undefined;
}

/** After a failed refresh of the zone list, the cached one is served this long before trying again. */
const ZONE_RETRY_MS = 10_000;

export class ZoneCache<Z extends ZoneRef, R> {
  readonly #source: ZoneSource<Z, R>;
  readonly #opts: ZoneCacheOptions;
  #zones: readonly Z[] | undefined;
  /** When the zone list must be listed again. */
  #zonesDueAt = 0;
  /** zone id -> record key -> record set, as the provider holds it. */
  readonly #records = new Map<string, Map<string, R>>();
  /** Zones whose cached view can no longer be trusted. */
  readonly #stale = new Set<string>();
  /** zone id -> the policy's records in the view, as Endpoints (until the view changes). */
  readonly #managed = new Map<string, readonly Endpoint[]>();
  /** zone id -> the listing its view was last read from (until a change is committed to it). */
  readonly #listedFrom = new Map<string, Iterable<R>>();
  /** The last answer of records() and the zones it was made of (until a view changes). */
  #answer: { readonly zones: string; readonly endpoints: Endpoint[] } | undefined;

  constructor(source: ZoneSource<Z, R>, options: ZoneCacheOptions) {
    this.#source = source;
    this.#opts = options;
  }

  /** The policy's zones: the cached list while fresh; the last list while a refresh fails transiently. */
  async zones(signal?: AbortSignal): Promise<readonly Z[]> {
    const now = this.#now();
    if (this.#zones !== undefined && now < this.#zonesDueAt) return this.#zones;
    let listed: readonly Z[];
    try {
      listed = await this.#source.listZones(signal);
    } catch (err) {
      if (this.#zones === undefined || !(err instanceof TransientError) || signal?.aborted) {
        throw err;
      }
      this.#zonesDueAt = now + Math.min(ZONE_RETRY_MS, this.#ttl());
      this.#opts.log?.warn(
        { provider: this.#opts.provider, err: describeError(err) },
        'could not refresh the zone list; using the last one',
      );
      return this.#zones;
    }
    const ids = new Set(listed.map((z) => z.id));
    for (const id of [...this.#records.keys()]) {
      if (!ids.has(id)) {
        this.#records.delete(id);
        this.#stale.delete(id);
        this.#viewChanged(id);
      }
    }
    this.#zones = listed;
    this.#zonesDueAt = now + this.#ttl();
    return listed;
  }

  /**
   * Every managed record of the policy's zones. Zones are listed when not cached, no longer
   * trusted, or when `refresh` asks for a full resync. While no zone's view changed (a listing
   * that reads as the view did changes nothing), the answer is the same array as last time: the
   * reconciler knows from that alone that the provider's side is as it was (its steady check).
   */
  async records(options: RecordsOptions = {}): Promise<Endpoint[]> {
    const zones = await this.zones(options.signal);
    for (const zone of zones) {
      if (options.refresh === true || !this.#usable(zone.id)) {
        await this.reload(zone, options.signal);
      }
    }
    const zoneIds = zones.map((z) => z.id).join('\u0000');
    if (this.#answer?.zones === zoneIds) return this.#answer.endpoints;
    const seen = new Set<string>();
    const out: Endpoint[] = [];
    for (const zone of zones) {
      for (const ep of this.#managedIn(zone.id)) {
        const key = endpointKey(ep);
        if (seen.has(key)) continue; // split-horizon twin or a weighted/latency set member
        seen.add(key);
        out.push(ep);
      }
    }
    this.#answer = { zones: zoneIds, endpoints: out };
    return out;
  }

  /**
   * The policy's records of one zone. Converted once per view, not per sync: fifty policies
   * sharing a zone of hundreds of record sets each read it at every sync and resync (issue 14).
   */
  #managedIn(zoneId: string): readonly Endpoint[] {
    let managed = this.#managed.get(zoneId);
    if (managed !== undefined) return managed;
    const view = this.#records.get(zoneId);
    if (view === undefined) return [];
    const eps: Endpoint[] = [];
    for (const rrset of view.values()) {
      const ep = endpointOnce(this.#source, rrset);
      if (ep !== undefined && policyManages(this.#opts.filter, ep)) eps.push(ep);
    }
    managed = eps;
    this.#managed.set(zoneId, managed);
    return managed;
  }

  /** Lists the zones that are not cached or no longer trusted. */
  async ensureLoaded(zones: Iterable<Z>, signal?: AbortSignal): Promise<void> {
    for (const zone of zones) if (!this.#usable(zone.id)) await this.reload(zone, signal);
  }

  /**
   * Lists one zone from the API; its view is replaced only when the whole listing succeeded, and
   * only when it reads differently (the periodic resync of a zone nobody changed is no change).
   */
  async reload(zone: Z, signal?: AbortSignal): Promise<void> {
    const listed = await this.#source.listRecordSets(zone, signal);
    const stale = this.#stale.delete(zone.id);
    const before = this.#records.get(zone.id);
    // The very answer the view was made from (a shared listing that read the same): nothing new.
    if (!stale && before !== undefined && this.#listedFrom.get(zone.id) === listed) return;
    const view = new Map<string, R>();
    for (const rrset of listed) view.set(this.#source.recordKey(rrset), rrset);
    if (stale || before === undefined || !sameView(before, view)) {
      this.#records.set(zone.id, view);
      this.#viewChanged(zone.id);
    }
    this.#listedFrom.set(zone.id, listed);
  }

  /** The record set the zone holds under `key`, as last seen. */
  lookup(zoneId: string, key: string): R | undefined {
    return this.#records.get(zoneId)?.get(key);
  }

  /** Records the effect of a change the provider accepted. */
  commit(zoneId: string, removed: readonly R[], written: readonly R[]): void {
    this.#opts.onZoneChanged?.(zoneId);
    this.#viewChanged(zoneId);
    const view = this.#records.get(zoneId);
    if (view === undefined) return;
    for (const r of removed) view.delete(this.#source.recordKey(r));
    for (const r of written) view.set(this.#source.recordKey(r), r);
  }

  /** The zone's view is no longer trusted: it is listed again before the next use. */
  markStale(zoneId: string): void {
    this.#opts.onZoneChanged?.(zoneId);
    this.#stale.add(zoneId);
    this.#viewChanged(zoneId);
  }

  /** The zone's view changed: its Endpoints are read again when next asked for. */
  #viewChanged(zoneId: string): void {
    this.#managed.delete(zoneId);
    this.#listedFrom.delete(zoneId);
    this.#answer = undefined;
  }

  #usable(zoneId: string): boolean {
    return this.#records.has(zoneId) && !this.#stale.has(zoneId);
  }

  #ttl(): number {
    return this.#opts.zoneTtlMs ?? 60_000;
  }

  #now(): number {
    return (this.#opts.now ?? Date.now)();
  }
}

/** True when two views of a zone hold the same record sets (the same objects, or equal ones). */
function sameView<R>(a: ReadonlyMap<string, R>, b: ReadonlyMap<string, R>): boolean {
  if (a.size !== b.size) return false;
  for (const [key, rrset] of a) {
    const other = b.get(key);
    if (other !== rrset && (other === undefined || !isDeepStrictEqual(other, rrset))) return false;
  }
  return true;
}

/**
 * Whether a record is the policy's business: its name (for dnsop's ownership TXT, the name of
 * the record it describes) is within `domains` and outside `excludeDomains`.
 */
export function policyManages(filter: DomainFilter, ep: Endpoint): boolean {
  const described = ep.type === 'TXT' ? parseOwnershipName(ep.name) : undefined;
  return filter.matches(described?.name ?? ep.name);
}

/** True when a zone can hold names of the policy: it is one of the domains, under one, or above one. */
export function zoneServesDomains(zoneName: string, domains: readonly string[]): boolean {
  return domains.some((d) => isNameUnder(zoneName, d) || isNameUnder(d, zoneName));
}

/**
 * The zones a record name belongs to: those with the most specific matching name. Two zones of
 * one name (a public and a private one: split horizon) both receive the record.
 */
export function zonesForName<Z extends ZoneRef>(zones: readonly Z[], name: string): Z[] {
  let best = -1;
  for (const z of zones) if (isNameUnder(name, z.name)) best = Math.max(best, z.name.length);
  return best < 0 ? [] : zones.filter((z) => z.name.length === best && isNameUnder(name, z.name));
}

export { DomainFilter };
