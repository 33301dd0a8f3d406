/**
 * Informer-backed caches with secondary indexes, shared by every controller of the process.
 *
 * The list + watch loop (informer.ts) keeps the informer contract: every list is authoritative
 * (objects missing from it are deleted, so a watch gap never hides a deletion), watches resume
 * from the last resourceVersion, 410 relists, and every failure is retried forever with backoff.
 *
 * Each cache is in one of three states:
 * - pending: no authoritative answer yet (not synced);
 * - synced: listed, and kept current by the watch;
 * - notServed: the API server does not serve the resource (404, or its CRD is absent or being
 *   deleted). The cache is empty and `available()` is false. For an `optional` resource this
 *   counts as synced (a cluster without Gateway API works), and what is built from it must be
 *   held, not deleted: a vanished API is not the same as deleted objects.
 * Optional resources are gated by their CRD (discovery.ts): a CRD that appears starts the cache
 * without a restart; one that is being deleted makes the cache notServed at once, before the API
 * server's cleanup deletes its objects one by one.
 */
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { describeError } from './errors';
import { ListWatch } from './informer';
import type { Logger } from './logger';

export interface ResourceType {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly plural: string;
  readonly namespaced: boolean;
  /**
   * Served only when its CRD is installed (Gateway API, DNSEndpoint, ...): `optional: true` and
   * a cluster without it just has none (the cache is empty, synced and not `available()`; one log
   * line). Leave it out for APIs every cluster serves.
   */
  readonly optional?: boolean;
}

export const RESOURCES = {
  services: { group: '', version: 'v1', kind: 'Service', plural: 'services', namespaced: true },
  pods: { group: '', version: 'v1', kind: 'Pod', plural: 'pods', namespaced: true },
  namespaces: {
    group: '',
    version: 'v1',
    kind: 'Namespace',
    plural: 'namespaces',
    namespaced: false,
  },
  endpointslices: {
    group: 'discovery.k8s.io',
    version: 'v1',
    kind: 'EndpointSlice',
    plural: 'endpointslices',
    namespaced: true,
  },
  gateways: {
    group: 'gateway.networking.k8s.io',
    version: 'v1',
    kind: 'Gateway',
    plural: 'gateways',
    namespaced: true,
    optional: true,
  },
  httproutes: {
    group: 'gateway.networking.k8s.io',
    version: 'v1',
    kind: 'HTTPRoute',
    plural: 'httproutes',
    namespaced: true,
    optional: true,
  },
  grpcroutes: {
    group: 'gateway.networking.k8s.io',
    version: 'v1',
    kind: 'GRPCRoute',
    plural: 'grpcroutes',
    namespaced: true,
    optional: true,
  },
  // TLSRoute, TCPRoute and UDPRoute are in the Gateway API experimental channel (v1alpha2).
  tlsroutes: {
    group: 'gateway.networking.k8s.io',
    version: 'v1alpha2',
    kind: 'TLSRoute',
    plural: 'tlsroutes',
    namespaced: true,
    optional: true,
  },
  tcproutes: {
    group: 'gateway.networking.k8s.io',
    version: 'v1alpha2',
    kind: 'TCPRoute',
    plural: 'tcproutes',
    namespaced: true,
    optional: true,
  },
  udproutes: {
    group: 'gateway.networking.k8s.io',
    version: 'v1alpha2',
    kind: 'UDPRoute',
    plural: 'udproutes',
    namespaced: true,
    optional: true,
  },
  ingresses: {
    group: 'networking.k8s.io',
    version: 'v1',
    kind: 'Ingress',
    plural: 'ingresses',
    namespaced: true,
  },
  nodes: { group: '', version: 'v1', kind: 'Node', plural: 'nodes', namespaced: false },
  /** external-dns's CRD, published as written (optional: absent unless installed). */
  dnsendpoints: {
    group: 'externaldns.k8s.io',
    version: 'v1alpha1',
    kind: 'DNSEndpoint',
    plural: 'dnsendpoints',
    namespaced: true,
    optional: true,
  },
  dnspolicies: {
    group: 'dnsop.io',
    version: 'v1alpha1',
    kind: 'DNSPolicy',
    plural: 'dnspolicies',
    namespaced: true,
  },
  dnsprobes: {
    group: 'dnsop.io',
    version: 'v1alpha1',
    kind: 'DNSProbe',
    plural: 'dnsprobes',
    namespaced: true,
  },
} as const satisfies Record<string, ResourceType>;

