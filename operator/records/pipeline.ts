/**
 * One DNSPolicy through the pure pipeline: sources -> provider shaping -> plan. The operator's
 * reconciler and `dnsop plan` both call these, so what `dnsop plan` prints is what the operator does.
 */
import type { DNSPolicy } from '../api/types';
import type { Diagnostic, Endpoint } from './endpoint';
import { EXTERNAL_DNS_DEFAULTS, type ExternalDnsRegistry } from './external-dns-registry';
import { DomainFilter } from './hostname';
import { planChanges, type Plan } from './plan';
import { providerKind, shapeEndpointsFor, type ProviderKind } from './providers/index';
import { collectDesiredRecords, type SourceObjects } from './sources/index';
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

/** Sources and provider shaping for one policy. Pure. */
export function evaluatePolicy(
  policy: DNSPolicy,
  objects: SourceObjects,
  options: TenancyOptions,
): PolicyEvaluation {
  const provider = providerKind(policy.spec.provider);
  const collected = collectDesiredRecords(policy, objects, options);
  const shaped = shapeEndpointsFor(policy.spec.provider)(collected.endpoints);
  const namespace = policy.metadata.namespace ?? '';
  const reserved = withoutReservedNames(shaped.endpoints);
  const granted = withinDomainGrants(reserved.endpoints, namespace, objects.namespaces(), options);
  return {
    policy: policyKey(policy),
    provider,
    ownerId: ownerIdOf(policy),
    desired: granted.endpoints,
    diagnostics: dedupeDiagnostics([
      ...collected.diagnostics,
      ...shaped.diagnostics,
      ...reserved.diagnostics,
      ...granted.diagnostics,
    ]),
    held: collected.held,
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
  recentlyDeleted = 0,
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
    cachesSynced,
    maxDeletePercent: policy.spec.maxDeletePercent ?? 50,
    ...adoptionOf(policy),
    recentlyDeleted,
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
