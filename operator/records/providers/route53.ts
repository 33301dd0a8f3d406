/**
 * The AWS Route 53 provider: what is Route 53's own. The zone and record caches, the grouping,
 * packing and isolation of changes, the rate limiting and retries are shared with Cloud DNS
 * (the ZonedProvider skeleton: zoned-provider.ts).
 *
 * - Zones: hostedZoneIds are read one by one (GetHostedZone: a missing id is NoSuchHostedZone,
 *   a permanent error); without them, ListHostedZones (paginated) filtered by zoneType and the
 *   policy's domains.
 * - Records: ListResourceRecordSets, paginated.
 * - Changes: ChangeResourceRecordSets within Route 53's per-request limits (1,000 records and
 *   32,000 value characters, UPSERT counted twice).
 */
import type {
  HostedZone,
  ListResourceRecordSetsCommandInput,
  ResourceRecordSet,
} from '@aws-sdk/client-route-53';
import type { Route53Spec } from '../../api/types';
import type { Endpoint } from '../endpoint';
import type { CredentialContext } from './credentials';
import type { AdjustResult } from './provider';
import { shapeForRoute53 } from './route53-alias';
import type { Route53Api } from './route53-api';
import { route53ApiFromSdk, route53Fault } from './route53-api';
import type { Route53Limits } from './route53-batch';
import {
  costOf,
  costVector,
  describeCostVector,
  limitVector,
  ROUTE53_LIMITS,
  route53Changes,
} from './route53-batch';
import { resolveRoute53Credentials } from './route53-credentials';
import { endpointFromRecordSet, recordSetFromEndpoint, recordSetKey } from './route53-records';
import type { Route53Zone } from './route53-zones';
import { selectZones, toRoute53Zone, zoneMismatch, cleanZoneId } from './route53-zones';
import type { CloudProviderOptions } from './zone-cache';
import type { ResolvedGroup } from './zone-changes';
import { ZonedProvider } from './zoned-provider';
import type { CloudAccounts } from './accounts';
import { route53Account } from './accounts';

export interface Route53ProviderOptions extends CloudProviderOptions {
  readonly api: Route53Api;
  readonly spec: Pick<Route53Spec, 'hostedZoneIds' | 'zoneType' | 'aliasMode'>;
  /** Default: Route 53's published limits. Lower only in tests. */
  readonly limits?: Route53Limits;
  /** ListResourceRecordSets page size (Route 53 returns at most 300). */
  readonly pageSize?: number;
  /** Where the credentials come from, for messages ("Secret shop/aws"). */
  readonly credentialsSource?: string;
}

type Rrset = ResourceRecordSet;

export class Route53Provider extends ZonedProvider<Route53Zone, Rrset> {
  readonly kind = 'route53';
  readonly #opts: Route53ProviderOptions;

  constructor(options: Route53ProviderOptions) {
    const credentials = options.credentialsSource ?? 'the AWS credentials';
    super(options, {
      provider: 'route53',
      classify: route53Fault,
      notFoundReason: 'HostedZoneNotFound',
      zoneNoun: 'hosted zone',
      hints: {
        notFound:
          'check spec.provider.route53.hostedZoneIds (and that these credentials may read the zone)',
        auth: `check ${credentials} and their IAM permissions for Route 53`,
        invalid: 'Route 53 refused the request itself; a retry cannot fix it',
      },
      recordKey: recordSetKey,
      endpointOf: endpointFromRecordSet,
      limits: limitVector(options.limits ?? ROUTE53_LIMITS),
      cost: (group) => costVector(costOf(route53Changes(group))),
      describeCost: describeCostVector,
      effects: (group) => ({
        removed: group.removals,
        written: [...group.creations, ...group.replacements.map(([, ep]) => ep)].map(
          recordSetFromEndpoint,
        ),
      }),
    });
    this.#opts = options;
  }

  adjustEndpoints(endpoints: readonly Endpoint[]): AdjustResult {
    return shapeForRoute53(endpoints, this.#opts.spec.aliasMode);
  }

  protected async submit(
    zoneId: string,
    groups: readonly ResolvedGroup<Rrset>[],
    signal?: AbortSignal,
  ): Promise<void> {
    const changes = groups.flatMap(route53Changes);
    this.#opts.log?.debug({ zoneId, changes: changes.length }, 'route53 ChangeResourceRecordSets');
    await this.calls.call(
      { operation: 'ChangeResourceRecordSets', zone: zoneId },
      (s) =>
        this.#opts.api.changeResourceRecordSets(
          { HostedZoneId: zoneId, ChangeBatch: { Comment: 'dnsop', Changes: changes } },
          s,
        ),
      signal,
    );
  }

