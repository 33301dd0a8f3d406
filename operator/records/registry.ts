/**
 * TXT ownership registry. Every record dnsop publishes has a TXT record beside it that names its
 * owner (the policy's ownerId) and the object it was made for:
 *
 *   app.example.com            A    203.0.113.7
 *   _dnsop-a.app.example.com   TXT  "heritage=dnsop,dnsop/owner=shop/public,dnsop/resource=Service/shop/app"
 *
 * The TXT name is the record's name with a type label in front, so a CNAME and its TXT never
 * share a name (a CNAME allows no other data at its name), each record type has its own owner
 * record, and the TXT always lies in the record's zone. A wildcard `*.example.com` keeps its TXT at
 * `_dnsop-a-wildcard.example.com` because `*` is only a wildcard as the first label.
 * Ownership TXT endpoints carry `ownerOf` so providers apply a record and its TXT in one batch.
 *
 * A record set several objects want (merged A/AAAA targets, see plan.ts) names all of them,
 * sorted: `dnsop/resource=Service/shop/a;Service/shop/b` (`;` because `,` separates the fields).
 * A value longer than one DNS character-string (255 octets) is written as several quoted strings,
 * which DNS concatenates (RFC 7208 §3.3 does the same for SPF); reading joins them back.
 */
import type { Endpoint, RecordType } from './endpoint';
import { endpointKey, joinSources, sourcesOf } from './endpoint';

export const OWNERSHIP_PREFIX = '_dnsop-';
const WILDCARD_SUFFIX = '-wildcard';
const HERITAGE = 'heritage=dnsop';
const OWNER_KEY = 'dnsop/owner';
const RESOURCE_KEY = 'dnsop/resource';
/** Separates the objects of a merged record in the TXT value (`,` separates its fields). */
const RESOURCE_SEPARATOR = ';';
/** Octets of one DNS character-string. */
const MAX_CHARACTER_STRING = 255;

/** Labels the registry puts on records it reads back. */
export const LABEL_OWNER = 'owner';
export const LABEL_RESOURCE = 'resource';

const RECORD_TYPES: readonly RecordType[] = ['A', 'AAAA', 'CNAME', 'TXT', 'SRV'];

/** The name of the ownership TXT record of the record set (name, type). */
export function ownershipName(name: string, type: RecordType): string {
  const label = `${OWNERSHIP_PREFIX}${type.toLowerCase()}`;
  return name.startsWith('*.') ? `${label}${WILDCARD_SUFFIX}.${name.slice(2)}` : `${label}.${name}`;
}

/** The record set an ownership TXT name describes, or undefined for any other name. */
export function parseOwnershipName(
  txtName: string,
): { readonly name: string; readonly type: RecordType } | undefined {
  if (!txtName.startsWith(OWNERSHIP_PREFIX)) return undefined;
  const dot = txtName.indexOf('.');
  if (dot < 0) return undefined;
  let label = txtName.slice(OWNERSHIP_PREFIX.length, dot);
  const rest = txtName.slice(dot + 1);
  const wildcard = label.endsWith(WILDCARD_SUFFIX);
  if (wildcard) label = label.slice(0, -WILDCARD_SUFFIX.length);
  const type = RECORD_TYPES.find((t) => t.toLowerCase() === label);
  if (type === undefined || rest === '') return undefined;
  return { name: wildcard ? `*.${rest}` : rest, type };
}

/**
 * True when a record of this (valid) name can be owned: its TXT name, one label longer, still
 * fits in 253 characters. The added label is always a valid metadata label.
 */
export function canOwn(name: string, type: RecordType): boolean {
  return ownershipName(name, type).length <= 253;
}

export interface Ownership {
  readonly owner: string;
  /** The object(s) the record is for, as Endpoint.source: comma separated when several. */
  readonly resource?: string;
}

/**
 * What an owner or resource may contain: the CRD's ownerId pattern. No `,` `=` `"` or space, so
 * a value can never smuggle a second `dnsop/owner=` (or anything else) into the TXT record.
 */
const SAFE_TOKEN = /^[A-Za-z0-9][-A-Za-z0-9_./]*$/;

export function isSafeOwnershipToken(value: string): boolean {
  return SAFE_TOKEN.test(value);
}

/**
 * The TXT value. Throws on an owner that could be misread (ownerIds are validated before any
 * plan: CRD pattern and tenancy.ts); a resource that could be misread is left out (it only says
 * which object asked for the record).
 */
export function formatOwnershipValue(ownership: Ownership): string {
  if (!isSafeOwnershipToken(ownership.owner))
    throw new Error(`unsafe owner for an ownership record: ${JSON.stringify(ownership.owner)}`);
  const parts = [HERITAGE, `${OWNER_KEY}=${ownership.owner}`];
  const resources = sourcesOf(ownership.resource).filter(isSafeOwnershipToken);
  if (resources.length > 0) parts.push(`${RESOURCE_KEY}=${resources.join(RESOURCE_SEPARATOR)}`);
  const text = parts.join(',');
  const strings: string[] = [];
  for (let i = 0; i < text.length; i += MAX_CHARACTER_STRING) {
    strings.push(`"${text.slice(i, i + MAX_CHARACTER_STRING)}"`);
  }
  return strings.join(' ');
}

