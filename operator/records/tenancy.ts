/**
 * Tenancy rules for DNSPolicy (DESIGN.md, Tenancy). One operator serves many teams: a policy in a
 * namespace the operator does not trust (--trusted-namespaces) acts only for that namespace.
 * Pure functions, each a decision the reconciler and `dnsop plan` apply at one place:
 *
 * - `policyRefusals`: spec fields an untrusted namespace may not use (ownerId of another namespace,
 *   provider endpoints, ambient credentials, Secrets outside --secret-namespaces) and endpoints that
 *   would send credentials in clear. A refused policy is Stalled (reason Forbidden) and changes
 *   nothing, not even at deletion.
 * - `withoutReservedNames`: no policy publishes a record the registry reads as ownership data (a
 *   name like `_dnsop-a.<name>`, a TXT value carrying `heritage=`): that would forge ownership of
 *   another owner's name, or (external-dns's format) an adoption.
 * - `withinDomainGrants`: with --require-domain-grants, an untrusted namespace publishes only names
 *   under its Namespace annotation dnsop.io/allowed-domains.
 * - `withoutForeignNames`: an untrusted policy creates nothing at a name where an owner of another
 *   namespace holds a record of any type (an AAAA or TXT beside another team's A is a hijack too).
 */
import net from 'node:net';
import type { V1Namespace } from '@kubernetes/client-node';
import type { DNSPolicy } from '../api/types';
import { refusalError, trustHint, type Refusal } from '../runtime/refusal';
import type { Diagnostic, Endpoint } from './endpoint';
import { normaliseName } from './endpoint';
import { isNameUnder, isValidHostname } from './hostname';
import { isSafeOwnershipToken, OWNERSHIP_PREFIX, readRegistry } from './registry';

/** Namespace annotation, set by cluster admins: the domains the namespace's policies may publish. */
export const ALLOWED_DOMAINS_ANNOTATION = 'dnsop.io/allowed-domains';

export type { Refusal };

/** The CRD's maxLength for spec.ownerId. */
const MAX_OWNER_ID = 128;

export interface TenancyOptions {
  readonly trustedNamespaces: ReadonlySet<string>;
  /** --require-domain-grants */
  readonly requireDomainGrants?: boolean;
  /** --secret-namespaces; undefined: Secrets may be read in any namespace. */
  readonly secretNamespaces?: ReadonlySet<string>;
}

function ownerIdRefusals(policy: DNSPolicy, namespace: string, trusted: boolean): Refusal[] {
  const ownerId = policy.spec.ownerId;
  if (ownerId === undefined || ownerId === '') return [];
  if (!isSafeOwnershipToken(ownerId) || ownerId.length > MAX_OWNER_ID) {
    return [
      {
        reason: 'InvalidSpec',
        field: 'spec.ownerId',
        message: `spec.ownerId "${ownerId}" may hold only letters, digits and - _ . / (at most 128): it is written into ownership TXT records`,
      },
    ];
  }
  if (trusted || (ownerId.startsWith(`${namespace}/`) && ownerId.length > namespace.length + 1))
    return [];
  return [
    {
      reason: 'Forbidden',
      field: 'spec.ownerId',
      message: `spec.ownerId "${ownerId}": a policy in namespace "${namespace}" may only use an ownerId starting with "${namespace}/" (the records of other owners are not this namespace's to change); use "${namespace}/<anything>", ${trustHint(namespace)}`,
    },
  ];
}

const LOOPBACK = new net.BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** True for localhost, 127.0.0.0/8 and ::1 (a URL's hostname, brackets allowed). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost') return true;
  const family = net.isIP(host);
  return family !== 0 && LOOPBACK.check(host, family === 4 ? 'ipv4' : 'ipv6');
}

/** Why an endpoint override may not be used by this policy, or undefined. */
function endpointRefusal(
  field: string,
  endpoint: string,
  namespace: string,
  trusted: boolean,
): Refusal | undefined {
  if (!trusted) {
    return {
      reason: 'Forbidden',
      field,
      message: `${field}: only policies in trusted namespaces may set a provider endpoint (the operator sends cloud credentials to it); remove it, ${trustHint(namespace)}`,
    };
  }
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return { reason: 'InvalidSpec', field, message: `${field}: "${endpoint}" is not a URL` };
  }
  if (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname)))
    return undefined;
  return {
    reason: 'Forbidden',
    field,
    message: `${field}: "${endpoint}" must be https:// unless its host is loopback (credentials would travel in clear)`,
  };
}

