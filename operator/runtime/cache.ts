/**
 * Informer-backed caches with secondary indexes.
 *
 * The informer contract every cache keeps (see STYLE.md):
 * - list, then watch from the list's resourceVersion; on 410 relist and emit the objects missing
 *   from the fresh list as deletions (client-node's ListWatch does this);
 * - client-node's informer stops on errors other than 410: we always restart it, with backoff;
 * - a periodic full relist (a fresh informer) catches anything a silently dead watch missed;
 * - resourceVersions are opaque: compared only for equality.
 * A resource whose API is not installed (e.g. Gateway API CRDs absent) counts as synced and empty,
 * and is retried slowly, so a cluster without Gateway API still works.
 */
import {
  KubeConfig,
  KubernetesObjectApi,
  makeInformer,
  type Informer,
  type KubernetesListObject,
  type KubernetesObject,
  type ObjectCache,
} from '@kubernetes/client-node';
import { backoffDelay } from './backoff';
import { describeError, httpStatusOf } from './errors';
import type { Logger } from './logger';

export interface ResourceType {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly plural: string;
  readonly namespaced: boolean;
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
  },
  httproutes: {
    group: 'gateway.networking.k8s.io',
    version: 'v1',
    kind: 'HTTPRoute',
    plural: 'httproutes',
    namespaced: true,
  },
  grpcroutes: {
    group: 'gateway.networking.k8s.io',
    version: 'v1',
    kind: 'GRPCRoute',
    plural: 'grpcroutes',
    namespaced: true,
  },
  // TLSRoute, TCPRoute and UDPRoute are in the Gateway API experimental channel (v1alpha2).
  tlsroutes: {
    group: 'gateway.networking.k8s.io',
    version: 'v1alpha2',
    kind: 'TLSRoute',
    plural: 'tlsroutes',
    namespaced: true,
  },
  tcproutes: {
    group: 'gateway.networking.k8s.io',
    version: 'v1alpha2',
    kind: 'TCPRoute',
    plural: 'tcproutes',
    namespaced: true,
  },
  udproutes: {
    group: 'gateway.networking.k8s.io',
    version: 'v1alpha2',
    kind: 'UDPRoute',
    plural: 'udproutes',
    namespaced: true,
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

interface InformerCacheOptions {
  readonly kubeConfig: KubeConfig;
  readonly resource: ResourceType;
  readonly namespace: string;
  readonly logger: Logger;
  readonly relistMs: number;
  readonly pageSize?: number;
}

const NOT_INSTALLED_RETRY_MS = 60_000;

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
  #informer: (Informer<T> & ObjectCache<T>) | undefined;
  #generationSeen = new Set<string>();
  #synced = false;
  #stopped = true;
  #failures = 0;
  #timer: NodeJS.Timeout | undefined;
  #relistTimer: NodeJS.Timeout | undefined;

  constructor(options: InformerCacheOptions) {
    this.#options = options;
    this.#log = options.logger.child({ cache: options.resource.plural });
  }

  get resource(): ResourceType {
    return this.#options.resource;
  }

  /** True once the first full list has been loaded (and stays true across reconnects). */
  synced(): boolean {
    return this.#synced;
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
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#connect(true);
    this.#scheduleRelist();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#relistTimer);
    const informer = this.#informer;
    this.#informer = undefined;
    await informer?.stop();
  }

  /** Feeds an object directly (tests and offline tools use the cache without an API server). */
  upsert(obj: T): void {
    this.#apply(obj);
  }

  remove(obj: T): void {
    this.#remove(obj);
  }

  #connect(fresh: boolean): void {
    if (this.#stopped) return;
    if (fresh || this.#informer === undefined) {
      void this.#informer?.stop();
      this.#informer = this.#makeInformer();
      this.#generationSeen = new Set();
    }
    const informer = this.#informer;
    const started = informer.start();
    void started.then(
      () => this.#afterStart(informer, fresh),
      (err: unknown) => this.#onError(informer, err),
    );
  }

  #afterStart(informer: Informer<T> & ObjectCache<T>, fresh: boolean): void {
    if (informer !== this.#informer || this.#stopped || this.#errored.has(informer)) return;
    if (fresh) {
      // Objects we knew that the fresh list did not return were deleted while we were not looking.
      for (const [key, obj] of [...this.#store]) {
        if (!this.#generationSeen.has(key)) this.#remove(obj);
      }
    }
    this.#failures = 0;
    if (!this.#synced) this.#log.debug({ objects: this.#store.size }, 'cache synced');
    this.#synced = true;
  }

  readonly #errored = new WeakSet<object>();

  #onError(informer: Informer<T> & ObjectCache<T>, err: unknown): void {
    if (informer !== this.#informer || this.#stopped) return;
    this.#errored.add(informer);
    const status = httpStatusOf(err);
    if (status === 404) {
      // The API is not served (CRD not installed): an empty, synced cache; look again later.
      if (!this.#synced) this.#log.info('resource not served by the API server; treating as empty');
      for (const obj of [...this.#store.values()]) this.#remove(obj);
      this.#synced = true;
      this.#retry(NOT_INSTALLED_RETRY_MS, true);
      return;
    }
    const delay = backoffDelay(this.#failures++, { baseMs: 200, maxMs: 30_000 });
    this.#log.warn(
      { err: describeError(err), status, retryInMs: delay },
      'watch failed; restarting',
    );
    this.#retry(delay, status === 410);
  }

  #retry(delayMs: number, fresh: boolean): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      const informer = this.#informer;
      if (informer !== undefined) this.#errored.delete(informer);
      this.#connect(fresh);
    }, delayMs);
    this.#timer.unref();
  }

  #scheduleRelist(): void {
    clearTimeout(this.#relistTimer);
    this.#relistTimer = setTimeout(() => {
      this.#log.debug('periodic relist');
      this.#connect(true);
      this.#scheduleRelist();
    }, this.#options.relistMs);
    this.#relistTimer.unref();
  }

  #makeInformer(): Informer<T> & ObjectCache<T> {
    const { kubeConfig, resource, namespace } = this.#options;
    const api = KubernetesObjectApi.makeApiClient(kubeConfig);
    const ns = resource.namespaced && namespace !== '' ? namespace : undefined;
    const pageSize = this.#options.pageSize ?? 500;
    const listAll = async (): Promise<KubernetesListObject<T>> => {
      const items: T[] = [];
      let token: string | undefined;
      let first: KubernetesListObject<T> | undefined;
      do {
        const page: KubernetesListObject<T> = await api.list<T>(
          apiVersionOf(resource),
          resource.kind,
          ns,
          undefined,
          undefined,
          undefined,
          undefined,
          undefined,
          pageSize,
          token,
        );
        first ??= page;
        items.push(...page.items);
        token = page.metadata?._continue || undefined;
      } while (token !== undefined);
      // The first page's resourceVersion is the snapshot every page belongs to.
      return { ...first, items };
    };
    const informer = makeInformer<T>(kubeConfig, resourcePath(resource, ns), listAll);
    informer.on('add', (obj) => this.#seen(informer, obj));
    informer.on('update', (obj) => this.#seen(informer, obj));
    informer.on('delete', (obj) => {
      if (informer === this.#informer) this.#remove(obj);
    });
    informer.on('error', (err: unknown) => this.#onError(informer, err));
    return informer;
  }

  #seen(informer: Informer<T> & ObjectCache<T>, obj: T): void {
    if (informer !== this.#informer) return;
    this.#generationSeen.add(objectKey(obj));
    this.#apply(obj);
  }

  #apply(obj: T): void {
    const key = objectKey(obj);
    const old = this.#store.get(key);
    if (old !== undefined && old.metadata?.resourceVersion === obj.metadata?.resourceVersion) {
      if (old.metadata?.resourceVersion !== undefined) return;
    }
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
}

/** One cache per resource per process, created on first use and shared by every controller. */
export class SharedCaches {
  readonly #options: SharedCachesOptions;
  readonly #caches = new Map<ResourceName, InformerCache<KubernetesObject>>();
  #started = false;

  constructor(options: SharedCachesOptions) {
    this.#options = options;
  }

  get<T extends KubernetesObject>(name: ResourceName): InformerCache<T> {
    let cache = this.#caches.get(name);
    if (cache === undefined) {
      cache = new InformerCache<KubernetesObject>({
        kubeConfig: this.#options.kubeConfig,
        resource: RESOURCES[name],
        namespace: this.#options.namespace,
        logger: this.#options.logger,
        relistMs: this.#options.relistMs,
      });
      this.#caches.set(name, cache);
      if (this.#started) cache.start();
    }
    return cache as unknown as InformerCache<T>;
  }

  start(): void {
    this.#started = true;
    for (const cache of this.#caches.values()) cache.start();
  }

  async stop(): Promise<void> {
    this.#started = false;
    await Promise.all([...this.#caches.values()].map((c) => c.stop()));
  }

  /** True when every cache created so far has synced. */
  synced(): boolean {
    return [...this.#caches.values()].every((c) => c.synced());
  }

  /** Names of caches not yet synced, for /readyz and logs. */
  unsynced(): string[] {
    return [...this.#caches.entries()].filter(([, c]) => !c.synced()).map(([n]) => n);
  }
}
