/**
 * One DNSPolicy through the pure pipeline: sources -> provider shaping -> plan. The operator's
 * reconciler and `dnsop plan` both call these, so what `dnsop plan` prints is what the operator does.
 */
import type { DNSPolicy } from '../api/types';
import type { Diagnostic, Endpoint } from './endpoint';
import { DomainFilter } from './hostname';
import { planChanges, type Plan } from './plan';
import { providerKind, shapeEndpointsFor, type ProviderKind } from './providers/index';
import {
  collectDesiredRecords,
  type PolicyScopeOptions,
  type SourceObjects,
} from './sources/index';

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
  options: PolicyScopeOptions,
): PolicyEvaluation {
  const provider = providerKind(policy.spec.provider);
  const collected = collectDesiredRecords(policy, objects, options);
  const shaped = shapeEndpointsFor(policy.spec.provider)(collected.endpoints);
  return {
    policy: policyKey(policy),
    provider,
    ownerId: ownerIdOf(policy),
    desired: shaped.endpoints,
    diagnostics: dedupeDiagnostics([...collected.diagnostics, ...shaped.diagnostics]),
    held: collected.held,
    namespaces: collected.namespaces,
  };
}

/** The plan for one policy against the provider's current records. Pure. */
export function planForPolicy(
  policy: DNSPolicy,
  evaluation: PolicyEvaluation,
  current: readonly Endpoint[],
  cachesSynced: boolean,
): Plan {
  return planChanges({
    desired: evaluation.desired,
    current,
    ownerId: evaluation.ownerId,
    policy: policy.spec.policy ?? 'Sync',
    domains: new DomainFilter(policy.spec.domains, policy.spec.excludeDomains ?? []),
    held: evaluation.held,
    cachesSynced,
    maxDeletePercent: policy.spec.maxDeletePercent ?? 50,
  });
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