export type ResourceName = keyof typeof RESOURCES;

export function apiVersionOf(r: ResourceType): string {
  return r.group === '' ? r.version : `${r.group}/${r.version}`;
}

export function resourcePath(r: ResourceType, namespace?: string): string {
  const base = r.group === '' ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
  return r.namespaced && namespace
    ? `${base}/namespaces/${namespace}/${r.plural}`
    : `${base}/${r.plural}`;
}

/** "namespace/name", or "name" for cluster-scoped objects. */
export function objectKey(obj: KubernetesObject): string {
  const ns = obj.metadata?.namespace;
  const name = obj.metadata?.name ?? '';
  return ns ? `${ns}/${name}` : name;
}

export function splitKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  return slash < 0
    ? { namespace: '', name: key }
    : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

export interface CacheEvent<T> {
  readonly type: 'add' | 'update' | 'delete';
  readonly obj: T;
  /** The previous version, for updates. */
  readonly old?: T;
}

export type IndexFn<T> = (obj: T) => readonly string[];

export interface InformerCacheOptions {
  readonly kubeConfig: KubeConfig;
  readonly resource: ResourceType;
  readonly namespace: string;
  readonly logger: Logger;
  readonly relistMs: number;
  /** How often an API that is not served is looked for again. Default 30 s. */
  readonly notServedRetryMs?: number;
  readonly pageSize?: number;
  /** List and watch object metadata only (PartialObjectMetadata). */
  readonly metadataOnly?: boolean;
  /** Failures after the first are logged at most this often. Default 60 s. */
  readonly failureLogEveryMs?: number;
}

export type CacheState = 'pending' | 'synced' | 'notServed';

const DEFAULT_NOT_SERVED_RETRY_MS = 30_000;
const METADATA_ONLY = {
  list: 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json',
  watch: 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json',
};

/** "httproutes.gateway.networking.k8s.io": the name of a resource's CRD, and of it in messages. */
export function resourceName(r: ResourceType): string {
  return r.group === '' ? r.plural : `${r.plural}.${r.group}`;
}

export class InformerCache<T extends KubernetesObject> {
  readonly #options: InformerCacheOptions;
  readonly #log: Logger;
  readonly #store = new Map<string, T>();
  readonly #handlers: Array<(event: CacheEvent<T>) => void> = [];
  readonly #indexFns = new Map<string, IndexFn<T>>();
  /** index name -> index value -> object keys */
  readonly #indexes = new Map<string, Map<string, Set<string>>>();
  /** index name -> object key -> values it is filed under */
  readonly #filed = new Map<string, Map<string, readonly string[]>>();
  readonly #stateHandlers: Array<(state: CacheState) => void> = [];
  #state: CacheState = 'pending';
  #listWatch: ListWatch | undefined;
  #started = false;
  /** False while discovery says the API is not served (its CRD is absent or being deleted). */
  #gateOpen = true;
  /** The API was served, then was not. */
  #vanished = false;
  #servedAgainAt: number | undefined;

  constructor(options: InformerCacheOptions) {
    this.#options = options;
    this.#log = options.logger.child({ cache: options.resource.plural });
  }

  get resource(): ResourceType {
    return this.#options.resource;
  }

  get state(): CacheState {
    return this.#state;
  }

