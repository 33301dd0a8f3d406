/**
 * The cached objects the records pipeline reads, and the secondary indexes it keeps on them.
 * The operator passes the shared informer caches; `dnsop plan`, tests and the bench pass caches
 * filled from manifests (`offlineCaches`). Both go through the same indexes and lookups.
 */
import {
  KubeConfig,
  type KubernetesObject,
  type V1EndpointSlice,
  type V1Ingress,
  type V1Namespace,
  type V1Node,
  type V1Pod,
  type V1Service,
} from '@kubernetes/client-node';
import type { DNSPolicy, SourceKind } from '../api/types';
import { InformerCache, RESOURCES, type ResourceName } from '../runtime/cache';
import { silentLogger } from '../runtime/logger';
import type { FanoutLookups } from './fanout';
import type { DNSEndpoint } from './sources/dnsendpoint';
import { parentGatewayKeys } from './sources/gateway';
import { ROUTE_KINDS, type Gateway, type Route, type RouteKind } from './sources/gateway-api';
import type { SourceObjects } from './sources/index';
import { labelPairKeys, matchesMapSelector, type Labels } from './sources/labels';
import { followsPods } from './sources/service';

/** The part of InformerCache the records pipeline uses. */
export interface ObjectStore<T extends KubernetesObject> {
  get(namespace: string, name: string): T | undefined;
  list(namespace?: string): T[];
  byIndex(index: string, value: string): T[];
  addIndex(name: string, fn: (obj: T) => readonly string[]): void;
  synced(): boolean;
  /** False when the API is known not to be served (an optional CRD absent or being deleted). */
  available?(): boolean;
  /** When an API that vanished was served again (see InformerCache.servedAgainAt). */
  servedAgainAt?(): number | undefined;
}

/** The object type each cache of the records pipeline holds. */
export interface RecordsObjects {
  readonly services: V1Service;
  readonly pods: V1Pod;
  readonly endpointslices: V1EndpointSlice;
  readonly namespaces: V1Namespace;
  readonly nodes: V1Node;
  readonly ingresses: V1Ingress;
  readonly gateways: Gateway;
  readonly httproutes: Route;
  readonly grpcroutes: Route;
  readonly tlsroutes: Route;
  readonly tcproutes: Route;
  readonly udproutes: Route;
  readonly dnsendpoints: DNSEndpoint;
  readonly dnspolicies: DNSPolicy & KubernetesObject;
}

export type RecordsCaches = {
  readonly [K in keyof RecordsObjects]: ObjectStore<RecordsObjects[K]>;
};

/** Resources read by the records pipeline (each becomes a shared informer in the operator). */
export const RECORDS_RESOURCES = [
  'services',
  'pods',
  'endpointslices',
  'namespaces',
  'nodes',
  'ingresses',
  'gateways',
  'httproutes',
  'grpcroutes',
  'tlsroutes',
  'tcproutes',
  'udproutes',
  'dnsendpoints',
  'dnspolicies',
] as const satisfies readonly (keyof RecordsObjects & ResourceName)[];

/** The records caches, each taken from `cacheOf` (shared informers, or offline caches). */
export function recordsCaches(
  cacheOf: (name: (typeof RECORDS_RESOURCES)[number]) => ObjectStore<KubernetesObject>,
): RecordsCaches {
  return Object.fromEntries(
    RECORDS_RESOURCES.map((name) => [name, cacheOf(name)]),
  ) as unknown as RecordsCaches;
}

/** The kinds whose diagnostics are also posted as Events on the object, with their caches. */
export const DIAGNOSTIC_EVENT_CACHES: Readonly<Record<string, keyof RecordsCaches>> = {
  HTTPRoute: 'httproutes',
  GRPCRoute: 'grpcroutes',
  TLSRoute: 'tlsroutes',
  TCPRoute: 'tcproutes',
  UDPRoute: 'udproutes',
  Ingress: 'ingresses',
};

