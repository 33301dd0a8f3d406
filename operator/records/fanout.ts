/**
 * Which DNSPolicies a watch event concerns (seeds/000): the answer is computed from the caches and
 * their indexes, so a pod label flip reaches the policies of every headless Service that selected
 * the pod before or after, without a resync, and an Ingress or route change reaches only the
 * policies whose sources select it. Pure over the lookups it is given.
 */
import type {
  KubernetesObject,
  V1EndpointSlice,
  V1Ingress,
  V1Namespace,
  V1Node,
  V1Pod,
  V1Service,
} from '@kubernetes/client-node';
import type { DNSPolicy, SourceKind } from '../api/types';
import type { DNSEndpoint } from './sources/dnsendpoint';
import { ROUTE_KINDS, type Gateway, type Route, type RouteKind } from './sources/gateway-api';
import {
  policyCoversNamespace,
  sourcesSelectObject,
  usesNamespaceSelector,
  type PolicyScopeOptions,
} from './sources/index';
import type { Labels } from './sources/labels';
import { podRecordFingerprint } from './sources/pods';
import { policyKey } from './pipeline';
import { ALLOWED_DOMAINS_ANNOTATION } from './tenancy';

export interface FanoutLookups {
  policies(): readonly DNSPolicy[];
  namespaceLabels(namespace: string): Labels | undefined;
  /** Services in `namespace` whose records follow pods matching `labels` (index). */
  servicesSelecting(namespace: string, labels: Labels | undefined): readonly V1Service[];
  service(namespace: string, name: string): V1Service | undefined;
  /** Routes of `kind` naming the Gateway "namespace/name" as a parent (index). */
  routesOfGateway(kind: RouteKind, gatewayKey: string): readonly Route[];
  /** Services of a spec.type, in every namespace (index). */
  servicesOfType(type: string): readonly V1Service[];
}

export interface ChangeEvent<T> {
  readonly type: 'add' | 'update' | 'delete';
  readonly obj: T;
  readonly old?: T;
}

function labelsOf(obj: KubernetesObject | undefined): Labels | undefined {
  return obj?.metadata?.labels;
}

/** Policies whose `kind` sources select any of these objects (all in `namespace`). */
export function policiesSelecting(
  lookups: FanoutLookups,
  options: PolicyScopeOptions,
  kind: SourceKind,
  namespace: string,
  objects: readonly (KubernetesObject | undefined)[],
): string[] {
  const nsLabels = lookups.namespaceLabels(namespace);
  const present = objects.filter((o): o is KubernetesObject => o !== undefined);
  return lookups
    .policies()
    .filter(
      (p) =>
        policyCoversNamespace(p, namespace, nsLabels, options) &&
        present.some((o) => sourcesSelectObject(p.spec.sources, kind, o)),
    )
    .map(policyKey);
}

/** Policies with `kind` sources selecting any of these objects, each in its own namespace. */
function policiesSelectingEach(
  lookups: FanoutLookups,
  options: PolicyScopeOptions,
  kind: SourceKind,
  objects: Iterable<KubernetesObject>,
): string[] {
  const keys = new Set<string>();
  for (const obj of objects) {
    for (const key of policiesSelecting(lookups, options, kind, obj.metadata?.namespace ?? '', [
      obj,
    ]))
      keys.add(key);
  }
  return [...keys];
}

function contentChanged(
  event: ChangeEvent<KubernetesObject>,
  fingerprint: (o: KubernetesObject) => string,
): boolean {
  return (
    event.type !== 'update' ||
    event.old === undefined ||
    fingerprint(event.old) !== fingerprint(event.obj)
  );
}

const objectFingerprint = (o: KubernetesObject): string => {
  const { metadata, ...rest } = o as KubernetesObject & Record<string, unknown>;
  return JSON.stringify([metadata?.labels, metadata?.annotations, metadata?.generation, rest]);
};

/** Policies with `kind` sources selecting the object before or after a content change. */
function affectedObject(
  kind: SourceKind,
  e: ChangeEvent<KubernetesObject>,
  lookups: FanoutLookups,
  options: PolicyScopeOptions,
  fingerprint: (o: KubernetesObject) => string = objectFingerprint,
): string[] {
  if (!contentChanged(e, fingerprint)) return [];
  return policiesSelecting(lookups, options, kind, e.obj.metadata?.namespace ?? '', [e.obj, e.old]);
}

export function affectedByService(
  e: ChangeEvent<V1Service>,
  lookups: FanoutLookups,
  options: PolicyScopeOptions,
): string[] {
  return affectedObject('Service', e, lookups, options, (o) =>
    JSON.stringify([
      o.metadata?.labels,
      o.metadata?.annotations,
      (o as V1Service).spec,
      (o as V1Service).status,
    ]),
  );
}

/**
 * A pod event reaches: policies with Pod sources selecting it, and policies selecting any Service
 * whose records follow pods (headless, node-local NodePort) and whose selector matched the pod's
 * labels before or after the change.
 */
