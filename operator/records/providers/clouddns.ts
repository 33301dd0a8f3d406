/**
 * The Google Cloud DNS provider: what is Cloud DNS's own. The zone and record caches, the
 * grouping, packing and isolation of changes, the rate limiting and retries are shared with
 * Route 53 (the ZonedProvider skeleton: zoned-provider.ts).
 *
 * - Zones: the spec's managedZones (managedZones.get: a missing one is notFound, a permanent
 *   error), or every managed zone of the project whose dnsName relates to the policy's domains.
 * - Records: rrsets.list, paginated.
 * - Changes: one atomic Cloud DNS change (deletions + additions) per request, within the API's
 *   per-change limits, polled until `done` within a deadline.
 */
import type { CloudDnsSpec } from '../../api/types';
import { backoffDelay, sleep } from '../../runtime/backoff';
import { TransientError } from '../../runtime/errors';
import type { Endpoint } from '../endpoint';
import { normaliseName } from '../endpoint';
import type { CloudAccounts } from './accounts';
import { cloudDnsAccount } from './accounts';
import type { CloudDnsApi, CloudDnsRrset, CloudDnsZone } from './clouddns-api';
import { cloudDnsApiFromClient, cloudDnsFault } from './clouddns-api';
import { resolveCloudDnsCredentials } from './clouddns-credentials';
import type { CloudDnsLimits } from './clouddns-records';
import {
  CLOUDDNS_LIMITS,
  cloudDnsChange,
  cloudDnsCost,
  cloudDnsLimitVector,
  describeCloudDnsCost,
  endpointFromRrset,
  rrsetKey,
  shapeForCloudDns,
} from './clouddns-records';
import type { CredentialContext } from './credentials';
import type { AdjustResult } from './provider';
import type { CloudProviderOptions, ZoneRef } from './zone-cache';
import { zoneServesDomains } from './zone-cache';
import type { ResolvedGroup } from './zone-changes';
import { ZonedProvider } from './zoned-provider';

export interface CloudDnsProviderOptions extends CloudProviderOptions {
  readonly api: CloudDnsApi;
  readonly spec: Pick<CloudDnsSpec, 'managedZones'>;
  readonly limits?: CloudDnsLimits;
  /** rrsets.list maxResults. */
  readonly pageSize?: number;
  /** How long to wait for a change to be `done`. Default 120 s. */
  readonly changeDeadlineMs?: number;
  /** First poll delay; doubles up to 2 s. Default 100 ms. */
  readonly pollIntervalMs?: number;
  /** Where the credentials come from, for messages ("Secret shop/gcp-sa"). */
  readonly credentialsSource?: string;
}

/** A managed zone: its name is the id the API takes, its dnsName the DNS name. */
type Zone = ZoneRef;

export class CloudDnsProvider extends ZonedProvider<Zone, CloudDnsRrset> {
  readonly kind = 'cloudDNS';
  readonly #opts: CloudDnsProviderOptions;

  constructor(options: CloudDnsProviderOptions) {
    const credentials = options.credentialsSource ?? 'the Google credentials';
    super(options, {
      provider: 'cloudDNS',
      classify: cloudDnsFault,
      notFoundReason: 'ManagedZoneNotFound',
      zoneNoun: 'managed zone',
      hints: {
        notFound:
          'check spec.provider.cloudDNS.project and managedZones (and that these credentials may read the zone)',
        auth: `check ${credentials} and its roles on the project (roles/dns.admin)`,
        invalid: 'Cloud DNS refused the request itself; a retry cannot fix it',
      },
      recordKey: rrsetKey,
      endpointOf: endpointFromRrset,
      limits: cloudDnsLimitVector(options.limits ?? CLOUDDNS_LIMITS),
      cost: cloudDnsCost,
      describeCost: describeCloudDnsCost,
      effects: (group) => {
        const { additions, deletions } = cloudDnsChange(group);
        return { removed: deletions, written: additions };
      },
    });
    this.#opts = options;
  }

  /** Cloud DNS has no alias records: provider-specific Route 53 data is dropped. */
  adjustEndpoints(endpoints: readonly Endpoint[]): AdjustResult {
    return shapeForCloudDns(endpoints);
  }

  /** One atomic change, then polled until Cloud DNS reports it done. */
  protected async submit(
    zone: string,
    groups: readonly ResolvedGroup<CloudDnsRrset>[],
    signal?: AbortSignal,
  ): Promise<void> {
    const additions: CloudDnsRrset[] = [];
    const deletions: CloudDnsRrset[] = [];
    for (const group of groups) {
      const change = cloudDnsChange(group);
      additions.push(...change.additions);
      deletions.push(...change.deletions);
    }
    if (additions.length === 0 && deletions.length === 0) return;
    const change = await this.calls.call(
      { operation: 'changes.create', zone },
      () => this.#opts.api.createChange(zone, { additions, deletions }),
      signal,
    );
    await this.#waitDone(zone, change.id, change.status, signal);
  }

