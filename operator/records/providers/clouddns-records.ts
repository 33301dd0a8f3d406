/**
 * Cloud DNS record sets <-> Endpoint, and planner Changes -> per-zone change groups (pure).
 * A group holds everything about one DNS name (record, ownership TXT, both halves of an update),
 * so that it is never split across two Cloud DNS changes.
 */
import type { Changes, Endpoint, RecordType } from '../endpoint';
import { batchGroupKey, endpointKey, normaliseName } from '../endpoint';
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

/** The planner's intent for one DNS name inside one zone. */
export interface IntentGroup {
  readonly zone: string;
  readonly groupKeys: readonly string[];
  readonly creates: readonly Endpoint[];
  readonly deletes: readonly Endpoint[];
  readonly updates: readonly (readonly [Endpoint | undefined, Endpoint])[];
}

export interface ConcreteGroup {
  readonly intent: IntentGroup;
  readonly additions: readonly CloudDnsRrset[];
  readonly deletions: readonly CloudDnsRrset[];
  /** Endpoint-level changes this group carries. */
  readonly endpointCount: number;
  /** Why the group cannot be applied as planned against the current zone contents. */
  readonly conflict?: string;
}

type Lookup = (zone: string, key: string) => CloudDnsRrset | undefined;

export function groupIntents(
  changes: Changes,
  zoneFor: (name: string) => string | undefined,
): { groups: IntentGroup[]; unroutable: Endpoint[] } {
  interface Mutable {
    zone: string;
    groupKeys: Set<string>;
    creates: Endpoint[];
    deletes: Endpoint[];
    updates: [Endpoint | undefined, Endpoint][];
  }
  const groups = new Map<string, Mutable>();
  const unroutable: Endpoint[] = [];
  const groupOf = (ep: Endpoint): Mutable | undefined => {
    const zone = zoneFor(ep.name);
    if (zone === undefined) {
      unroutable.push(ep);
      return undefined;
    }
    const key = batchGroupKey(ep);
    const id = `${zone}\u0000${key.slice(0, Math.max(0, key.lastIndexOf('/')))}`;
    let g = groups.get(id);
    if (!g) {
      g = { zone, groupKeys: new Set(), creates: [], deletes: [], updates: [] };
      groups.set(id, g);
    }
    g.groupKeys.add(key);
    return g;
  };
  for (const ep of changes.create) groupOf(ep)?.creates.push(ep);
  for (const ep of changes.delete) groupOf(ep)?.deletes.push(ep);
  changes.updateNew.forEach((next, i) => {
    const old =
      changes.updateOld.length === changes.updateNew.length
        ? changes.updateOld[i]
        : changes.updateOld.find((o) => endpointKey(o) === endpointKey(next));
    groupOf(next)?.updates.push([old, next]);
  });
  return {
    groups: [...groups.values()].map((g) => ({ ...g, groupKeys: [...g.groupKeys].sort() })),
    unroutable,
  };
}

/**
 * Turns intent into additions and deletions against the zone as currently known: deletions carry
 * the exact rrset Cloud DNS holds (it refuses anything else), a deletion of something already gone
 * is dropped, and a create over an existing rrset is a conflict (never an overwrite).
 */
export function concretise(intent: IntentGroup, current: Lookup): ConcreteGroup {
  const additions: CloudDnsRrset[] = [];
  const deletions: CloudDnsRrset[] = [];
  const deleted = new Set<string>();
  let conflict: string | undefined;
  const remove = (ep: Endpoint): void => {
    const existing = current(intent.zone, endpointKey(ep));
    if (existing && !deleted.has(endpointKey(ep))) {
      deletions.push(existing);
      deleted.add(endpointKey(ep));
    }
  };
  for (const ep of intent.deletes) remove(ep);
  const add = (ep: Endpoint): void => {
    if (current(intent.zone, endpointKey(ep)) && !deleted.has(endpointKey(ep))) {
      conflict ??= `${ep.name} (${ep.type}) already exists in zone ${intent.zone}`;
    }
    additions.push(rrsetFromEndpoint(ep));
  };
  for (const [old, next] of intent.updates) {
    remove(old ?? next);
    add(next);
  }
  for (const ep of intent.creates) add(ep);
  return {
    intent,
    additions,
    deletions,
    endpointCount: intent.creates.length + intent.deletes.length + intent.updates.length,
    ...(conflict ? { conflict } : {}),
  };
}

export function rrdataBytes(rrsets: readonly CloudDnsRrset[]): number {
  return rrsets.reduce(
    (n, r) => n + (r.rrdatas ?? []).reduce((m, d) => m + Buffer.byteLength(d, 'utf8'), 0),
    0,
  );
}

/** Packs whole groups into as few changes as the limits allow (normally one per zone). */
export function packChanges(
  groups: readonly ConcreteGroup[],
  limits: CloudDnsLimits = CLOUDDNS_LIMITS,
): ConcreteGroup[][] {
  const out: ConcreteGroup[][] = [];
  let current: ConcreteGroup[] = [];
  let adds = 0;
  let dels = 0;
  let bytes = 0;
  for (const g of groups) {
    const gBytes = rrdataBytes(g.additions) + rrdataBytes(g.deletions);
    const fits =
      adds + g.additions.length <= limits.additions &&
      dels + g.deletions.length <= limits.deletions &&
      bytes + gBytes <= limits.rrdataBytes;
    if (!fits && current.length > 0) {
      out.push(current);
      current = [];
      adds = dels = bytes = 0;
    }
    current.push(g);
    adds += g.additions.length;
    dels += g.deletions.length;
    bytes += gBytes;
  }
  if (current.length > 0) out.push(current);
  return out;
}
