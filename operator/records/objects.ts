/**
 * The cached objects the records pipeline reads, and the secondary indexes it keeps on them.
 * The operator passes the shared informer caches; `dnsop plan`, tests and the bench pass caches
 * filled from manifests (`offlineCaches`). Both go through the same indexes and lookups.
 */
import {
  KubeConfig,
  type KubernetesObject,
  type V1EndpointSlice,
  type V1Namespace,
  type V1Pod,
  type V1Service,
} from '@kubernetes/client-node';
import type { DNSPolicy } from '../api/types';
import { InformerCache, RESOURCES, type ResourceName } from '../runtime/cache';
import { silentLogger } from '../runtime/logger';
import { parentGatewayKeys } from './sources/gateway';
import type { Gateway, HTTPRoute } from './sources/gateway-api';
import type { SourceObjects } from './sources/index';
import { labelPairKeys, matchesMapSelector, type Labels } from './sources/labels';
import { selectsPods } from './sources/service';

/** The part of InformerCache the records pipeline uses. */
export interface ObjectStore<T extends KubernetesObject> {
  get(namespace: string, name: string): T | undefined;
  list(namespace?: string): T[];
  byIndex(index: string, value: string): T[];
  addIndex(name: string, fn: (obj: T) => readonly string[]): void;
  synced(): boolean;
}

export interface RecordsCaches {
  readonly services: ObjectStore<V1Service>;
  readonly pods: ObjectStore<V1Pod>;
  readonly endpointslices: ObjectStore<V1EndpointSlice>;
  readonly namespaces: ObjectStore<V1Namespace>;
  readonly gateways: ObjectStore<Gateway>;
  readonly httproutes: ObjectStore<HTTPRoute>;
  readonly dnspolicies: ObjectStore<DNSPolicy & KubernetesObject>;
}

/** Resources read by the records pipeline (each becomes a shared informer in the operator). */
export const RECORDS_RESOURCES = [
  'services',
  'pods',
  'endpointslices',
  'namespaces',
  'gateways',
  'httproutes',
  'dnspolicies',
] as const satisfies readonly ResourceName[];

export const INDEX = {
  /** namespace -> objects (services, pods, routes) */
  namespace: 'records:namespace',
  /** "ns/key=value" per pod label -> pods */
  podLabel: 'records:pod-label',
  /** "ns/key=value" per selector pair of a headless Service with a selector -> Services (seeds/000) */
  serviceSelector: 'records:service-selector',
  /** "ns/service" -> EndpointSlices */
  sliceService: 'records:slice-service',
  /** "ns/gateway" -> HTTPRoutes naming it as parent */
  routeGateway: 'records:route-gateway',
} as const;

const namespaceOf = (o: KubernetesObject): string[] => [o.metadata?.namespace ?? ''];

/** Adds the records indexes to the caches (once per cache set). */
export function installRecordsIndexes(caches: RecordsCaches): void {
  caches.services.addIndex(INDEX.namespace, namespaceOf);
  caches.services.addIndex(INDEX.serviceSelector, (svc) =>
    selectsPods(svc) ? labelPairKeys(svc.metadata?.namespace ?? '', svc.spec?.selector) : [],
  );
  caches.pods.addIndex(INDEX.namespace, namespaceOf);
  caches.pods.addIndex(INDEX.podLabel, (pod) =>
    labelPairKeys(pod.metadata?.namespace ?? '', pod.metadata?.labels),
  );
  caches.endpointslices.addIndex(INDEX.sliceService, (slice) => {
    const service = slice.metadata?.labels?.['kubernetes.io/service-name'];
    return service ? [`${slice.metadata?.namespace ?? ''}/${service}`] : [];
  });
  caches.httproutes.addIndex(INDEX.namespace, namespaceOf);
  caches.httproutes.addIndex(INDEX.routeGateway, parentGatewayKeys);
}