  async #waitDone(zone: string, id: string, status: string, signal?: AbortSignal): Promise<void> {
    const now = this.#opts.now ?? Date.now;
    const deadlineMs = this.#opts.changeDeadlineMs ?? 120_000;
    const deadline = now() + deadlineMs;
    const base = this.#opts.pollIntervalMs ?? 100;
    for (let attempt = 0; status !== 'done'; attempt++) {
      if (now() >= deadline) {
        throw new TransientError(
          `cloudDNS change ${id} in managed zone ${zone} is still ${status} after ${deadlineMs} ms`,
        );
      }
      await sleep(backoffDelay(attempt, { baseMs: base, maxMs: 2_000 }), signal);
      const change = await this.calls.call(
        { operation: 'changes.get', zone },
        () => this.#opts.api.getChange(zone, id),
        signal,
      );
      status = change.status;
    }
  }

  protected async listZones(signal?: AbortSignal): Promise<Zone[]> {
    const wanted = this.#opts.spec.managedZones ?? [];
    const domains = this.#opts.domains.map(normaliseName);
    const toZone = (z: CloudDnsZone): Zone => ({ id: z.name, name: normaliseName(z.dnsName) });
    if (wanted.length > 0) {
      const zones: Zone[] = [];
      for (const name of wanted) {
        const site = { operation: 'managedZones.get', zone: name };
        const zone = toZone(
          await this.calls.listing(
            site,
            (shared) => this.calls.call(site, () => this.#opts.api.getManagedZone(name), shared),
            signal,
          ),
        );
        if (!zoneServesDomains(zone.name, domains)) {
          throw this.calls.refusal(
            { operation: 'managedZones.get', zone: name },
            {
              kind: 'notFound',
              code: 'ManagedZoneNotForPolicy',
              message: `${zone.name} is neither within nor above spec.domains (${domains.join(', ')})`,
            },
          );
        }
        zones.push(zone);
      }
      return zones;
    }
    const listed = await this.calls.listing(
      { operation: 'managedZones.list' },
      (shared) => this.#listManagedZones(shared),
      signal,
    );
    const zones = listed.map(toZone).filter((z) => zoneServesDomains(z.name, domains));
    if (zones.length === 0) {
      throw this.calls.refusal(
        { operation: 'managedZones.list' },
        {
          kind: 'notFound',
          code: 'NoMatchingManagedZone',
          message: `none of the ${listed.length} managed zones of the project serves spec.domains (${domains.join(', ')})`,
        },
      );
    }
    return zones;
  }

  /** Every managed zone of the project (all pages), before any filtering by the policy. */
  async #listManagedZones(signal?: AbortSignal): Promise<CloudDnsZone[]> {
    let listed: CloudDnsZone[] = [];
    let token: string | undefined;
    do {
      const from = token;
      const page = await this.calls.call(
        { operation: 'managedZones.list' },
        () => this.#opts.api.listManagedZones(from),
        signal,
      );
      listed = listed.concat(page.items);
      token = page.nextPageToken;
    } while (token);
    return listed;
  }

  protected async listRecordSets(zone: Zone, signal?: AbortSignal): Promise<CloudDnsRrset[]> {
    const out: CloudDnsRrset[] = [];
    let token: string | undefined;
    do {
      const from = token;
      const page = await this.calls.call(
        { operation: 'rrsets.list', zone: zone.id },
        () => this.#opts.api.listRecordSets(zone.id, from, this.#opts.pageSize ?? 1000),
        signal,
      );
      for (const r of page.items) {
        out.push({ name: r.name, type: r.type, ttl: r.ttl, rrdatas: r.rrdatas ?? [] });
      }
      token = page.nextPageToken;
    } while (token);
    return out;
  }
}

export interface CloudDnsProviderParams {
  readonly spec: CloudDnsSpec;
  readonly domains: readonly string[];
  readonly excludeDomains?: readonly string[];
  readonly credentials: CredentialContext;
  /** The process-wide accounts: the limiter of this policy's project and principal, and metrics. */
  readonly accounts: CloudAccounts;
  readonly log?: CloudProviderOptions['log'];
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
  const account = cloudDnsAccount(params.spec.endpoint, params.spec.project, choice);
  return new CloudDnsProvider({
    api,
    spec: params.spec,
    domains: params.domains,
    ...(params.excludeDomains ? { excludeDomains: params.excludeDomains } : {}),
    limiter: params.accounts.limiter(account),
    listings: params.accounts.listings(account),
    ...(params.accounts.metrics ? { metrics: params.accounts.metrics } : {}),
    credentialsSource:
      choice.kind === 'serviceAccount'
        ? `Secret ${params.credentials.namespace}/${params.spec.credentialsSecretRef?.name ?? ''}`
        : "the operator's ambient Google identity",
    ...(params.log ? { log: params.log } : {}),
  });
}
