/**
 * The sources stage for one DNSPolicy: which namespaces it may read, which objects its
 * `sources` select, and the in-domain Endpoints they ask for. Pure over `SourceObjects`, which the
 * operator answers from informer caches and `dnsop plan` from manifests.
 */
import type {
  KubernetesObject,
  V1Ingress,
  V1Namespace,
  V1Pod,
  V1Service,
} from '@kubernetes/client-node';
import type { DNSPolicy, PolicySource, SourceKind } from '../../api/types';
import type { Diagnostic, Endpoint } from '../endpoint';
import { DomainFilter, isNameUnder } from '../hostname';
import type { SourceContext } from './context';
import { dnsEndpointEndpoints, type DNSEndpoint } from './dnsendpoint';
import type { AttachmentInputs } from './gateway';
import { isRouteKind, type Route, type RouteKind } from './gateway-api';
import { ingressEndpoints, sourceAdmitsIngressClass } from './ingress';
import { matchesLabelSelector } from './labels';
import { podEndpoints } from './pod';
import { routeEndpoints } from './routes';
import { serviceEndpoints, type ServiceInputs } from './service';
import { objectRef } from './targets';

/** Read access to the cached objects the sources use. */
export interface SourceObjects extends ServiceInputs, AttachmentInputs {
  services(namespace: string): readonly V1Service[];
  pods(namespace: string): readonly V1Pod[];
  ingresses(namespace: string): readonly V1Ingress[];
  routes(kind: RouteKind, namespace: string): readonly Route[];
  dnsEndpoints(namespace: string): readonly DNSEndpoint[];
  namespaces(): readonly V1Namespace[];
}

export interface PolicyScopeOptions {
  /** Namespaces whose policies may use spec.namespaceSelector. */
  readonly trustedNamespaces: ReadonlySet<string>;
  /** The operator's --controller-name: a `controller` annotation value it answers to besides "dnsop". */
  readonly controllerName?: string;
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

/** True when a source entry selects this object: kind, label selector, and Ingress class. */
export function sourceSelects(
  source: PolicySource,
  kind: SourceKind,
  obj: KubernetesObject,
): boolean {
  return (
    source.kind === kind &&
    matchesLabelSelector(source.selector, obj.metadata?.labels) &&
    (kind !== 'Ingress' || sourceAdmitsIngressClass(source, obj))
  );
}

/** True when any of a policy's source entries selects this object of this kind. */
export function sourcesSelectObject(
  sources: readonly PolicySource[],
  kind: SourceKind,
  obj: KubernetesObject,
): boolean {
  return sources.some((s) => sourceSelects(s, kind, obj));
}

/** The source context of one policy. */
export function sourceContextOf(policy: DNSPolicy, options: PolicyScopeOptions): SourceContext {
  const name = options.controllerName?.trim();
  return {
    ttl: policy.spec.ttl,
    controllers: new Set(name ? [name] : []),
    publishInternalServices: policy.spec.publishInternalServices === true,
  };
}

interface Collector {
  readonly endpoints: Endpoint[];
  readonly diagnostics: Diagnostic[];
  readonly held: string[];
}

function collectKind(
  kind: SourceKind,
  namespace: string,
  scope: {
    readonly policy: DNSPolicy;
    readonly ctx: SourceContext;
    readonly objects: SourceObjects;
  },
  out: Collector,
): void {
  const { policy, ctx, objects } = scope;
  const selected = <T extends KubernetesObject>(items: readonly T[]): T[] =>
    items.filter((o) => sourcesSelectObject(policy.spec.sources, kind, o));
  const add = (r: {
    endpoints: readonly Endpoint[];
    diagnostics: readonly Diagnostic[];
    held?: string;
  }): void => {
    out.endpoints.push(...r.endpoints);
    out.diagnostics.push(...r.diagnostics);
    if (r.held !== undefined) out.held.push(r.held);
  };
  if (isRouteKind(kind)) {
    for (const route of selected(objects.routes(kind, namespace)))
      add(routeEndpoints(route, kind, ctx, objects));
    return;
  }
  switch (kind) {
    case 'Service':
      for (const svc of selected(objects.services(namespace)))
        add(serviceEndpoints(svc, ctx, objects));
      return;
    case 'Pod':
      for (const pod of selected(objects.pods(namespace))) add(podEndpoints(pod, ctx));
      return;
    case 'Ingress':
      for (const ing of selected(objects.ingresses(namespace))) add(ingressEndpoints(ing, ctx));
      return;
    case 'DNSEndpoint':
      for (const obj of selected(objects.dnsEndpoints(namespace)))
        add(dnsEndpointEndpoints(obj, ctx));
      return;
  }
}

/** Why a name the sources asked for is not managed by the policy (OutsideDomains). */
function outsideDomains(ep: Endpoint, domains: DomainFilter): Diagnostic {
  const excluded = domains.excluded.find((d) => isNameUnder(ep.name, d));
  return {
    object: ep.source ?? '',
    reason: 'OutsideDomains',
    message:
      excluded !== undefined
        ? `${ep.name} is under excludeDomains entry ${excluded}; not published`
        : `${ep.name} is not under the policy's domains (${domains.domains.join(', ')}); not published`,
  };
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
  const kindScope = { policy, ctx: sourceContextOf(policy, options), objects };
  for (const namespace of scope.namespaces) {
    for (const kind of kinds) collectKind(kind, namespace, kindScope, out);
  }
  const domains = new DomainFilter(policy.spec.domains, policy.spec.excludeDomains ?? []);
  // Unordered: the planner resolves and sorts; `dnsop plan` sorts its output.
  const endpoints: Endpoint[] = [];
  const outside = new Map<string, Diagnostic>();
  for (const ep of out.endpoints) {
    if (domains.matches(ep.name)) endpoints.push(ep);
    else outside.set(`${ep.source ?? ''}\u0000${ep.name}`, outsideDomains(ep, domains));
  }
  return {
    endpoints,
    diagnostics: [...out.diagnostics, ...outside.values()],
    held: [...new Set(out.held)].sort(),
    namespaces: scope.namespaces,
  };
}
