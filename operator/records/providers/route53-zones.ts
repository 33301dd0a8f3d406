/** Hosted zone selection and name-to-zone routing (pure). */
import type { HostedZone } from '@aws-sdk/client-route-53';
import { normaliseName } from '../endpoint';

export interface Route53Zone {
  /** Without the /hostedzone/ prefix. */
  readonly id: string;
  /** Normalised (lower case, no trailing dot). */
  readonly name: string;
  readonly private: boolean;
}

export interface ZoneFilter {
  readonly domains: readonly string[];
  readonly hostedZoneIds?: readonly string[];
  readonly zoneType: 'public' | 'private' | 'any';
}

export function cleanZoneId(id: string): string {
  return id.replace(/^\/?hostedzone\//, '');
}

/** True when `name` equals `domain` or lies under it. */
export function isUnder(name: string, domain: string): boolean {
  return name === domain || name.endsWith(`.${domain}`);
}

/**
 * The hosted zones a policy may write to: those named by hostedZoneIds (when given), of the
 * requested type, whose name is one of the domains, under one, or a parent of one.
 */
export function selectZones(all: readonly HostedZone[], filter: ZoneFilter): Route53Zone[] {
  const ids = filter.hostedZoneIds?.length
    ? new Set(filter.hostedZoneIds.map(cleanZoneId))
    : undefined;
  const domains = filter.domains.map(normaliseName);
  const out: Route53Zone[] = [];
  for (const hz of all) {
    const zone: Route53Zone = {
      id: cleanZoneId(hz.Id ?? ''),
      name: normaliseName(hz.Name ?? ''),
      private: hz.Config?.PrivateZone === true,
    };
    if (ids && !ids.has(zone.id)) continue;
    if (filter.zoneType === 'public' && zone.private) continue;
    if (filter.zoneType === 'private' && !zone.private) continue;
    if (!domains.some((d) => isUnder(zone.name, d) || isUnder(d, zone.name))) continue;
    out.push(zone);
  }
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

/**
 * The zones a record name belongs to: the most specific matching zone name. With zoneType
 * "any", a public and a private zone of the same name (split horizon) both receive the record.
 */
export function zonesForName(zones: readonly Route53Zone[], name: string): Route53Zone[] {
  let best = -1;
  for (const z of zones) if (isUnder(name, z.name)) best = Math.max(best, z.name.length);
  return best < 0 ? [] : zones.filter((z) => z.name.length === best && isUnder(name, z.name));
}
