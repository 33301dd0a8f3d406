/**
 * The Google Cloud DNS provider.
 *
 * - Zones: the spec's managedZones, or every managed zone of the project whose dnsName relates to
 *   the policy's domains (paginated); the list is cached for a short time.
 * - Records: each zone's rrsets are listed once (paginated) and kept current with the provider's
 *   own successful changes; `records({refresh: true})` and any failed change re-list.
 * - Changes: one atomic Cloud DNS change (deletions + additions) per zone per sync, split only at
 *   the API's per-change limits and never inside a group (record + ownership TXT). Each change is
 *   polled until `done` within a deadline. On 409/412 the zone is re-read and the change
 *   re-planned once; if it still conflicts, groups are submitted alone and the ones that fail
 *   are reported.
 */
import type { Logger } from 'pino';
import type { CloudDnsSpec } from '../../api/types';
import { backoffDelay, sleep } from '../../runtime/backoff';
import { describeError, TransientError } from '../../runtime/errors';
import type { Changes, Endpoint } from '../endpoint';
import { endpointKey, normaliseName } from '../endpoint';
import type { AdjustResult, ApplyResult, FailedGroup, Provider, RecordsOptions } from './provider';
import type { CloudDnsApi, CloudDnsRrset, CloudDnsZone } from './clouddns-api';
import {
  classifyCloudDnsError,
  cloudDnsApiFromClient,
  isRetryableCloudDnsError,
} from './clouddns-api';
import { resolveCloudDnsCredentials } from './clouddns-credentials';
import type { CloudDnsLimits, ConcreteGroup, IntentGroup } from './clouddns-records';
import {
  CLOUDDNS_LIMITS,
  concretise,
  endpointFromRrset,
  groupIntents,
  packChanges,
  rrsetKey,
  shapeForCloudDns,
} from './clouddns-records';
import type { CredentialContext } from './credentials';
import type { RetryPolicy } from '../../runtime/retry';
import { DEFAULT_RETRY, withRetries } from '../../runtime/retry';
import { toProviderError as toTypedProviderError } from './errors';

export interface CloudDnsProviderOptions {
  readonly api: CloudDnsApi;
  readonly spec: Pick<CloudDnsSpec, 'managedZones'>;
  readonly domains: readonly string[];
  readonly excludeDomains?: readonly string[];
  /** How long the managed zone list is reused. Default 60 s. */
  readonly zoneCacheTtlMs?: number;
  readonly limits?: CloudDnsLimits;
  readonly retry?: RetryPolicy;
  /** rrsets.list maxResults. */
  readonly pageSize?: number;
  /** How long to wait for a change to be `done`. Default 120 s. */
  readonly changeDeadlineMs?: number;
  /** First poll delay; doubles up to 2 s. Default 100 ms. */
  readonly pollIntervalMs?: number;
  readonly now?: () => number;
  readonly log?: Pick<Logger, 'debug' | 'warn'>;
}

interface Zone {
  readonly name: string;
  /** Normalised dnsName. */
  readonly domain: string;
}

const isUnder = (name: string, domain: string): boolean =>
  name === domain || name.endsWith(`.${domain}`);

export class CloudDnsProvider implements Provider {
  readonly kind = 'cloudDNS';
  readonly #opts: CloudDnsProviderOptions;
  readonly #domains: readonly string[];
  readonly #exclude: readonly string[];
  #zoneList: { at: number; zones: readonly Zone[] } | undefined;
  readonly #records = new Map<string, Map<string, CloudDnsRrset>>();
  readonly #stale = new Set<string>();

  constructor(options: CloudDnsProviderOptions) {
    this.#opts = options;
    this.#domains = options.domains.map(normaliseName);
    this.#exclude = (options.excludeDomains ?? []).map(normaliseName);
  }

  /** Cloud DNS has no alias records: provider-specific Route 53 data is dropped. */
  adjustEndpoints(endpoints: readonly Endpoint[]): AdjustResult {
    return shapeForCloudDns(endpoints);
  }

