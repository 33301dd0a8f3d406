/** Conversion between Route 53 resource record sets and the shared Endpoint model (pure). */
import type { ResourceRecordSet } from '@aws-sdk/client-route-53';
import type { Endpoint, RecordType } from '../endpoint';
import { normaliseName } from '../endpoint';
import { ALIAS_RECORD_TTL } from './route53-alias';

const MANAGED_TYPES: ReadonlySet<string> = new Set<RecordType>([
  'A',
  'AAAA',
  'CNAME',
  'TXT',
  'SRV',
]);

/** Route 53 returns names with octal escapes for characters such as `*` (\052). */
export function unescapeRoute53Name(name: string): string {
  return normaliseName(
    name.replace(/\\(\d{3})/g, (_m, octal: string) => String.fromCharCode(parseInt(octal, 8))),
  );
}

/** Identity of a record set inside one zone's cache. */
export function recordSetKey(
  rrs: Pick<ResourceRecordSet, 'Name' | 'Type' | 'SetIdentifier'>,
): string {
  const base = `${unescapeRoute53Name(rrs.Name ?? '')}/${rrs.Type ?? ''}`;
  return rrs.SetIdentifier === undefined ? base : `${base}/${rrs.SetIdentifier}`;
}

/**
 * The Endpoint view of a listed record set, or undefined for types dnsop does not manage
 * (SOA, NS, MX, ...). Alias records come back as A/AAAA with providerSpecific.alias.
 */
export function endpointFromRecordSet(rrs: ResourceRecordSet): Endpoint | undefined {
  const type = rrs.Type ?? '';
  if (!MANAGED_TYPES.has(type)) return undefined;
  const name = unescapeRoute53Name(rrs.Name ?? '');
  if (rrs.AliasTarget) {
    return {
      name,
      type: type as RecordType,
      targets: [normaliseName(rrs.AliasTarget.DNSName ?? '')],
      ttl: ALIAS_RECORD_TTL,
      providerSpecific: {
        alias: true,
        aliasHostedZoneId: rrs.AliasTarget.HostedZoneId ?? '',
        evaluateTargetHealth: rrs.AliasTarget.EvaluateTargetHealth ?? false,
      },
    };
  }
  const values = (rrs.ResourceRecords ?? []).map((r) => r.Value ?? '');
  const targets = type === 'CNAME' ? values.map(normaliseName) : values;
  return {
    name,
    type: type as RecordType,
    targets: [...new Set(targets)].sort(),
    ttl: rrs.TTL ?? 0,
  };
}

/** The record set Route 53 should hold for an endpoint. */
export function recordSetFromEndpoint(ep: Endpoint): ResourceRecordSet {
  const ps = ep.providerSpecific;
  if (ps?.alias === true && ps.aliasHostedZoneId) {
    return {
      Name: ep.name,
      Type: ep.type,
      AliasTarget: {
        DNSName: ep.targets[0] ?? '',
        HostedZoneId: ps.aliasHostedZoneId,
        EvaluateTargetHealth: ps.evaluateTargetHealth ?? false,
      },
    };
  }
  return {
    Name: ep.name,
    Type: ep.type,
    TTL: ep.ttl,
    ResourceRecords: ep.targets.map((Value) => ({ Value })),
  };
}
