/**
 * external-dns's TXT registry, read-only: which TXT records claim a record for which owner, the way
 * external-dns itself reads them (registry/txt/registry.go and registry/mapper/mapper.go). dnsop
 * uses it to adopt records in place (see plan.ts) and never writes external-dns's format.
 *
 * For a record `app.example.com` of type A, external-dns writes its ownership TXT at
 *   new format (v0.12+, the only one since v0.18):  <prefix>a-app<suffix>.example.com
 *   legacy format (before v0.18, not for AAAA):     <prefix>app<suffix>.example.com
 * The prefix goes before the first label, the suffix after it; a "%{record_type}" in either is
 * replaced by the lower-case type (and then no "a-" is added); in the legacy format the template is
 * dropped. A wildcard's "*" is replaced by --txt-wildcard-replacement when set. At a zone apex the
 * first label is the zone's own, so a plain "a-" name falls outside the zone and only a legacy TXT
 * (or a prefix like "%{record_type}-x." ending in a dot) can exist there. Route 53 alias A records
 * were claimed by a "cname-" TXT before external-dns #2903; it still honours one, and so do we.
 * The value is `"heritage=external-dns,external-dns/owner=<id>,external-dns/resource=..."`.
 * Encrypted values (--txt-encrypt-enabled) are not readable here and count as no claim.
 */
import type { Endpoint, RecordType } from './endpoint';
import { endpointKey } from './endpoint';

/** external-dns's TXT registry flags. */
export interface ExternalDnsRegistry {
  /** --txt-owner-id; external-dns's default is "default". */
  readonly ownerId: string;
  readonly txtPrefix?: string;
  readonly txtSuffix?: string;
  readonly txtWildcardReplacement?: string;
}

/** The registry settings dnsop assumes when a policy names none: external-dns's defaults. */
export const EXTERNAL_DNS_DEFAULTS: ExternalDnsRegistry = Object.freeze({ ownerId: 'default' });

const TEMPLATE = '%{record_type}';
const HERITAGE = 'external-dns';

/** Parses an external-dns ownership value; undefined for any other TXT string. */
export function parseExternalDnsLabels(value: string): ReadonlyMap<string, string> | undefined {
  const text = value.replace(/^"+|"+$/g, '');
  const labels = new Map<string, string>();
  let heritage = false;
  for (const token of text.split(',')) {
    const eq = token.indexOf('=');
    if (eq < 0) continue;
    const key = token.slice(0, eq);
    const val = token.slice(eq + 1);
    if (key === 'heritage') {
      if (val !== HERITAGE) return undefined;
      heritage = true;
    } else if (key.startsWith(`${HERITAGE}/`)) {
      labels.set(key.slice(HERITAGE.length + 1), val);
    }
  }
  return heritage ? labels : undefined;
}

function affixes(registry: ExternalDnsRegistry): { prefix: string; suffix: string } {
  return {
    prefix: (registry.txtPrefix ?? '').toLowerCase(),
    suffix: (registry.txtSuffix ?? '').toLowerCase(),
  };
}

function firstLabelAndRest(name: string, registry: ExternalDnsRegistry): [string, string?] {
  const dot = name.indexOf('.');
  let first = dot < 0 ? name : name.slice(0, dot);
  const rest = dot < 0 ? undefined : name.slice(dot + 1);
  const replacement = (registry.txtWildcardReplacement ?? '').toLowerCase();
  if (first === '*' && replacement !== '') first = replacement;
  return [first, rest];
}

function join(prefix: string, first: string, suffix: string, rest: string | undefined): string {
  return rest === undefined ? `${prefix}${first}${suffix}` : `${prefix}${first}${suffix}.${rest}`;
}

/** The new-format ("<type>-") ownership TXT name external-dns writes for (name, type). */
export function externalDnsTxtName(
  name: string,
  type: string,
  registry: ExternalDnsRegistry,
): string {
  const t = type.toLowerCase();
  const { prefix, suffix } = affixes(registry);
  const templated = prefix.includes(TEMPLATE) || suffix.includes(TEMPLATE);
  const [first, rest] = firstLabelAndRest(name, registry);
  return join(
    prefix.replaceAll(TEMPLATE, t),
    templated ? first : `${t}-${first}`,
    suffix.replaceAll(TEMPLATE, t),
    rest,
  );
}