  async records(options: RecordsOptions = {}): Promise<Endpoint[]> {
    const zones = await this.#zones();
    for (const zone of zones) {
      if (options.refresh === true || !this.#records.has(zone.name) || this.#stale.has(zone.name)) {
        await this.#loadZone(zone.name, options.signal);
      }
    }
    const seen = new Set<string>();
    const out: Endpoint[] = [];
    for (const zone of zones) {
      for (const rrset of this.#records.get(zone.name)?.values() ?? []) {
        const ep = endpointFromRrset(rrset);
        if (ep === undefined || !this.#manages(ep.name) || seen.has(endpointKey(ep))) continue;
        seen.add(endpointKey(ep));
        out.push(ep);
      }
    }
    return out;
  }

  async applyChanges(changes: Changes, signal?: AbortSignal): Promise<ApplyResult> {
    const zones = await this.#zones();
    const { groups, unroutable } = groupIntents(changes, (name) => zoneFor(zones, name)?.name);
    const failed: FailedGroup[] = unroutable.map((ep) => ({
      group: endpointKey(ep),
      message: `${ep.name} is in none of the policy's managed zones`,
    }));
    let applied = 0;
    const byZone = new Map<string, IntentGroup[]>();
    for (const g of groups) byZone.set(g.zone, [...(byZone.get(g.zone) ?? []), g]);
    for (const [zone, intents] of byZone) {
      if (!this.#records.has(zone) || this.#stale.has(zone)) await this.#loadZone(zone, signal);
      const result = await this.#applyZone(zone, intents, signal);
      applied += result.applied;
      failed.push(...result.failed);
    }
    return { applied, failed };
  }

  async #applyZone(
    zone: string,
    intents: readonly IntentGroup[],
    signal?: AbortSignal,
  ): Promise<ApplyResult> {
    let applied = 0;
    const failed: FailedGroup[] = [];
    const { ready, conflicted } = this.#concretise(intents);
    failed.push(...conflicted);
    for (const change of packChanges(ready, this.#opts.limits ?? CLOUDDNS_LIMITS)) {
      const result = await this.#applyChange(zone, change, signal);
      applied += result.applied;
      failed.push(...result.failed);
    }
    return { applied, failed };
  }

  /** One change; on conflict re-read and re-plan once; then group by group; never loops. */
  async #applyChange(
    zone: string,
    groups: readonly ConcreteGroup[],
    signal?: AbortSignal,
  ): Promise<ApplyResult> {
    const first = await this.#trySubmit(zone, groups, signal);
    if (first === 'ok') return { applied: count(groups), failed: [] };
    const failed: FailedGroup[] = [];
    let pending: readonly ConcreteGroup[] = groups;
    if (first.kind === 'conflict') {
      this.#opts.log?.warn(
        { zone, err: first.message },
        'cloudDNS change conflicted; re-reading the zone and re-planning once',
      );
      await this.#loadZone(zone, signal);
      const replanned = this.#concretise(groups.map((g) => g.intent));
      failed.push(...replanned.conflicted);
      pending = replanned.ready;
      if (pending.length === 0) return { applied: 0, failed };
      const second = await this.#trySubmit(zone, pending, signal);
      if (second === 'ok') return { applied: count(pending), failed };
    }
    if (pending.length === 1) {
      return { applied: 0, failed: [...failed, ...failedOf(pending[0]!, first.message)] };
    }
    // Isolate the offending groups: each alone, once.
    let applied = 0;
    for (const group of pending) {
      const alone = await this.#trySubmit(zone, [group], signal);
      if (alone === 'ok') applied += group.endpointCount;
      else failed.push(...failedOf(group, alone.message));
    }
    return { applied, failed };
  }