  /**
   * True once the cache has an authoritative answer and stays true across reconnects: listed,
   * or (for an optional resource) known not to be served.
   */
  synced(): boolean {
    return (
      this.#state === 'synced' ||
      (this.#state === 'notServed' && this.#options.resource.optional === true)
    );
  }

  /** True when the API is served and the cache holds what it serves. */
  available(): boolean {
    return this.#state === 'synced';
  }

  /**
   * When an API that vanished while we watched it (a CRD deleted, or being reinstalled) was
   * served again; undefined if it never vanished. A first install is not a return.
   */
  servedAgainAt(): number | undefined {
    return this.#servedAgainAt;
  }

  addIndex(name: string, fn: IndexFn<T>): void {
    if (this.#indexFns.has(name)) throw new Error(`index ${name} already exists`);
    this.#indexFns.set(name, fn);
    this.#indexes.set(name, new Map());
    this.#filed.set(name, new Map());
    for (const [key, obj] of this.#store) this.#fileIndex(name, fn, key, obj);
  }

  /** Registers a handler for changes; returns a function that removes it. */
  onEvent(handler: (event: CacheEvent<T>) => void): () => void {
    this.#handlers.push(handler);
    return () => {
      const i = this.#handlers.indexOf(handler);
      if (i >= 0) this.#handlers.splice(i, 1);
    };
  }

  /** Called when the state changes (e.g. an API that vanished or appeared). */
  onStateChange(handler: (state: CacheState) => void): void {
    this.#stateHandlers.push(handler);
  }

  get(namespace: string, name: string): T | undefined {
    return this.#store.get(namespace ? `${namespace}/${name}` : name);
  }

  getByKey(key: string): T | undefined {
    return this.#store.get(key);
  }

  list(namespace?: string): T[] {
    const all = [...this.#store.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata?.namespace === namespace);
  }

  byIndex(index: string, value: string): T[] {
    const keys = this.#indexes.get(index)?.get(value);
    if (keys === undefined) {
      if (!this.#indexes.has(index)) throw new Error(`no index ${index}`);
      return [];
    }
    const out: T[] = [];
    for (const key of keys) {
      const obj = this.#store.get(key);
      if (obj !== undefined) out.push(obj);
    }
    return out;
  }

  get size(): number {
    return this.#store.size;
  }

  start(): void {
    if (this.#started) return;
    this.#started = true;
    if (this.#gateOpen) this.#startListWatch();
  }

  async stop(): Promise<void> {
    this.#started = false;
    const lw = this.#listWatch;
    this.#listWatch = undefined;
    await lw?.stop();
  }

  /** Lists again now (tests; an API that was just installed). */
  relist(): void {
    this.#listWatch?.relist();
  }

  /**
   * Discovery's verdict for an optional resource: not served (CRD absent or being deleted) stops
   * the list+watch and empties the cache at once; served starts it again.
   */
  setServed(served: boolean): void {
    if (served === this.#gateOpen) {
      if (served && this.#state === 'notServed') this.#listWatch?.relist();
      return;
    }
    this.#gateOpen = served;
    if (served) {
      if (this.#started) this.#startListWatch();
      return;
    }
    const lw = this.#listWatch;
    this.#listWatch = undefined;
    void lw?.stop();
    this.#notServed('its CustomResourceDefinition is absent or being deleted');
  }

  /** Feeds an object directly (tests and offline tools use the cache without an API server). */
  upsert(obj: T): void {
    this.#apply(obj);
  }

  remove(obj: T): void {
    this.#remove(obj);
  }

  #startListWatch(): void {
    if (this.#listWatch !== undefined) return;
    const { kubeConfig, resource, namespace } = this.#options;
    const ns = resource.namespaced && namespace !== '' ? namespace : undefined;
    const lw: ListWatch = new ListWatch({
      kubeConfig,
      path: resourcePath(resource, ns),
      resource: resourceName(resource),
      logger: this.#log,
      relistMs: this.#options.relistMs,
      notServedRetryMs: this.#options.notServedRetryMs ?? DEFAULT_NOT_SERVED_RETRY_MS,
      ...(this.#options.pageSize !== undefined ? { pageSize: this.#options.pageSize } : {}),
      ...(this.#options.metadataOnly ? { accept: METADATA_ONLY } : {}),
      ...(this.#options.failureLogEveryMs !== undefined
        ? { failureLogEveryMs: this.#options.failureLogEveryMs }
        : {}),
      handlers: {
        onList: (items) => {
          if (this.#listWatch === lw) this.#replace(items as T[]);
        },
        onEvent: (type, obj) => {
          if (this.#listWatch !== lw) return;
          if (type === 'DELETED') this.#remove(obj as T);
          else this.#apply(this.#typed(obj as T));
        },
        onNotServed: () => {
          if (this.#listWatch === lw) this.#notServed('the API server answers 404');
        },
      },
    });
    this.#listWatch = lw;
    lw.start();
  }

  /** A complete list: objects we hold that it lacks were deleted while we were not looking. */
  #replace(items: readonly T[]): void {
    const listed = new Set<string>();
    for (const item of items) {
      const obj = this.#typed(item);
      listed.add(objectKey(obj));
      this.#apply(obj);
    }
    for (const [key, obj] of [...this.#store]) {
      if (!listed.has(key)) this.#remove(obj);
    }
    if (this.#state === 'synced') return;
    if (this.#state === 'notServed') {
      // Served again after it vanished (not a first install): its objects may still be on their
      // way back (GitOps re-applying them), so dependants hold a while (servedAgainAt).
      if (this.#vanished) this.#servedAgainAt = Date.now();
      this.#log.info({ objects: this.#store.size }, 'API served again; cache synced');
    } else {
      this.#log.debug({ objects: this.#store.size }, 'cache synced');
    }
    this.#setState('synced');
  }

  #notServed(why: string): void {
    for (const obj of [...this.#store.values()]) this.#remove(obj);
    if (this.#state === 'notServed') return;
    if (this.#state === 'synced') this.#vanished = true;
    const r = this.#options.resource;
    const fields = { resource: resourceName(r), apiVersion: apiVersionOf(r), why };
    if (r.optional) {
      this.#log.info(
        fields,
        `${r.kind} is not served by the API server; what is built from ${r.kind} objects is disabled (and held) until its CRD is installed`,
      );
    } else {
      this.#log.error(
        fields,
        `${r.kind} is not served by the API server; install its CustomResourceDefinition (crds/)`,
      );
    }
    this.#setState('notServed');
  }

  #setState(state: CacheState): void {
    this.#state = state;
    for (const handler of this.#stateHandlers) {
      try {
        handler(state);
      } catch (err) {
        this.#log.error({ err: describeError(err) }, 'cache state handler threw');
      }
    }
  }

  /** List items come without apiVersion and kind; the rest of the code expects them. */
  #typed(obj: T): T {
    if (obj.apiVersion !== undefined && obj.kind !== undefined) return obj;
    const r = this.#options.resource;
    return { ...obj, apiVersion: obj.apiVersion ?? apiVersionOf(r), kind: obj.kind ?? r.kind };
  }

  #apply(obj: T): void {
    const key = objectKey(obj);
    const old = this.#store.get(key);
    const rv = obj.metadata?.resourceVersion;
    if (old !== undefined && rv !== undefined && old.metadata?.resourceVersion === rv) return;
    this.#store.set(key, obj);
    this.#reindex(key, obj);
    this.#emit(old === undefined ? { type: 'add', obj } : { type: 'update', obj, old });
  }

  #remove(obj: T): void {
    const key = objectKey(obj);
    const old = this.#store.get(key);
    if (old === undefined) return;
    this.#store.delete(key);
    this.#reindex(key, undefined);
    this.#emit({ type: 'delete', obj: old });
  }
  #reindex(key: string, obj: T | undefined): void {
    for (const [name, fn] of this.#indexFns) {
      const index = this.#indexes.get(name);
      const filed = this.#filed.get(name);
      if (index === undefined || filed === undefined) continue;
      for (const value of filed.get(key) ?? []) {
        const keys = index.get(value);
        keys?.delete(key);
        if (keys?.size === 0) index.delete(value);
      }
      filed.delete(key);
      if (obj !== undefined) this.#fileIndex(name, fn, key, obj);
    }
  }

  #fileIndex(name: string, fn: IndexFn<T>, key: string, obj: T): void {
    const values = [...new Set(fn(obj))];
    if (values.length === 0) return;
    const index = this.#indexes.get(name);
    this.#filed.get(name)?.set(key, values);
    for (const value of values) {
      let keys = index?.get(value);
      if (keys === undefined) {
        keys = new Set();
        index?.set(value, keys);
      }
      keys.add(key);
    }
  }

  #emit(event: CacheEvent<T>): void {
    for (const handler of this.#handlers) {
      try {
        handler(event);
      } catch (err) {
        this.#log.error({ err: describeError(err) }, 'cache event handler threw');
      }
    }
  }
}

export interface SharedCachesOptions {
  readonly kubeConfig: KubeConfig;
  /** "" for all namespaces. */
  readonly namespace: string;
  readonly logger: Logger;
  readonly relistMs: number;
  /** How often an API that is not served is looked for again. Default 30 s. */
  readonly notServedRetryMs?: number;
}

/** One cache per resource per process, created on first use and shared by every controller. */
export class SharedCaches {
  readonly #options: SharedCachesOptions;
  readonly #caches = new Map<ResourceName, InformerCache<KubernetesObject>>();
  #discovery: CrdDiscovery | undefined;
  #started = false;

  constructor(options: SharedCachesOptions) {
    this.#options = options;
  }

  get<T extends KubernetesObject>(name: ResourceName): InformerCache<T> {
    let cache = this.#caches.get(name);
    if (cache === undefined) {
      cache = this.#make(RESOURCES[name]);
      this.#caches.set(name, cache);
      if (cache.resource.optional) {
        this.#discovery ??= new CrdDiscovery(
          // Without RBAC for CRDs this keeps failing: say so once an hour, not once a minute.
          this.#make(CRDS, { metadataOnly: true, failureLogEveryMs: 3_600_000 }),
        );
        this.#discovery.gate(cache);
        if (this.#started) this.#discovery.start();
      }
      if (this.#started) cache.start();
    }
    return cache as unknown as InformerCache<T>;
  }

  start(): void {
    this.#started = true;
    this.#discovery?.start();
    for (const cache of this.#caches.values()) cache.start();
  }

  async stop(): Promise<void> {
    this.#started = false;
    await Promise.all([
      this.#discovery?.stop(),
      ...[...this.#caches.values()].map((c) => c.stop()),
    ]);
  }

  /** True when every cache in `names` (default: every cache created so far) has synced. */
  synced(names?: readonly ResourceName[]): boolean {
    return this.unsynced(names).length === 0;
  }

  /** Names of caches not yet synced, for /readyz and logs. */
  unsynced(names?: readonly ResourceName[]): ResourceName[] {
    return [...this.#caches.entries()]
      .filter(([n, c]) => (names === undefined || names.includes(n)) && !c.synced())
      .map(([n]) => n);
  }

  #make(
    resource: ResourceType,
    extra: Partial<InformerCacheOptions> = {},
  ): InformerCache<KubernetesObject> {
    return new InformerCache<KubernetesObject>({
      kubeConfig: this.#options.kubeConfig,
      resource,
      namespace: this.#options.namespace,
      logger: this.#options.logger,
      relistMs: this.#options.relistMs,
      ...(this.#options.notServedRetryMs !== undefined
        ? { notServedRetryMs: this.#options.notServedRetryMs }
        : {}),
      ...extra,
    });
  }
}

/** CustomResourceDefinitions, watched as metadata only to learn which optional APIs are served. */
const CRDS: ResourceType = {
  group: 'apiextensions.k8s.io',
  version: 'v1',
  kind: 'CustomResourceDefinition',
  plural: 'customresourcedefinitions',
  namespaced: false,
};

/**
 * Discovery for optional resources, driven by their CRDs: a CRD that appears starts its cache at
 * once (no restart, no polling delay); one that gets a deletionTimestamp makes its cache notServed
 * before the API server's cleanup deletes the objects one by one, so nothing built from them is
 * deleted. Without permission to watch CRDs, caches still find out through the list's 404.
 */
class CrdDiscovery {
  readonly #crds: InformerCache<KubernetesObject>;
  readonly #gated = new Map<string, InformerCache<KubernetesObject>>();

  constructor(crds: InformerCache<KubernetesObject>) {
    this.#crds = crds;
    crds.onEvent((e) => {
      const cache = this.#gated.get(e.obj.metadata?.name ?? '');
      if (cache === undefined) return;
      cache.setServed(e.type !== 'delete' && e.obj.metadata?.deletionTimestamp === undefined);
    });
    crds.onStateChange((state) => {
      if (state === 'synced') for (const name of this.#gated.keys()) this.#evaluate(name);
    });
  }

  gate(cache: InformerCache<KubernetesObject>): void {
    const name = resourceName(cache.resource);
    this.#gated.set(name, cache);
    if (this.#crds.available()) this.#evaluate(name);
  }

  start(): void {
    this.#crds.start();
  }

  async stop(): Promise<void> {
    await this.#crds.stop();
  }

  #evaluate(name: string): void {
    const crd = this.#crds.get('', name);
    this.#gated.get(name)?.setServed(crd !== undefined && !crd.metadata?.deletionTimestamp);
  }
}