/** Pods in `namespace` matching a Service selector map, via the smallest label bucket. */
export function podsMatching(
  pods: ObjectStore<V1Pod>,
  namespace: string,
  selector: Labels,
): V1Pod[] {
  let best: V1Pod[] | undefined;
  for (const key of labelPairKeys(namespace, selector)) {
    const bucket = pods.byIndex(INDEX.podLabel, key);
    if (best === undefined || bucket.length < best.length) best = bucket;
    if (best.length === 0) return [];
  }
  return (best ?? []).filter((pod) => matchesMapSelector(selector, pod.metadata?.labels));
}

/** Headless Services (with a selector) in the pod's namespace whose selector matches these labels. */
export function servicesSelectingLabels(
  services: ObjectStore<V1Service>,
  namespace: string,
  labels: Labels | undefined,
): V1Service[] {
  const seen = new Map<string, V1Service>();
  for (const key of labelPairKeys(namespace, labels)) {
    for (const svc of services.byIndex(INDEX.serviceSelector, key)) {
      const name = svc.metadata?.name ?? '';
      if (!seen.has(name) && matchesMapSelector(svc.spec?.selector, labels)) seen.set(name, svc);
    }
  }
  return [...seen.values()];
}

/** SourceObjects answered from indexed caches. */
export function sourceObjectsFrom(caches: RecordsCaches): SourceObjects {
  return {
    services: (ns) => caches.services.byIndex(INDEX.namespace, ns),
    pods: (ns) => caches.pods.byIndex(INDEX.namespace, ns),
    httpRoutes: (ns) => caches.httproutes.byIndex(INDEX.namespace, ns),
    namespaces: () => caches.namespaces.list(),
    namespace: (name) => caches.namespaces.get('', name),
    gateway: (ns, name) => caches.gateways.get(ns, name),
    podsSelectedBy: (ns, selector) => podsMatching(caches.pods, ns, selector),
    endpointSlicesOf: (ns, service) =>
      caches.endpointslices.byIndex(INDEX.sliceService, `${ns}/${service}`),
  };
}

/** True when every cache the records pipeline reads has loaded its first list. */
export function recordsCachesSynced(caches: RecordsCaches): boolean {
  return Object.values(caches).every((c: ObjectStore<KubernetesObject>) => c.synced());
}

/** Caches with no API server behind them, filled with `add`; used by `dnsop plan`, tests and the bench. */
export interface OfflineCaches extends RecordsCaches {
  /** Files an object under its kind; returns false for kinds the records pipeline does not read. */
  add(obj: KubernetesObject): boolean;
  remove(obj: KubernetesObject): void;
}

const KIND_TO_RESOURCE: Readonly<Record<string, (typeof RECORDS_RESOURCES)[number]>> =
  Object.fromEntries(RECORDS_RESOURCES.map((r) => [RESOURCES[r].kind, r]));

export function offlineCaches(): OfflineCaches {
  const kubeConfig = new KubeConfig();
  const logger = silentLogger();
  const make = <T extends KubernetesObject>(name: ResourceName): InformerCache<T> =>
    new InformerCache<T>({
      kubeConfig,
      resource: RESOURCES[name],
      namespace: '',
      logger,
      relistMs: 3_600_000,
    });
  const caches = {
    services: make<V1Service>('services'),
    pods: make<V1Pod>('pods'),
    endpointslices: make<V1EndpointSlice>('endpointslices'),
    namespaces: make<V1Namespace>('namespaces'),
    gateways: make<Gateway>('gateways'),
    httproutes: make<HTTPRoute>('httproutes'),
    dnspolicies: make<DNSPolicy & KubernetesObject>('dnspolicies'),
  };
  installRecordsIndexes(caches);
  const cacheFor = (obj: KubernetesObject): InformerCache<KubernetesObject> | undefined => {
    const resource = KIND_TO_RESOURCE[obj.kind ?? ''];
    return resource === undefined
      ? undefined
      : (caches[resource] as unknown as InformerCache<KubernetesObject>);
  };
  return {
    ...caches,
    add: (obj) => {
      const cache = cacheFor(obj);
      cache?.upsert(obj);
      return cache !== undefined;
    },
    remove: (obj) => cacheFor(obj)?.remove(obj),
  };
}