export function affectedByPod(
  e: ChangeEvent<V1Pod>,
  lookups: FanoutLookups,
  options: PolicyScopeOptions,
): string[] {
  const labelsChanged =
    e.type !== 'update' ||
    JSON.stringify(labelsOf(e.old) ?? {}) !== JSON.stringify(labelsOf(e.obj) ?? {});
  if (!labelsChanged && !contentChanged(e, (o) => podRecordFingerprint(o))) return [];
  const namespace = e.obj.metadata?.namespace ?? '';
  const keys = new Set(policiesSelecting(lookups, options, 'Pod', namespace, [e.obj, e.old]));
  const services = new Map<string, V1Service>();
  for (const labels of [labelsOf(e.obj), labelsOf(e.old)]) {
    if (labels === undefined) continue;
    for (const svc of lookups.servicesSelecting(namespace, labels))
      services.set(svc.metadata?.name ?? '', svc);
  }
  for (const key of policiesSelecting(lookups, options, 'Service', namespace, [
    ...services.values(),
  ]))
    keys.add(key);
  return [...keys];
}

export function affectedByEndpointSlice(
  e: ChangeEvent<V1EndpointSlice>,
  lookups: FanoutLookups,
  options: PolicyScopeOptions,
): string[] {
  const namespace = e.obj.metadata?.namespace ?? '';
  const names = new Set(
    [e.obj, e.old]
      .map((s) => s?.metadata?.labels?.['kubernetes.io/service-name'])
      .filter((n): n is string => !!n),
  );
  const services = [...names].map((name) => lookups.service(namespace, name));
  return policiesSelecting(lookups, options, 'Service', namespace, services);
}

/** An Ingress change: the policies whose Ingress sources (selector, ingressClassNames) select it. */
export function affectedByIngress(
  e: ChangeEvent<V1Ingress>,
  lookups: FanoutLookups,
  options: PolicyScopeOptions,
): string[] {
  return affectedObject('Ingress', e, lookups, options);
}

export function affectedByDNSEndpoint(
  e: ChangeEvent<DNSEndpoint>,
  lookups: FanoutLookups,
  options: PolicyScopeOptions,
): string[] {
  return affectedObject('DNSEndpoint', e, lookups, options);
}

/** The fan-out of one route kind's cache. */
export function affectedByRoute(
  kind: RouteKind,
): (e: ChangeEvent<Route>, lookups: FanoutLookups, options: PolicyScopeOptions) => string[] {
  return (e, lookups, options) => affectedObject(kind, e, lookups, options);
}

/** HTTPRoute events (kept for callers that name the kind). */
export const affectedByHTTPRoute = affectedByRoute('HTTPRoute');

/** A Gateway change reaches the policies selecting any route, of any kind, attached to it. */
export function affectedByGateway(
  e: ChangeEvent<Gateway>,
  lookups: FanoutLookups,
  options: PolicyScopeOptions,
): string[] {
  if (!contentChanged(e, objectFingerprint)) return [];
  const gatewayKey = `${e.obj.metadata?.namespace ?? ''}/${e.obj.metadata?.name ?? ''}`;
  const keys = ROUTE_KINDS.flatMap((kind) =>
    policiesSelectingEach(lookups, options, kind, lookups.routesOfGateway(kind, gatewayKey)),
  );
  return [...new Set(keys)];
}

/** The facts of a node that NodePort records depend on. */
function nodeFingerprint(node: KubernetesObject): string {
  const n = node as V1Node;
  return JSON.stringify([n.status?.addresses ?? [], n.spec?.unschedulable === true]);
}

/** A node change (addresses, schedulability, existence) reaches the policies of NodePort Services. */
export function affectedByNode(
  e: ChangeEvent<V1Node>,
  lookups: FanoutLookups,
  options: PolicyScopeOptions,
): string[] {
  if (!contentChanged(e, nodeFingerprint)) return [];
  return policiesSelectingEach(lookups, options, 'Service', lookups.servicesOfType('NodePort'));
}

/**
 * A Namespace label change can move it in or out of a trusted policy's namespaceSelector, and in or
 * out of a Gateway listener's allowedRoutes selector (so every policy with route sources).
 */
export function affectedByNamespace(
  e: ChangeEvent<V1Namespace>,
  lookups: FanoutLookups,
  options: PolicyScopeOptions,
): string[] {
  // A change of the namespace's domain grants re-plans the policies in it (tenancy.ts).
  const name = e.obj.metadata?.name;
  const grants = (ns: V1Namespace | undefined): string | undefined =>
    ns?.metadata?.annotations?.[ALLOWED_DOMAINS_ANNOTATION];
  const granting =
    e.type !== 'update' || grants(e.old) !== grants(e.obj)
      ? (p: DNSPolicy): boolean => p.metadata.namespace === name
      : (): boolean => false;
  const labelsChanged =
    e.type !== 'update' ||
    JSON.stringify(labelsOf(e.old) ?? {}) !== JSON.stringify(labelsOf(e.obj) ?? {});
  const routeKinds: ReadonlySet<string> = new Set(ROUTE_KINDS);
  return lookups
    .policies()
    .filter(
      (p) =>
        granting(p) ||
        (labelsChanged &&
          (usesNamespaceSelector(p, options) ||
            p.spec.sources.some((s) => routeKinds.has(s.kind)))),
    )
    .map(policyKey);
}