function providerRefusals(
  policy: DNSPolicy,
  namespace: string,
  options: TenancyOptions,
): Refusal[] {
  const trusted = options.trustedNamespaces.has(namespace);
  const out: Refusal[] = [];
  const { route53, cloudDNS } = policy.spec.provider ?? {};
  for (const [kind, spec] of [
    ['route53', route53],
    ['cloudDNS', cloudDNS],
  ] as const) {
    if (spec === undefined) continue;
    const field = `spec.provider.${kind}`;
    if (spec.endpoint !== undefined && spec.endpoint !== '') {
      const refusal = endpointRefusal(`${field}.endpoint`, spec.endpoint, namespace, trusted);
      if (refusal !== undefined) out.push(refusal);
    }
    const secret = spec.credentialsSecretRef?.name;
    if (secret === undefined && !trusted) {
      out.push({
        reason: 'Forbidden',
        field: `${field}.credentialsSecretRef`,
        message: `${field}.credentialsSecretRef is required in namespace "${namespace}": only trusted namespaces may use the operator's own cloud identity; name a Secret in "${namespace}", ${trustHint(namespace)}`,
      });
    }
    if (secret !== undefined && options.secretNamespaces?.has(namespace) === false) {
      out.push({
        reason: 'Forbidden',
        field: `${field}.credentialsSecretRef`,
        message: `${field}.credentialsSecretRef: the operator reads Secrets only in the namespaces listed in --secret-namespaces, and "${namespace}" is not one; ask a cluster admin to add it (with the matching Role, see deploy/secrets-by-namespace/)`,
      });
    }
  }
  return out;
}

/**
 * Adoption takes over external-dns's records in place: in a shared zone, any team's. Outside
 * trusted namespaces it is allowed only with domain grants, which confine it to granted names.
 */
function adoptRefusals(policy: DNSPolicy, namespace: string, options: TenancyOptions): Refusal[] {
  if (policy.spec.adopt?.externalDNS === undefined || options.requireDomainGrants === true)
    return [];
  return [
    {
      reason: 'Forbidden',
      field: 'spec.adopt.externalDNS',
      message: `spec.adopt.externalDNS: adopting external-dns records could take over another team's names; outside trusted namespaces it needs --require-domain-grants (adoption is then limited to the domains granted to "${namespace}"), ${trustHint(namespace)}`,
    },
  ];
}

/** Everything in the policy's spec that tenancy refuses; empty when the policy may run. */
export function policyRefusals(policy: DNSPolicy, options: TenancyOptions): Refusal[] {
  const namespace = policy.metadata.namespace ?? '';
  const trusted = options.trustedNamespaces.has(namespace);
  return [
    ...ownerIdRefusals(policy, namespace, trusted),
    ...providerRefusals(policy, namespace, options),
    ...(trusted ? [] : adoptRefusals(policy, namespace, options)),
  ];
}

/** Throws (PermanentError, reason Forbidden or InvalidSpec) when the policy may not run. */
export function assertPolicyAllowed(policy: DNSPolicy, options: TenancyOptions): void {
  const error = refusalError(policyRefusals(policy, options));
  if (error !== undefined) throw error;
}

// ---- names ----------------------------------------------------------------------------------

export interface Filtered {
  readonly endpoints: readonly Endpoint[];
  readonly diagnostics: readonly Diagnostic[];
}

function reservedReason(ep: Endpoint): string | undefined {
  const first = ep.name.split('.', 1)[0] ?? '';
  if (first.startsWith(OWNERSHIP_PREFIX))
    return `labels starting with "${OWNERSHIP_PREFIX}" are dnsop's ownership records`;
  if (ep.type === 'TXT' && ep.targets.some((t) => /heritage=/i.test(t)))
    return 'a TXT value with "heritage=" is ownership data (dnsop or external-dns)';
  return undefined;
}

