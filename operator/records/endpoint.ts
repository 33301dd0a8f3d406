/**
 * The one data type that crosses every stage of the records pipeline:
 * sources -> plan -> registry -> provider. Values are immutable; stages build new ones.
 */

export type RecordType = 'A' | 'AAAA' | 'CNAME' | 'TXT' | 'SRV';

/** Provider-specific properties; only Route 53 uses them today. */
export interface ProviderSpecific {
  /** Route 53: publish as an alias record (type A/AAAA with an AliasTarget). Never for IP targets. */
  readonly alias?: boolean;
  /** Route 53: the canonical hosted zone of the alias target (e.g. Z35SXDOTRQ7X7K for us-east-1 ELB). */
  readonly aliasHostedZoneId?: string;
  readonly evaluateTargetHealth?: boolean;
}

export interface Endpoint {
  /** Lower-case fully qualified name without the trailing dot. */
  readonly name: string;
  readonly type: RecordType;
  /** Sorted and unique. IPs for A/AAAA, one hostname for CNAME/alias, quoted strings for TXT. */
  readonly targets: readonly string[];
  /** Seconds. */
  readonly ttl: number;
  /**
   * The object that asked for this record, "Kind/namespace/name"; when several objects want one
   * record set (round robin over Services or Pods), all of them, sorted and comma separated.
   */
  readonly source?: string;
  /** Ownership data attached by the registry when reading records back (owner, resource). */
  readonly labels?: Readonly<Record<string, string>>;
  readonly providerSpecific?: ProviderSpecific;
  /**
   * Set on registry TXT records: the key (see endpointKey) of the record this TXT describes.
   * Providers must apply a record and its ownership TXT in the same atomic batch.
   */
  readonly ownerOf?: string;
}

/** The result type that leaves the planner and enters the registry/provider. */
export interface Changes {
  readonly create: readonly Endpoint[];
  readonly updateOld: readonly Endpoint[];
  readonly updateNew: readonly Endpoint[];
  readonly delete: readonly Endpoint[];
}

export const NO_CHANGES: Changes = Object.freeze({
  create: [],
  updateOld: [],
  updateNew: [],
  delete: [],
});

/** Why an object produced no (or fewer) records; shown in DNSPolicy status and `dnsop plan`. */
export interface Diagnostic {
  /** "Kind/namespace/name" */
  readonly object: string;
  /** CamelCase reason, e.g. NotAllowedByListeners. */
  readonly reason: string;
  readonly message: string;
}

/** Identity of a record set at a name: two endpoints with the same key are the same record set. */
export function endpointKey(ep: Pick<Endpoint, 'name' | 'type'>): string {
  return `${ep.name}/${ep.type}`;
}

/** Records that must travel together in one provider batch share this key. */
export function batchGroupKey(ep: Endpoint): string {
  return ep.ownerOf ?? endpointKey(ep);
}

export function countChanges(changes: Changes): number {
  return changes.create.length + changes.updateNew.length + changes.delete.length;
}

/** Normalises a DNS name: lower case, no trailing dot. */
export function normaliseName(name: string): string {
  const lower = name.trim().toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/** The objects a record's `source` names (one, or several comma separated), in order. */
export function sourcesOf(source: string | undefined): string[] {
  return source === undefined || source === '' ? [] : source.split(',');
}

/** The `source` of a record several objects want: each object once, sorted. */
export function joinSources(sources: Iterable<string>): string {
  return [...new Set(sources)]
    .filter((s) => s !== '')
    .sort()
    .join(',');
}
