/** Hosted zone selection (pure). Name-to-zone routing is shared with Cloud DNS (zone-cache.ts). */
import type { HostedZone } from '@aws-sdk/client-route-53';
import { normaliseName } from '../endpoint';
import type { ZoneRef } from './zone-cache';
import { zoneServesDomains } from './zone-cache';

export interface Route53Zone extends ZoneRef {
  /** Without the /hostedzone/ prefix. */
  readonly id: string;
  readonly private: boolean;
}

export type ZoneType = 'public' | 'private' | 'any';

export function cleanZoneId(id: string): string {
  return id.replace(/^\/?hostedzone\//, '');
}

export function toRoute53Zone(hz: HostedZone): Route53Zone {
  return {
    id: cleanZoneId(hz.Id ?? ''),
    name: normaliseName(hz.Name ?? ''),
    private: hz.Config?.PrivateZone === true,
  };
}

/** Why a zone cannot serve the policy, or undefined when it can. */
export function zoneMismatch(
  zone: Route53Zone,
  filter: { readonly domains: readonly string[]; readonly zoneType: ZoneType },
): string | undefined {
  if (filter.zoneType === 'public' && zone.private)
    return 'is a private zone and spec.provider.route53.zoneType is public';
  if (filter.zoneType === 'private' && !zone.private)
    return 'is a public zone and spec.provider.route53.zoneType is private';
  if (!zoneServesDomains(zone.name, filter.domains.map(normaliseName)))
    return `is neither within nor above spec.domains (${filter.domains.join(', ')})`;
  return undefined;
}

/**
 * The hosted zones a policy may write to, among those an account lists: of the requested type,
 * whose name is one of the domains, under one, or a parent of one. Sorted by id.
 */
export function selectZones(
  all: readonly HostedZone[],
  filter: { readonly domains: readonly string[]; readonly zoneType: ZoneType },
): Route53Zone[] {
  return all
    .map(toRoute53Zone)
    .filter((zone) => zoneMismatch(zone, filter) === undefined)
    .sort((a, b) => a.id.localeCompare(b.id));
}