/**
 * The legacy ownership TXT name (no type), or undefined where external-dns never wrote or read
 * one: AAAA and TXT records, and registries whose affix holds "%{record_type}".
 */
export function externalDnsLegacyTxtName(
  name: string,
  type: RecordType,
  registry: ExternalDnsRegistry,
): string | undefined {
  const { prefix, suffix } = affixes(registry);
  if (type === 'AAAA' || type === 'TXT') return undefined;
  if (prefix.includes(TEMPLATE) || suffix.includes(TEMPLATE)) return undefined;
  const [first, rest] = firstLabelAndRest(name, registry);
  return join(prefix, first, suffix, rest);
}

/** A TXT record set holding external-dns ownership values. */
export interface ExternalDnsTxt {
  /** The TXT record set as the provider holds it. */
  readonly txt: Endpoint;
  /** The owner named by the value external-dns reads (its first ownership value). */
  readonly owner: string;
  readonly format: 'new' | 'legacy';
}

/** Who external-dns believes owns a record, and the TXT record sets that say so. */
export interface ExternalDnsClaim {
  /** The owner external-dns reads for the record (new format first, as it does). */
  readonly owner: string;
  /** Every ownership TXT of the record that names `owner`, in either format. */
  readonly txts: readonly ExternalDnsTxt[];
}

/** Reads the TXT record set at a name, if the zone holds one. */
export type TxtLookup = (name: string) => Endpoint | undefined;

function ownerIn(txt: Endpoint | undefined): string | undefined {
  if (txt === undefined) return undefined;
  for (const value of txt.targets) {
    const labels = parseExternalDnsLabels(value);
    if (labels !== undefined) return labels.get('owner') ?? '';
  }
  return undefined;
}

/** The candidate ownership TXT names of a record, in the order external-dns prefers them. */
export function externalDnsTxtCandidates(
  record: Pick<Endpoint, 'name' | 'type' | 'providerSpecific'>,
  registry: ExternalDnsRegistry,
): { readonly name: string; readonly format: 'new' | 'legacy' }[] {
  const out: { name: string; format: 'new' | 'legacy' }[] = [
    { name: externalDnsTxtName(record.name, record.type, registry), format: 'new' },
  ];
  if (record.type === 'A' && record.providerSpecific?.alias === true) {
    out.push({ name: externalDnsTxtName(record.name, 'CNAME', registry), format: 'new' });
  }
  const legacy = externalDnsLegacyTxtName(record.name, record.type, registry);
  if (legacy !== undefined) out.push({ name: legacy, format: 'legacy' });
  return out;
}

/**
 * external-dns's claim on a record as it would read it with `registry`'s prefix and suffix, or
 * undefined when no ownership TXT of external-dns describes the record. Pure.
 */
export function externalDnsClaim(
  record: Pick<Endpoint, 'name' | 'type' | 'providerSpecific'>,
  registry: ExternalDnsRegistry,
  lookup: TxtLookup,
): ExternalDnsClaim | undefined {
  const found: ExternalDnsTxt[] = [];
  for (const candidate of externalDnsTxtCandidates(record, registry)) {
    const txt = lookup(candidate.name);
    const owner = ownerIn(txt);
    if (txt !== undefined && owner !== undefined) {
      found.push({ txt, owner, format: candidate.format });
    }
  }
  const first = found[0];
  if (first === undefined) return undefined;
  return { owner: first.owner, txts: found.filter((f) => f.owner === first.owner) };
}

/**
 * The change that removes an owner's external-dns ownership values from one TXT record set:
 * the whole set is deleted, or, when it holds other strings too (an SPF record at an apex),
 * updated to keep them. Each change carries `ownerOf` so it travels in the adopted record's batch.
 */
export function removalOf(
  txt: Endpoint,
  owner: string,
  ownerOf: string,
): { readonly delete?: Endpoint; readonly update?: readonly [Endpoint, Endpoint] } {
  const keep = txt.targets.filter((value) => {
    const labels = parseExternalDnsLabels(value);
    return labels === undefined || (labels.get('owner') ?? '') !== owner;
  });
  const old = { ...txt, ownerOf };
  if (keep.length === 0) return { delete: old };
  return { update: [old, { ...old, targets: keep }] };
}

/** The endpointKey of the TXT record set at `name`. */
export const txtKey = (name: string): string => endpointKey({ name, type: 'TXT' });
