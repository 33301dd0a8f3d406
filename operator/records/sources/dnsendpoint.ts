/**
 * external-dns's DNSEndpoint CRD (externaldns.k8s.io/v1alpha1) -> Endpoints: each
 * `spec.endpoints[]` entry is published as written (name, type, targets, TTL), within the policy's
 * domains. Entries dnsop cannot publish faithfully are skipped with a diagnostic, never altered.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { KubernetesObject, V1ObjectMeta } from '@kubernetes/client-node';
import type { Diagnostic, Endpoint, RecordType } from '../endpoint';
import { normaliseName } from '../endpoint';
import { hostnameProblem } from '../hostname';
import { readSourceObject, type SourceContext } from './context';
import { buildEndpoints, canonicalIPv6, type BuiltEndpoints } from './targets';

export const DNSENDPOINT_API_VERSION = 'externaldns.k8s.io/v1alpha1';

export interface DNSEndpointRecord {
  readonly dnsName?: string;
  readonly recordType?: string;
  readonly targets?: readonly string[];
  readonly recordTTL?: number;
  readonly setIdentifier?: string;
  readonly providerSpecific?: readonly { readonly name?: string; readonly value?: string }[];
  readonly labels?: Readonly<Record<string, string>>;
}

export interface DNSEndpoint extends KubernetesObject {
  readonly metadata?: V1ObjectMeta;
  readonly spec?: { readonly endpoints?: readonly (DNSEndpointRecord | null)[] };
}

const PUBLISHED_TYPES: ReadonlySet<string> = new Set<RecordType>([
  'A',
  'AAAA',
  'CNAME',
  'TXT',
  'SRV',
]);
const SRV_DATA = /^\d{1,5} \d{1,5} \d{1,5} \S+$/;

type Checked = { readonly targets: string[] } | { readonly problem: string };

/** The targets of one record type, normalised the way providers read them back. */
function checkTargets(type: RecordType, targets: readonly string[]): Checked {
  const bad = (t: string, why: string): Checked => ({ problem: `target "${t}" ${why}` });
  const out: string[] = [];
  for (const raw of targets) {
    const t = raw.trim();
    switch (type) {
      case 'A':
        if (!isIPv4(t)) return bad(raw, 'is not an IPv4 address');
        out.push(t);
        break;
      case 'AAAA':
        if (!isIPv6(t)) return bad(raw, 'is not an IPv6 address');
        out.push(canonicalIPv6(t));
        break;
      case 'CNAME': {
        const name = normaliseName(t);
        const problem = hostnameProblem(name, { allowWildcard: false, allowMetadataLabels: true });
        if (problem !== undefined) return bad(raw, problem);
        out.push(name);
        break;
      }
      case 'SRV':
        if (!SRV_DATA.test(t)) return bad(raw, 'is not "<priority> <weight> <port> <target>"');
        out.push(t);
        break;
      default:
        // TXT: one character-string per target, quoted as DNS zone data writes it.
        out.push(t.startsWith('"') && t.endsWith('"') && t.length >= 2 ? t : JSON.stringify(t));
    }
  }
  if (type === 'CNAME' && new Set(out).size > 1) {
    return { problem: `a CNAME has one target, ${out.length} are given (${out.join(', ')})` };
  }
  return { targets: [...new Set(out)].sort() };
}

function aliasOf(record: DNSEndpointRecord): { alias: boolean } | undefined {
  const prop = record.providerSpecific?.find((p) => p.name === 'alias' || p.name === 'aws/alias');
  if (prop?.value === 'true') return { alias: true };
  if (prop?.value === 'false') return { alias: false };
  return undefined;
}

function recordEndpoints(
  record: DNSEndpointRecord,
  object: string,
  ctx: SourceContext,
): BuiltEndpoints {
  const where = `spec.endpoints "${record.dnsName ?? ''}"`;
  const skip = (reason: string, message: string): BuiltEndpoints => ({
    endpoints: [],
    diagnostics: [{ object, reason, message: `${where}: ${message}` }],
  });
  const name = normaliseName(record.dnsName ?? '');
  const nameProblem = hostnameProblem(name, { allowMetadataLabels: true });
  if (nameProblem !== undefined) return skip('InvalidHostname', nameProblem);
  if (record.setIdentifier) {
    return skip(
      'UnsupportedRecord',
      `setIdentifier "${record.setIdentifier}" (a routing policy) is not supported; not published`,
    );
  }
  const targets = (record.targets ?? []).filter((t) => t.trim() !== '');
  if (targets.length === 0) return skip('NoTargets', 'no targets; not published');
  const ttl = record.recordTTL !== undefined && record.recordTTL > 0 ? record.recordTTL : ctx.ttl;
  const alias = aliasOf(record);
  const type = (record.recordType ?? '').toUpperCase();
  if (type === '') {
    // No type: the one the targets call for, as every other source does.
    return buildEndpoints({ object, names: [name], targets, ttl, ...(alias ?? {}) });
  }
  if (!PUBLISHED_TYPES.has(type)) {
    return skip(
      'UnsupportedRecordType',
      `record type ${type} is not published by dnsop (A, AAAA, CNAME, TXT and SRV are)`,
    );
  }
  const checked = checkTargets(type as RecordType, targets);
  if ('problem' in checked) return skip('InvalidTarget', `${checked.problem}; not published`);
  const endpoint: Endpoint = {
    name,
    type: type as RecordType,
    targets: checked.targets,
    ttl,
    source: object,
    ...(alias !== undefined ? { providerSpecific: alias } : {}),
  };
  return { endpoints: [endpoint], diagnostics: [] };
}

export function dnsEndpointEndpoints(obj: DNSEndpoint, ctx: SourceContext): BuiltEndpoints {
  const src = readSourceObject('DNSEndpoint', obj.metadata, ctx);
  if (src.skipped) return src.result;
  const endpoints: Endpoint[] = [];
  const diagnostics: Diagnostic[] = [...src.ann.diagnostics];
  for (const record of obj.spec?.endpoints ?? []) {
    if (record === null) continue;
    const built = recordEndpoints(record, src.object, ctx);
    endpoints.push(...built.endpoints);
    diagnostics.push(...built.diagnostics);
  }
  return { endpoints, diagnostics };
}