/** Drops endpoints the registry would read as ownership data. For every policy, trusted or not. */
export function withoutReservedNames(endpoints: readonly Endpoint[]): Filtered {
  const kept: Endpoint[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const ep of endpoints) {
    const why = reservedReason(ep);
    if (why === undefined) kept.push(ep);
    else
      diagnostics.push({
        object: ep.source ?? '',
        reason: 'ReservedName',
        message: `${ep.name} ${ep.type} is not published: ${why}`,
      });
  }
  return { endpoints: kept, diagnostics };
}

/** The domains a Namespace grants (annotation dnsop.io/allowed-domains), normalised, valid ones only. */
export function grantedDomains(namespace: V1Namespace | undefined): string[] {
  const raw = namespace?.metadata?.annotations?.[ALLOWED_DOMAINS_ANNOTATION] ?? '';
  return raw
    .split(',')
    .map(normaliseName)
    .filter((d) => d !== '' && isValidHostname(d, { allowWildcard: false }));
}

/**
 * With --require-domain-grants, keeps only the endpoints of an untrusted policy that lie under a
 * domain its Namespace grants, and not under a longer domain granted to another namespace (a
 * platform may grant `example.com` to one team and `shop.example.com` to another: the names under
 * `shop.example.com` are the second team's). The others get diagnostic DomainNotGranted.
 */
export function withinDomainGrants(
  endpoints: readonly Endpoint[],
  namespace: string,
  namespaces: readonly V1Namespace[],
  options: TenancyOptions,
): Filtered {
  if (options.requireDomainGrants !== true || options.trustedNamespaces.has(namespace))
    return { endpoints, diagnostics: [] };
  const grants = namespaces.flatMap((ns) =>
    grantedDomains(ns).map((domain) => ({ domain, namespace: ns.metadata?.name ?? '' })),
  );
  const own = grants.filter((g) => g.namespace === namespace).map((g) => g.domain);
  const kept: Endpoint[] = [];
  const diagnostics: Diagnostic[] = [];
  const refuse = (ep: Endpoint, why: string): void => {
    diagnostics.push({
      object: ep.source ?? '',
      reason: 'DomainNotGranted',
      message: `${ep.name} is not published: ${why} (annotation ${ALLOWED_DOMAINS_ANNOTATION} on the Namespace, set by cluster admins; --require-domain-grants is on)`,
    });
  };
  for (const ep of endpoints) {
    const mine = own.filter((d) => isNameUnder(ep.name, d));
    if (mine.length === 0) {
      const has = own.length === 0 ? 'grants no domain' : `grants only ${own.join(', ')}`;
      refuse(ep, `namespace "${namespace}" ${has}`);
      continue;
    }
    const longest = Math.max(...mine.map((d) => d.length));
    const closer = grants.find(
      (g) =>
        g.namespace !== namespace && g.domain.length > longest && isNameUnder(ep.name, g.domain),
    );
    if (closer === undefined) kept.push(ep);
    else refuse(ep, `${closer.domain} is granted to namespace "${closer.namespace}"`);
  }
  return { endpoints: kept, diagnostics };
}

/**
 * For a policy confined to `namespace` (untrusted): drops the endpoints at names where an owner
 * outside the namespace holds a record of any type. Owners are "<namespace>/..." outside trusted
 * namespaces, so an owner not starting with "<namespace>/" is another team's (or the platform's).
 */
export function withoutForeignNames(
  desired: readonly Endpoint[],
  current: readonly Endpoint[],
  namespace: string,
): Filtered {
  const view = readRegistry(current);
  const foreign = new Map<string, string>();
  for (const [key, owned] of view.ownership) {
    const owner = owned.ownership.owner;
    if (owner.startsWith(`${namespace}/`)) continue;
    foreign.set(key.slice(0, key.lastIndexOf('/')), owner);
  }
  if (foreign.size === 0) return { endpoints: desired, diagnostics: [] };
  const kept: Endpoint[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const ep of desired) {
    const owner = foreign.get(ep.name);
    if (owner === undefined) kept.push(ep);
    else
      diagnostics.push({
        object: ep.source ?? '',
        reason: 'OwnedByAnotherOwner',
        message: `${ep.name} ${ep.type} is not published: the name holds records of owner "${owner}", outside namespace "${namespace}"`,
      });
  }
  return { endpoints: kept, diagnostics };
}
