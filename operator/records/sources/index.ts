/**
 * The sources stage for one DNSPolicy: which namespaces it may read, which objects its
 * `sources` select, and the in-domain Endpoints they ask for. Pure over `SourceObjects`, which the
 * operator answers from informer caches and `dnsop plan` from manifests.
 */
import type { V1Namespace, V1Pod, V1Service } from '@kubernetes/client-node';
import type { DNSPolicy, PolicySource, SourceKind } from '../../api/types';
import type { Diagnostic, Endpoint } from '../endpoint';
import { DomainFilter } from '../hostname';
import type { AttachmentInputs } from './gateway';
import type { HTTPRoute } from './gateway-api';
import { httpRouteEndpoints } from './httproute';
import { matchesLabelSelector } from './labels';
import { podEndpoints } from './pod';
import { serviceEndpoints, type ServiceInputs } from './service';
import { objectRef } from './targets';

/** Read access to the cached objects the sources use. */
export interface SourceObjects extends ServiceInputs, AttachmentInputs {
  services(namespace: string): readonly V1Service[];
  pods(namespace: string): readonly V1Pod[];
  httpRoutes(namespace: string): readonly HTTPRoute[];
  namespaces(): readonly V1Namespace[];
}

export interface PolicyScopeOptions {
  /** Namespaces whose policies may use spec.namespaceSelector. */
  readonly trustedNamespaces: ReadonlySet<string>;
}

export interface DesiredRecords {
  /** In-domain endpoints, sorted by name then type. Several sources may want one name. */
  readonly endpoints: readonly Endpoint[];
  readonly diagnostics: readonly Diagnostic[];
  /** Source objects (e.g. a lagging HTTPRoute) whose published records must be held unchanged. */
  readonly held: readonly string[];
  /** The namespaces the policy read. */
  readonly namespaces: readonly string[];
}

export function policyRef(policy: Pick<DNSPolicy, 'metadata'>): string {
  return objectRef('DNSPolicy', policy.metadata);
}

/** True when the policy may look beyond its own namespace. */
export function usesNamespaceSelector(policy: DNSPolicy, options: PolicyScopeOptions): boolean {
  return (
    policy.spec.namespaceSelector !== undefined &&
    options.trustedNamespaces.has(policy.metadata.namespace ?? '')
  );
}

/** True when a policy may read sources in `namespace` (whose labels are given). */
export function policyCoversNamespace(
  policy: DNSPolicy,
  namespace: string,
  namespaceLabels: Readonly<Record<string, string>> | undefined,
  options: PolicyScopeOptions,
): boolean {
  if (!usesNamespaceSelector(policy, options)) return namespace === policy.metadata.namespace;
  return (
    namespaceLabels !== undefined &&
    matchesLabelSelector(policy.spec.namespaceSelector, namespaceLabels)
  );
}

/** The namespaces a policy reads: its own, unless it is trusted and selects others. */
export function policyNamespaces(
  policy: DNSPolicy,
  objects: Pick<SourceObjects, 'namespaces'>,
  options: PolicyScopeOptions,
): { readonly namespaces: readonly string[]; readonly diagnostics: readonly Diagnostic[] } {
  const own = policy.metadata.namespace ?? '';
  if (policy.spec.namespaceSelector === undefined) return { namespaces: [own], diagnostics: [] };
  if (!usesNamespaceSelector(policy, options)) {
    return {
      namespaces: [own],
      diagnostics: [
        {
          object: policyRef(policy),
          reason: 'NamespaceSelectorIgnored',
          message: `namespace "${own}" is not trusted by the operator (--trusted-namespaces); reading sources from "${own}" only`,
        },
      ],
    };
  }
  const namespaces = objects
    .namespaces()
    .filter((ns) => matchesLabelSelector(policy.spec.namespaceSelector, ns.metadata?.labels))
    .map((ns) => ns.metadata?.name ?? '')
    .filter((n) => n !== '')
    .sort();
  return { namespaces, diagnostics: [] };
}

/** True when a policy's source entries select an object of this kind with these labels. */
export function sourcesSelect(
  sources: readonly PolicySource[],
  kind: SourceKind,
  labels: Readonly<Record<string, string>> | undefined,
): boolean {
  return sources.some((s) => s.kind === kind && matchesLabelSelector(s.selector, labels));
}

interface Collector {
  readonly endpoints: Endpoint[];
  readonly diagnostics: Diagnostic[];
  readonly held: string[];
}

function collectKind(
  kind: SourceKind,
  namespace: string,
  policy: DNSPolicy,
  objects: SourceObjects,
  out: Collector,
): void {
  const sources = policy.spec.sources;
  const ttl = policy.spec.ttl;
  const selected = <T extends { metadata?: { labels?: Record<string, string> } }>(
    items: readonly T[],
  ): T[] => items.filter((o) => sourcesSelect(sources, kind, o.metadata?.labels));
  const add = (r: { endpoints: readonly Endpoint[]; diagnostics: readonly Diagnostic[] }): void => {
    out.endpoints.push(...r.endpoints);
    out.diagnostics.push(...r.diagnostics);
  };
  switch (kind) {
    case 'Service':
      for (const svc of selected(objects.services(namespace)))
        add(serviceEndpoints(svc, ttl, objects));
      return;
    case 'Pod':
      for (const pod of selected(objects.pods(namespace))) add(podEndpoints(pod, ttl));
      return;
    case 'HTTPRoute':
      for (const route of selected(objects.httpRoutes(namespace))) {
        const result = httpRouteEndpoints(route, ttl, objects);
        add(result);
        if (result.held !== undefined) out.held.push(result.held);
      }
      return;
  }
}

/** Everything the policy's sources ask for, in its domains. */
export function collectDesiredRecords(
  policy: DNSPolicy,
  objects: SourceObjects,
  options: PolicyScopeOptions,
): DesiredRecords {
  const scope = policyNamespaces(policy, objects, options);
  const out: Collector = { endpoints: [], diagnostics: [...scope.diagnostics], held: [] };
  const kinds = [...new Set(policy.spec.sources.map((s) => s.kind))];
  for (const namespace of scope.namespaces) {
    for (const kind of kinds) collectKind(kind, namespace, policy, objects, out);
  }
  const domains = new DomainFilter(policy.spec.domains, policy.spec.excludeDomains ?? []);
  // Unordered: the planner resolves and sorts; `dnsop plan` sorts its output.
  const endpoints = out.endpoints.filter((ep) => domains.matches(ep.name));
  return {
    endpoints,
    diagnostics: out.diagnostics,
    held: [...new Set(out.held)].sort(),
    namespaces: scope.namespaces,
  };
}