/** The cache of each route kind. */
export const ROUTE_CACHES = {
  HTTPRoute: 'httproutes',
  GRPCRoute: 'grpcroutes',
  TLSRoute: 'tlsroutes',
  TCPRoute: 'tcproutes',
  UDPRoute: 'udproutes',
} as const satisfies Record<RouteKind, keyof RecordsCaches>;

export const INDEX = {
  /** namespace -> objects (services, pods, routes) */
  namespace: 'records:namespace',
  /** "ns/key=value" per pod label -> pods */
  podLabel: 'records:pod-label',
  /**
   * "ns/key=value" per selector pair of a Service whose records follow its pods (headless with a
   * selector, seeds/000; NodePort with externalTrafficPolicy Local) -> Services
   */
  serviceSelector: 'records:service-selector',
  /** spec.type -> Services (node changes reach NodePort Services) */
  serviceType: 'records:service-type',
  /** "ns/service" -> EndpointSlices */
  sliceService: 'records:slice-service',
  /** "ns/gateway" -> routes (of the cache's kind) naming it as parent */
  routeGateway: 'records:route-gateway',
} as const;

const namespaceOf = (o: KubernetesObject): string[] => [o.metadata?.namespace ?? ''];

/** Adds the records indexes to the caches (once per cache set). */
export function installRecordsIndexes(caches: RecordsCaches): void {
  caches.services.addIndex(INDEX.namespace, namespaceOf);
  caches.services.addIndex(INDEX.serviceSelector, (svc) =>
    followsPods(svc) ? labelPairKeys(svc.metadata?.namespace ?? '', svc.spec?.selector) : [],
  );
  caches.services.addIndex(INDEX.serviceType, (svc) => [svc.spec?.type ?? 'ClusterIP']);
  caches.pods.addIndex(INDEX.namespace, namespaceOf);
  caches.pods.addIndex(INDEX.podLabel, (pod) =>
    labelPairKeys(pod.metadata?.namespace ?? '', pod.metadata?.labels),
  );
  caches.endpointslices.addIndex(INDEX.sliceService, (slice) => {
    const service = slice.metadata?.labels?.['kubernetes.io/service-name'];
    return service ? [`${slice.metadata?.namespace ?? ''}/${service}`] : [];
  });
  for (const kind of ROUTE_KINDS) {
    caches[ROUTE_CACHES[kind]].addIndex(INDEX.namespace, namespaceOf);
    caches[ROUTE_CACHES[kind]].addIndex(INDEX.routeGateway, parentGatewayKeys);
  }
  caches.ingresses.addIndex(INDEX.namespace, namespaceOf);
  caches.dnsendpoints.addIndex(INDEX.namespace, namespaceOf);
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

/** Services following their pods (see followsPods) in the namespace whose selector matches these labels. */
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
    ingresses: (ns) => caches.ingresses.byIndex(INDEX.namespace, ns),
    routes: (kind, ns) => caches[ROUTE_CACHES[kind]].byIndex(INDEX.namespace, ns),
    dnsEndpoints: (ns) => caches.dnsendpoints.byIndex(INDEX.namespace, ns),
    nodes: () => caches.nodes.list(),
    node: (name) => caches.nodes.get('', name),
    namespaces: () => caches.namespaces.list(),
    namespace: (name) => caches.namespaces.get('', name),
    gateway: (ns, name) => caches.gateways.get(ns, name),
    podsSelectedBy: (ns, selector) => podsMatching(caches.pods, ns, selector),
    endpointSlicesOf: (ns, service) =>
      caches.endpointslices.byIndex(INDEX.sliceService, `${ns}/${service}`),
  };
}

/** The lookups fan-out needs, answered from indexed caches. */
export function fanoutLookupsFrom(caches: RecordsCaches): FanoutLookups {
  return {
    policies: () => caches.dnspolicies.list(),
    namespaceLabels: (ns) => caches.namespaces.get('', ns)?.metadata?.labels,
    servicesSelecting: (ns, labels) => servicesSelectingLabels(caches.services, ns, labels),
    service: (ns, name) => caches.services.get(ns, name),
    routesOfGateway: (kind, key) => caches[ROUTE_CACHES[kind]].byIndex(INDEX.routeGateway, key),
    servicesOfType: (type) => caches.services.byIndex(INDEX.serviceType, type),
  };
}