  /** 'ok', or the conflict/rejection Cloud DNS answered; anything else is thrown typed. */
  async #trySubmit(
    zone: string,
    groups: readonly ConcreteGroup[],
    signal?: AbortSignal,
  ): Promise<'ok' | { kind: 'conflict' | 'rejected'; message: string }> {
    const additions = groups.flatMap((g) => g.additions);
    const deletions = groups.flatMap((g) => g.deletions);
    if (additions.length === 0 && deletions.length === 0) return 'ok';
    let change;
    try {
      change = await withRetries(
        () => this.#opts.api.createChange(zone, { additions, deletions }),
        isRetryableCloudDnsError,
        this.#opts.retry ?? DEFAULT_RETRY,
        signal,
      );
    } catch (err) {
      this.#stale.add(zone);
      const kind = classifyCloudDnsError(err);
      // 404 on a change means a deletion named an rrset that is gone: the zone moved under us.
      if (kind === 'conflict' || kind === 'notFound')
        return { kind: 'conflict', message: describeError(err) };
      if (kind === 'rejected') return { kind: 'rejected', message: describeError(err) };
      throw toProviderError(err, 'changes.create');
    }
    const cache = this.#records.get(zone);
    for (const d of deletions) cache?.delete(rrsetKey(d));
    for (const a of additions) cache?.set(rrsetKey(a), a);
    await this.#waitDone(zone, change.id, change.status, signal);
    return 'ok';
  }

  async #waitDone(zone: string, id: string, status: string, signal?: AbortSignal): Promise<void> {
    const now = this.#opts.now ?? Date.now;
    const deadline = now() + (this.#opts.changeDeadlineMs ?? 120_000);
    const base = this.#opts.pollIntervalMs ?? 100;
    for (let attempt = 0; status !== 'done'; attempt++) {
      if (now() >= deadline) {
        throw new TransientError(
          `cloudDNS change ${id} in zone ${zone} is still ${status} after ${this.#opts.changeDeadlineMs ?? 120_000} ms`,
        );
      }
      await sleep(backoffDelay(attempt, { baseMs: base, maxMs: 2_000 }), signal);
      const change = await this.#call('changes.get', signal, () =>
        this.#opts.api.getChange(zone, id),
      );
      status = change.status;
    }
  }

  #concretise(intents: readonly IntentGroup[]): {
    ready: ConcreteGroup[];
    conflicted: FailedGroup[];
  } {
    const ready: ConcreteGroup[] = [];
    const conflicted: FailedGroup[] = [];
    for (const intent of intents) {
      const group = concretise(intent, (zone, key) => this.#records.get(zone)?.get(key));
      if (group.conflict !== undefined) conflicted.push(...failedOf(group, group.conflict));
      else ready.push(group);
    }
    return { ready, conflicted };
  }

  async #zones(): Promise<readonly Zone[]> {
    const now = (this.#opts.now ?? Date.now)();
    if (this.#zoneList && now - this.#zoneList.at < (this.#opts.zoneCacheTtlMs ?? 60_000)) {
      return this.#zoneList.zones;
    }
    let listed: CloudDnsZone[] = [];
    const wanted = this.#opts.spec.managedZones ?? [];
    if (wanted.length > 0) {
      for (const name of wanted) {
        listed.push(
          await this.#call(`managedZones.get ${name}`, undefined, () =>
            this.#opts.api.getManagedZone(name),
          ),
        );
      }
    } else {
      let token: string | undefined;
      do {
        const from = token;
        const page = await this.#call('managedZones.list', undefined, () =>
          this.#opts.api.listManagedZones(from),
        );
        listed = listed.concat(page.items);
        token = page.nextPageToken;
      } while (token);
    }
    const zones = listed
      .map((z) => ({ name: z.name, domain: normaliseName(z.dnsName) }))
      .filter((z) => this.#domains.some((d) => isUnder(z.domain, d) || isUnder(d, z.domain)));
    this.#zoneList = { at: now, zones };
    return zones;
  }

  async #loadZone(zone: string, signal?: AbortSignal): Promise<void> {
    const rrsets = new Map<string, CloudDnsRrset>();
    let token: string | undefined;
    do {
      const from = token;
      const page = await this.#call('rrsets.list', signal, () =>
        this.#opts.api.listRecordSets(zone, from, this.#opts.pageSize ?? 1000),
      );
      for (const r of page.items) {
        rrsets.set(rrsetKey(r), {
          name: r.name,
          type: r.type,
          ttl: r.ttl,
          rrdatas: r.rrdatas ?? [],
        });
      }
      token = page.nextPageToken;
    } while (token);
    this.#records.set(zone, rrsets);
    this.#stale.delete(zone);
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
        isRetryableCloudDnsError,
        this.#opts.retry ?? DEFAULT_RETRY,
        signal,
      );
    } catch (err) {
      throw toProviderError(err, what);
    }
  }
}

function zoneFor(zones: readonly Zone[], name: string): Zone | undefined {
  let best: Zone | undefined;
  for (const z of zones)
    if (isUnder(name, z.domain) && (!best || z.domain.length > best.domain.length)) best = z;
  return best;
}

function count(groups: readonly ConcreteGroup[]): number {
  return groups.reduce((n, g) => n + g.endpointCount, 0);
}

function failedOf(group: ConcreteGroup, message: string): FailedGroup[] {
  return group.intent.groupKeys.map((key) => ({ group: key, message }));
}

/** Maps a failed call to the operator's typed errors, keeping the provider's own message. */
export function toProviderError(err: unknown, what: string): Error {
  return toTypedProviderError(err, {
    provider: 'cloudDNS',
    call: what,
    kind: classifyCloudDnsError(err),
    notFoundReason: 'ManagedZoneNotFound',
  });
}

export interface CloudDnsProviderParams {
  readonly spec: CloudDnsSpec;
  readonly domains: readonly string[];
  readonly excludeDomains?: readonly string[];
  readonly credentials: CredentialContext;
  readonly log?: Pick<Logger, 'debug' | 'warn'>;
}

/** Builds the provider for one DNSPolicy: its Secret's service-account key (or ADC), real client. */
export async function newCloudDnsProvider(
  params: CloudDnsProviderParams,
): Promise<CloudDnsProvider> {
  const choice = await resolveCloudDnsCredentials(params.spec, params.credentials);
  const api = cloudDnsApiFromClient({
    project: params.spec.project,
    ...(params.spec.endpoint ? { endpoint: params.spec.endpoint } : {}),
    ...(choice.kind === 'serviceAccount' ? { credentials: choice.key } : {}),
  });
  return new CloudDnsProvider({
    api,
    spec: params.spec,
    domains: params.domains,
    ...(params.excludeDomains ? { excludeDomains: params.excludeDomains } : {}),
    ...(params.log ? { log: params.log } : {}),
  });
}