const CHARACTER_STRINGS = /^\s*(?:"(?:[^"\\]|\\.)*"\s*)+$/;

/**
 * The text of a TXT value: its quoted character-strings concatenated when the value is exactly a
 * sequence of them; otherwise the value as it is (an unquoted value as some APIs return it; any
 * stray quote stays in the text, where the strict field check refuses it).
 */
function txtText(value: string): string {
  if (!CHARACTER_STRINGS.test(value)) return value;
  return [...value.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]).join('');
}

/**
 * Parses a TXT value written by formatOwnershipValue; undefined for any other TXT. Strict: exactly
 * heritage, owner and an optional resource, each once and well formed, so a value that says two
 * things (e.g. two owners) is nobody's.
 */
export function parseOwnershipValue(value: string): Ownership | undefined {
  const text = txtText(value);
  const fields = new Map<string, string>();
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return undefined;
    const key = part.slice(0, eq).trim();
    if (fields.has(key) || ![OWNER_KEY, RESOURCE_KEY, 'heritage'].includes(key)) return undefined;
    fields.set(key, part.slice(eq + 1).trim());
  }
  if (fields.get('heritage') !== 'dnsop') return undefined;
  const owner = fields.get(OWNER_KEY);
  if (owner === undefined || !isSafeOwnershipToken(owner)) return undefined;
  const resource = fields.get(RESOURCE_KEY);
  if (resource === undefined) return { owner };
  const resources = resource.split(RESOURCE_SEPARATOR);
  if (!resources.every(isSafeOwnershipToken)) return undefined;
  return { owner, resource: joinSources(resources) };
}

/** The ownership a TXT record set states: its values must agree, else it is nobody's. */
function ownershipOfTxt(targets: readonly string[]): Ownership | undefined {
  const parsed = targets.map(parseOwnershipValue);
  const first = parsed[0];
  if (first === undefined) return undefined;
  const same = parsed.every((o) => o?.owner === first.owner && o.resource === first.resource);
  return same ? first : undefined;
}

/** The ownership TXT endpoint for a record this owner publishes. */
export function ownershipRecord(record: Endpoint, ownerId: string): Endpoint {
  return {
    name: ownershipName(record.name, record.type),
    type: 'TXT',
    targets: [
      formatOwnershipValue({
        owner: ownerId,
        ...(record.source ? { resource: record.source } : {}),
      }),
    ],
    ttl: record.ttl,
    ownerOf: endpointKey(record),
  };
}

export interface OwnedTxt {
  readonly txt: Endpoint;
  readonly ownership: Ownership;
}

/** Provider records split into the records themselves and their ownership TXT records. */
export interface RegistryView {
  /** Non-ownership records by endpointKey, owner/resource labels attached when owned. */
  readonly records: ReadonlyMap<string, Endpoint>;
  /** Ownership TXT records by the endpointKey of the record they describe. */
  readonly ownership: ReadonlyMap<string, OwnedTxt>;
  /** Names that hold at least one record (for CNAME-vs-other conflicts). */
  readonly typesAtName: ReadonlyMap<string, readonly RecordType[]>;
}

/** Reads provider records back into a registry view. Pure; input endpoints are not modified. */
export function readRegistry(current: readonly Endpoint[]): RegistryView {
  const ownership = new Map<string, OwnedTxt>();
  const plain: Endpoint[] = [];
  for (const ep of current) {
    const described = ep.type === 'TXT' ? parseOwnershipName(ep.name) : undefined;
    const value = described === undefined ? undefined : ownershipOfTxt(ep.targets);
    if (described !== undefined && value !== undefined) {
      ownership.set(endpointKey(described), {
        txt: { ...ep, ownerOf: endpointKey(described) },
        ownership: value,
      });
    } else {
      plain.push(ep);
    }
  }
  const records = new Map<string, Endpoint>();
  const typesAtName = new Map<string, RecordType[]>();
  for (const ep of plain) {
    const key = endpointKey(ep);
    const owned = ownership.get(key)?.ownership;
    records.set(
      key,
      owned === undefined
        ? ep
        : {
            ...ep,
            labels: {
              ...ep.labels,
              [LABEL_OWNER]: owned.owner,
              ...(owned.resource ? { [LABEL_RESOURCE]: owned.resource } : {}),
            },
          },
    );
    typesAtName.set(ep.name, [...(typesAtName.get(ep.name) ?? []), ep.type]);
  }
  return { records, ownership, typesAtName };
}
