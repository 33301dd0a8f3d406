/**
 * One DNSPolicy through the pure pipeline: sources -> provider shaping -> plan. The operator's
 * reconciler and `dnsop plan` both call these, so what `dnsop plan` prints is what the operator does.
 */
import type { DNSPolicy, SourceKind } from '../api/types';
import type { Diagnostic, Endpoint } from './endpoint';
import { EXTERNAL_DNS_DEFAULTS, type ExternalDnsRegistry } from './external-dns-registry';
import { DomainFilter } from './hostname';
import { planChanges, type Plan, type PlanInput } from './plan';
import { providerKind, shapeEndpointsFor, type ProviderKind } from './providers/index';
import { collectDesiredRecords, policyRef, type SourceObjects } from './sources/index';
import {
  withinDomainGrants,
  withoutForeignNames,
  withoutReservedNames,
  type TenancyOptions,
} from './tenancy';

export interface PolicyEvaluation {
  /** "namespace/name" */
  readonly policy: string;
  readonly provider: ProviderKind;
  readonly ownerId: string;
  /** Shaped, in-domain endpoints the sources ask for (conflicts not yet resolved). */
  readonly desired: readonly Endpoint[];
  readonly diagnostics: readonly Diagnostic[];
  /** Source objects whose published records are held unchanged. */
  readonly held: readonly string[];
  /** Source kinds the policy asks for whose API is not served: their records are held too. */
  readonly heldKinds: readonly SourceKind[];
  readonly namespaces: readonly string[];
  /** Set for a policy in an untrusted namespace: names other namespaces' owners hold are off limits. */
  readonly confinedTo?: string;
}

/** The registry owner: spec.ownerId, or "<namespace>/<name>". */
export function ownerIdOf(policy: DNSPolicy): string {
  const explicit = policy.spec.ownerId;
  return explicit !== undefined && explicit !== ''
    ? explicit
    : `${policy.metadata.namespace ?? ''}/${policy.metadata.name ?? ''}`;
}

export function policyKey(policy: Pick<DNSPolicy, 'metadata'>): string {
  return `${policy.metadata.namespace ?? ''}/${policy.metadata.name ?? ''}`;
}

/**
 * The source kinds this policy asks for whose API is not served (e.g. HTTPRoute without the
 * Gateway API CRDs), each with an APINotInstalled diagnostic on the policy.
 */
export function unservedSources(
  policy: DNSPolicy,
  unavailableKinds: readonly SourceKind[],
): { readonly kinds: SourceKind[]; readonly diagnostics: Diagnostic[] } {
  const asked = new Set(policy.spec.sources.map((s) => s.kind));
  const kinds = unavailableKinds.filter((k) => asked.has(k));
  return {
    kinds,
    diagnostics: kinds.map((kind) => ({
      object: policyRef(policy),
      reason: 'APINotInstalled',
      message: `${kind} sources are disabled: the API server does not serve ${kind} (its CRD is not installed, or was removed or reinstalled in the last few minutes); records already published from ${kind} objects are kept unchanged until it is served and settled`,
    })),
  };
}

/**
 * Sources and provider shaping for one policy. Pure. `unavailableKinds`: source kinds whose
 * API is not served right now (the operator's caches know; offline there are none).
 */
export function evaluatePolicy(
  policy: DNSPolicy,
  objects: SourceObjects,
  options: TenancyOptions,
  unavailableKinds: readonly SourceKind[] = [],
): PolicyEvaluation {
  const provider = providerKind(policy.spec.provider);
  const collected = collectDesiredRecords(policy, objects, options);
  const shaped = shapeEndpointsFor(policy.spec.provider)(collected.endpoints);
  const namespace = policy.metadata.namespace ?? '';
  const reserved = withoutReservedNames(shaped.endpoints);
  const granted = withinDomainGrants(reserved.endpoints, namespace, objects.namespaces(), options);
  const unserved = unservedSources(policy, unavailableKinds);
  return {
    policy: policyKey(policy),
    provider,
    ownerId: ownerIdOf(policy),
    desired: granted.endpoints,
    diagnostics: dedupeDiagnostics([
      ...unserved.diagnostics,
      ...collected.diagnostics,
      ...shaped.diagnostics,
      ...reserved.diagnostics,
      ...granted.diagnostics,
    ]),
    held: collected.held,
    heldKinds: unserved.kinds,
    namespaces: collected.namespaces,
    ...(options.trustedNamespaces.has(namespace) ? {} : { confinedTo: namespace }),
  };
}

/** The plan for one policy against the provider's current records. Pure. */
export function planForPolicy(
  policy: DNSPolicy,
  evaluation: PolicyEvaluation,
  current: readonly Endpoint[],
  cachesSynced: boolean,
  deletes: Pick<PlanInput, 'recentlyDeleted' | 'deletesWait'> = {},
): Plan {
  const desired =
    evaluation.confinedTo === undefined
      ? { endpoints: evaluation.desired, diagnostics: [] }
      : withoutForeignNames(evaluation.desired, current, evaluation.confinedTo);
  const plan = planChanges({
    desired: desired.endpoints,
    current,
    ownerId: evaluation.ownerId,
    policy: policy.spec.policy ?? 'Sync',
    domains: new DomainFilter(policy.spec.domains, policy.spec.excludeDomains ?? []),
    held: evaluation.held,
    heldKinds: evaluation.heldKinds,
    cachesSynced,
    maxDeletePercent: policy.spec.maxDeletePercent ?? 50,
    ...adoptionOf(policy),
    ...deletes,
  });
  return desired.diagnostics.length === 0
    ? plan
    : { ...plan, diagnostics: [...desired.diagnostics, ...plan.diagnostics] };
}

/** spec.adopt.externalDNS as the planner's registry settings (ownerId defaults as in the CRD). */
function adoptionOf(policy: DNSPolicy): { adopt?: ExternalDnsRegistry } {
  const spec = policy.spec.adopt?.externalDNS;
  if (spec === undefined) return {};
  return { adopt: { ...spec, ownerId: spec.ownerId || EXTERNAL_DNS_DEFAULTS.ownerId } };
}

export function dedupeDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diagnostics.filter((d) => {
    const key = `${d.object}\u0000${d.reason}\u0000${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
