/**
 * Which DNSPolicies a watch event concerns (seeds/000): the answer is computed from the caches and
 * their indexes, so a pod label flip reaches the policies of every headless Service that selected
 * the pod before or after, without a resync. Pure over the lookups it is given.
 */
import type {
  KubernetesObject,
  V1EndpointSlice,
  V1Namespace,
  V1Pod,
  V1Service,
} from '@kubernetes/client-node';
import type { DNSPolicy, SourceKind } from '../api/types';
import type { Gateway, HTTPRoute } from './sources/gateway-api';
import {
  policyCoversNamespace,
  sourcesSelect,
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
  /** Headless Services with a selector in `namespace` whose selector matches `labels` (index). */
  servicesSelecting(namespace: string, labels: Labels | undefined): readonly V1Service[];
  service(namespace: string, name: string): V1Service | undefined;
  /** HTTPRoutes naming the Gateway "namespace/name" as a parent (index). */
  routesOfGateway(gatewayKey: string): readonly HTTPRoute[];
}

export interface ChangeEvent<T> {
  readonly type: 'add' | 'update' | 'delete';
  readonly obj: T;
  readonly old?: T;
}

function labelsOf(obj: KubernetesObject | undefined): Labels | undefined {
  return obj?.metadata?.labels;
}

/** Policies whose `kind` sources select an object in `namespace` with any of these label sets. */
export function policiesSelecting(
  lookups: FanoutLookups,
  options: PolicyScopeOptions,
  kind: SourceKind,
  namespace: string,
  labelSets: readonly (Labels | undefined)[],
): string[] {
  const nsLabels = lookups.namespaceLabels(namespace);
  return lookups
    .policies()
    .filter(
      (p) =>
        policyCoversNamespace(p, namespace, nsLabels, options) &&
        labelSets.some((labels) => sourcesSelect(p.spec.sources, kind, labels)),
    )
    .map(policyKey);
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

export function affectedByService(
  e: ChangeEvent<V1Service>,
  lookups: FanoutLookups,
  options: PolicyScopeOptions,
): string[] {
  if (
    !contentChanged(e, (o) =>
      JSON.stringify([
        o.metadata?.labels,
        o.metadata?.annotations,
        (o as V1Service).spec,
        (o as V1Service).status,
      ]),
    )
  )
    return [];
  return policiesSelecting(lookups, options, 'Service', e.obj.metadata?.namespace ?? '', [
    labelsOf(e.obj),
    labelsOf(e.old),
  ]);
}

/**
 * A pod event reaches: policies with Pod sources selecting it, and policies selecting any headless
 * Service whose selector matched the pod's labels before or after the change.
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
  const labelSets = [labelsOf(e.obj), labelsOf(e.old)];
  const keys = new Set(policiesSelecting(lookups, options, 'Pod', namespace, labelSets));
  const services = new Map<string, V1Service>();
  for (const labels of labelSets) {
    if (labels === undefined) continue;
    for (const svc of lookups.servicesSelecting(namespace, labels))
      services.set(svc.metadata?.name ?? '', svc);
  }
  for (const svc of services.values()) {
    for (const key of policiesSelecting(lookups, options, 'Service', namespace, [labelsOf(svc)]))
      keys.add(key);
  }
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
  const keys = new Set<string>();
  for (const name of names) {
    const svc = lookups.service(namespace, name);
    if (svc !== undefined)
      policiesSelecting(lookups, options, 'Service', namespace, [labelsOf(svc)]).forEach((k) =>
        keys.add(k),
      );
  }
  return [...keys];
}

export function affectedByHTTPRoute(
  e: ChangeEvent<HTTPRoute>,
  lookups: FanoutLookups,
  options: PolicyScopeOptions,
): string[] {
  if (!contentChanged(e, objectFingerprint)) return [];
  return policiesSelecting(lookups, options, 'HTTPRoute', e.obj.metadata?.namespace ?? '', [
    labelsOf(e.obj),
    labelsOf(e.old),
  ]);
}

export function affectedByGateway(
  e: ChangeEvent<Gateway>,
  lookups: FanoutLookups,
  options: PolicyScopeOptions,
): string[] {
  if (!contentChanged(e, objectFingerprint)) return [];
  const keys = new Set<string>();
  for (const route of lookups.routesOfGateway(
    `${e.obj.metadata?.namespace ?? ''}/${e.obj.metadata?.name ?? ''}`,
  )) {
    policiesSelecting(lookups, options, 'HTTPRoute', route.metadata?.namespace ?? '', [
      labelsOf(route),
    ]).forEach((k) => keys.add(k));
  }
  return [...keys];
}

/**
 * A Namespace label change can move it in or out of a trusted policy's namespaceSelector, and in or
 * out of a Gateway listener's allowedRoutes selector (so every policy with HTTPRoute sources).
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
  return lookups
    .policies()
    .filter(
      (p) =>
        granting(p) ||
        (labelsChanged &&
          (usesNamespaceSelector(p, options) ||
            p.spec.sources.some((s) => s.kind === 'HTTPRoute'))),
    )
    .map(policyKey);
}
