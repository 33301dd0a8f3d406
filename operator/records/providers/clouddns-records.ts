/**
 * Cloud DNS record sets <-> Endpoint, and the Cloud DNS change a resolved change group becomes
 * (pure). Grouping, packing and isolation of refused groups are shared with Route 53
 * (zone-changes.ts).
 */
import type { Endpoint, RecordType } from '../endpoint';
import { normaliseName } from '../endpoint';
import type { ResolvedGroup } from './zone-changes';
import type { CloudDnsRrset } from './clouddns-api';

const MANAGED_TYPES: ReadonlySet<string> = new Set<RecordType>([
  'A',
  'AAAA',
  'CNAME',
  'TXT',
  'SRV',
]);

export interface CloudDnsLimits {
  readonly additions: number;
  readonly deletions: number;
  /** Bytes of rrdata over all additions and deletions of one change. */
  readonly rrdataBytes: number;
}

/** Cloud DNS's published per-change limits. */
export const CLOUDDNS_LIMITS: CloudDnsLimits = Object.freeze({
  additions: 1000,
  deletions: 1000,
  rrdataBytes: 100_000,
});

/**
 * Cloud DNS has no alias records: provider-specific (Route 53) data is dropped so the desired
 * endpoint equals what is read back. Pure; used by `dnsop plan` and the provider alike.
 */
export function shapeForCloudDns(endpoints: readonly Endpoint[]): {
  endpoints: Endpoint[];
  diagnostics: [];
} {
  return {
    endpoints: endpoints.map((ep) => {
      if (ep.providerSpecific === undefined) return ep;
      const { providerSpecific: _dropped, ...rest } = ep;
      return rest;
    }),
    diagnostics: [],
  };
}

export function rrsetKey(r: Pick<CloudDnsRrset, 'name' | 'type'>): string {
  return `${normaliseName(r.name)}/${r.type}`;
}

export function endpointFromRrset(r: CloudDnsRrset): Endpoint | undefined {
  if (!MANAGED_TYPES.has(r.type)) return undefined;
  const data = [...(r.rrdatas ?? [])];
  const targets = r.type === 'CNAME' ? data.map(normaliseName) : data;
  return {
    name: normaliseName(r.name),
    type: r.type as RecordType,
    targets: [...new Set(targets)].sort(),
    ttl: r.ttl ?? 0,
  };
}

export function rrsetFromEndpoint(ep: Endpoint): CloudDnsRrset {
  const fq = (n: string): string => `${normaliseName(n)}.`;
  return {
    name: fq(ep.name),
    type: ep.type,
    ttl: ep.ttl,
    rrdatas: ep.type === 'CNAME' ? ep.targets.map(fq) : [...ep.targets],
  };
}

/** The Cloud DNS change (deletions + additions) a resolved group becomes. */
export function cloudDnsChange(group: ResolvedGroup<CloudDnsRrset>): {
  additions: CloudDnsRrset[];
  deletions: CloudDnsRrset[];
} {
  const deletions = [...group.removals];
  const additions = group.creations.map(rrsetFromEndpoint);
  for (const [existing, next] of group.replacements) {
    if (existing !== undefined) deletions.push(existing);
    additions.push(rrsetFromEndpoint(next));
  }
  return { additions, deletions };
}

export function rrdataBytes(rrsets: readonly CloudDnsRrset[]): number {
  return rrsets.reduce(
    (n, r) => n + (r.rrdatas ?? []).reduce((m, d) => m + Buffer.byteLength(d, 'utf8'), 0),
    0,
  );
}

/** A group's cost against the per-change limits: [additions, deletions, rrdata bytes]. */
export function cloudDnsCost(group: ResolvedGroup<CloudDnsRrset>): number[] {
  const { additions, deletions } = cloudDnsChange(group);
  return [additions.length, deletions.length, rrdataBytes(additions) + rrdataBytes(deletions)];
}

export function cloudDnsLimitVector(limits: CloudDnsLimits): number[] {
  return [limits.additions, limits.deletions, limits.rrdataBytes];
}

export function describeCloudDnsCost([additions, deletions, bytes]: readonly number[]): string {
  return `${additions ?? 0} additions, ${deletions ?? 0} deletions, ${bytes ?? 0} bytes of rrdata`;
}