  protected async listZones(signal?: AbortSignal): Promise<Route53Zone[]> {
    const filter = { domains: this.#opts.domains, zoneType: this.#opts.spec.zoneType };
    const ids = (this.#opts.spec.hostedZoneIds ?? []).map(cleanZoneId);
    if (ids.length > 0) {
      const zones: Route53Zone[] = [];
      for (const id of ids) {
        const site = { operation: 'GetHostedZone', zone: id };
        const out = await this.calls.listing(
          site,
          (shared) => this.calls.call(site, (s) => this.#opts.api.getHostedZone(id, s), shared),
          signal,
        );
        const zone = toRoute53Zone(out.HostedZone ?? { Id: id, Name: '', CallerReference: '' });
        const why = zoneMismatch(zone, filter);
        if (why !== undefined) {
          throw this.calls.refusal(
            { operation: 'GetHostedZone', zone: id },
            { kind: 'notFound', code: 'HostedZoneNotForPolicy', message: `${zone.name} ${why}` },
          );
        }
        zones.push(zone);
      }
      return zones.sort((a, b) => a.id.localeCompare(b.id));
    }
    const all = await this.calls.listing(
      { operation: 'ListHostedZones' },
      (shared) => this.#listHostedZones(shared),
      signal,
    );
    const zones = selectZones(all, filter);
    if (zones.length === 0) {
      throw this.calls.refusal(
        { operation: 'ListHostedZones' },
        {
          kind: 'notFound',
          code: 'NoMatchingHostedZone',
          message: `none of the ${all.length} hosted zones these credentials list serves spec.domains (${this.#opts.domains.join(', ')}) with zoneType ${filter.zoneType}`,
        },
      );
    }
    return zones;
  }

  /** Every hosted zone the credentials list (all pages), before any filtering by the policy. */
  async #listHostedZones(signal?: AbortSignal): Promise<HostedZone[]> {
    const all: HostedZone[] = [];
    let marker: string | undefined;
    do {
      const page = await this.calls.call(
        { operation: 'ListHostedZones' },
        (s) => this.#opts.api.listHostedZones({ Marker: marker }, s),
        signal,
      );
      all.push(...(page.HostedZones ?? []));
      marker = page.IsTruncated ? page.NextMarker : undefined;
    } while (marker !== undefined);
    return all;
  }

  protected async listRecordSets(zone: Route53Zone, signal?: AbortSignal): Promise<Rrset[]> {
    const out: Rrset[] = [];
    let from: ListResourceRecordSetsCommandInput | undefined = {
      HostedZoneId: zone.id,
      MaxItems: this.#opts.pageSize ?? 300,
    };
    while (from !== undefined) {
      const input: ListResourceRecordSetsCommandInput = from;
      const page = await this.calls.call(
        { operation: 'ListResourceRecordSets', zone: zone.id },
        (s) => this.#opts.api.listResourceRecordSets(input, s),
        signal,
      );
      out.push(...(page.ResourceRecordSets ?? []));
      from = page.IsTruncated
        ? {
            ...input,
            StartRecordName: page.NextRecordName,
            StartRecordType: page.NextRecordType,
            StartRecordIdentifier: page.NextRecordIdentifier,
          }
        : undefined;
    }
    return out;
  }
}

export interface Route53ProviderParams {
  readonly spec: Route53Spec;
  readonly domains: readonly string[];
  readonly excludeDomains?: readonly string[];
  readonly credentials: CredentialContext;
  /** The process-wide accounts: the limiter of this policy's AWS account, and metrics. */
  readonly accounts: CloudAccounts;
  readonly log?: CloudProviderOptions['log'];
}

/** Builds the provider for one DNSPolicy: credentials from its Secret (or ambient), real SDK. */
export async function newRoute53Provider(params: Route53ProviderParams): Promise<Route53Provider> {
  const choice = await resolveRoute53Credentials(params.spec, params.credentials);
  const account = route53Account(params.spec.endpoint, choice);
  const api = route53ApiFromSdk({
    region: params.spec.region,
    ...(params.spec.endpoint ? { endpoint: params.spec.endpoint } : {}),
    ...(choice.kind === 'static' ? { credentials: choice.credentials } : {}),
    pages: params.accounts.pages(account),
  });
  return new Route53Provider({
    api,
    spec: params.spec,
    domains: params.domains,
    ...(params.excludeDomains ? { excludeDomains: params.excludeDomains } : {}),
    limiter: params.accounts.limiter(account),
    listings: params.accounts.listings(account),
    ...(params.accounts.metrics ? { metrics: params.accounts.metrics } : {}),
    credentialsSource:
      choice.kind === 'static'
        ? `Secret ${params.credentials.namespace}/${params.spec.credentialsSecretRef?.name ?? ''}`
        : "the operator's ambient AWS identity",
    ...(params.log ? { log: params.log } : {}),
  });
}
