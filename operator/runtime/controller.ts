/** The contract between the manager and each reconciler (DNSPolicy, DNSProbe). */
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import type { CacheEvent, InformerCache, ResourceName } from './cache';
import type { Config } from './config';
import type { EventSink } from './events';
import type { Logger } from './logger';
import type { Metrics } from './metrics';
import type { StatusWriter } from './status';

/** Where controllers get their (shared) caches; the manager records which ones each one reads. */
export interface CacheSource {
  get<T extends KubernetesObject>(name: ResourceName): InformerCache<T>;
}

export interface ControllerContext {
  readonly kubeConfig: KubeConfig;
  readonly config: Config;
  readonly caches: CacheSource;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly events: EventSink;
  readonly status: StatusWriter;
  /** Aborted when the manager stops for good (not when leadership is lost). */
  readonly signal: AbortSignal;
  /** True while this replica holds the leader lease (always true without leader election). */
  isLeader(): boolean;
}

/**
 * Lifecycle: `setup` once per process; then `start` and `stop` any number of times, in turn
 * (a leader that loses its lease stops, and starts again when it wins it back).
 */
export interface Controller {
  readonly name: string;
  /**
   * The custom resource this controller reconciles. The operator host is its one event feed:
   * it enqueues the key of each primary object that `needsReconcile`; the controller itself
   * subscribes only to the secondary caches it fans out from.
   */
  readonly primary: 'dnspolicies' | 'dnsprobes';
  /** Takes the key ("namespace/name") of a primary object that changed; ignored while stopped. */
  enqueue(key: string): void;
  /**
   * Registers the caches and indexes it needs (before the caches start) and subscribes to the
   * secondary caches. Must not do I/O: called on every replica, leader or not, so standbys keep
   * warm caches. The manager starts the controller once the caches it asked for have synced.
   */
  setup(ctx: ControllerContext): void;
  /** Starts reconciling (every primary object once, then on events); on the leader only. */
  start(): Promise<void>;
  /**
   * Stops taking work and waits for reconciles in flight, at most `graceMs` (default
   * config.shutdownGraceMs), then aborts them. The controller can be started again.
   */
  stop(graceMs?: number): Promise<void>;
  /** True once started and working. */
  ready(): boolean;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/**
 * The one "spec changed" rule for primary objects: adds and deletes count; an update counts when
 * something a reconcile reads changed: generation (spec), identity, deletion state, finalizers,
 * labels or annotations. Our own status writes change none of these, so they cost no reconcile.
 */
export function needsReconcile(event: CacheEvent<KubernetesObject>): boolean {
  if (event.type !== 'update' || event.old === undefined) return true;
  const a = event.old.metadata ?? {};
  const b = event.obj.metadata ?? {};
  return !(
    a.generation === b.generation &&
    a.uid === b.uid &&
    sameJson(a.deletionTimestamp, b.deletionTimestamp) &&
    sameJson(a.finalizers, b.finalizers) &&
    sameJson(a.labels, b.labels) &&
    sameJson(a.annotations, b.annotations)
  );
}

/** Calls `onChange` for each event of `cache` that `needsReconcile`; returns the unsubscribe. */
export function subscribePrimary<T extends KubernetesObject>(
  cache: InformerCache<T>,
  onChange: (event: CacheEvent<T>) => void,
): () => void {
  return cache.onEvent((event) => {
    if (needsReconcile(event)) onChange(event);
  });
}