/** True when every cache the records pipeline reads has loaded its first list. */
export function recordsCachesSynced(caches: RecordsCaches): boolean {
  return Object.values(caches).every((c: ObjectStore<KubernetesObject>) => c.synced());
}

/**
 * The caches each source kind reads (namespaces and policies aside, which every kind reads), by
 * their RESOURCES name: when one of them is not served, records made from that kind are held, not
 * deleted. A new source kind must be listed here (the Record type makes the compiler ask).
 */
const SOURCE_KIND_CACHES: Readonly<Record<SourceKind, readonly ResourceName[]>> = {
  Service: ['services', 'pods', 'endpointslices', 'nodes'],
  Pod: ['pods'],
  Ingress: ['ingresses'],
  HTTPRoute: ['httproutes', 'gateways'],
  GRPCRoute: ['grpcroutes', 'gateways'],
  TLSRoute: ['tlsroutes', 'gateways'],
  TCPRoute: ['tcproutes', 'gateways'],
  UDPRoute: ['udproutes', 'gateways'],
  DNSEndpoint: ['dnsendpoints'],
};

/**
 * After an API that vanished is served again (a CRD reinstalled), its objects may still be on
 * their way back (GitOps re-applying them): records made from that kind stay held this long, so a
 * reinstall never deletes and republishes them. A first install is not held.
 */
export const API_RETURN_HOLD_MS = 120_000;

/**
 * When a cache whose state just changed asks for one more resync of every policy: when the hold of
 * an API served again ends (ms from now, with a second's margin), so the records it held are synced
 * then. Undefined when nothing is held: a cache that turns synced at start-up, or one that came
 * back longer ago than the hold.
 */
export function resyncAfterHoldMs(
  state: string,
  servedAgainAt: number | undefined,
  now = Date.now(),
): number | undefined {
  if (state !== 'synced' || servedAgainAt === undefined) return undefined;
  const left = servedAgainAt + API_RETURN_HOLD_MS - now;
  return left > 0 ? left + 1_000 : undefined;
}

/**
 * Source kinds whose records must be held: one of the caches the kind reads is known not to be
 * served (synced, not available), or was served again less than API_RETURN_HOLD_MS ago.
 */
export function unavailableSourceKinds(caches: RecordsCaches, now = Date.now()): SourceKind[] {
  const byName = caches as unknown as Partial<Record<ResourceName, ObjectStore<KubernetesObject>>>;
  const held = (name: ResourceName): boolean => {
    const store = byName[name];
    if (store === undefined) return false;
    if (store.synced() && store.available?.() === false) return true;
    const back = store.servedAgainAt?.();
    return back !== undefined && now - back < API_RETURN_HOLD_MS;
  };
  return (Object.keys(SOURCE_KIND_CACHES) as SourceKind[]).filter((kind) =>
    SOURCE_KIND_CACHES[kind].some(held),
  );
}

/** Caches with no API server behind them, filled with `add`; used by `dnsop plan`, tests and the bench. */
export interface OfflineCaches extends RecordsCaches {
  /** Files an object under its kind; returns false for kinds the records pipeline does not read. */
  add(obj: KubernetesObject): boolean;
  remove(obj: KubernetesObject): void;
}

export function offlineCaches(): OfflineCaches {
  const kubeConfig = new KubeConfig();
  const logger = silentLogger();
  const stores = new Map<string, InformerCache<KubernetesObject>>();
  const caches = recordsCaches((name) => {
    const cache = new InformerCache<KubernetesObject>({
      kubeConfig,
      resource: RESOURCES[name],
      namespace: '',
      logger,
      relistMs: 3_600_000,
    });
    stores.set(RESOURCES[name].kind, cache);
    return cache;
  });
  installRecordsIndexes(caches);
  const cacheFor = (obj: KubernetesObject): InformerCache<KubernetesObject> | undefined =>
    stores.get(obj.kind ?? '');
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
