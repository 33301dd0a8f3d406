/**
 * Runs a DNSPolicyController against caches filled by hand (no API server): the status writer
 * and finalizer patches act on the cached DNSPolicy the way the API server would.
 */
import { KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import type { DNSPolicy, DNSPolicyStatus } from '../../operator/api/types';
import {
  RESOURCES,
  SharedCaches,
  objectKey,
  type InformerCache,
} from '../../operator/runtime/cache';
import { buildConfig } from '../../operator/runtime/config';
import { subscribePrimary, type ControllerContext } from '../../operator/runtime/controller';
import { MemoryEventSink } from '../../operator/runtime/events';
import { silentLogger } from '../../operator/runtime/logger';
import { createMetrics, type Metrics } from '../../operator/runtime/metrics';
import type { ObjectRef, StatusWriter } from '../../operator/runtime/status';
import { RECORDS_RESOURCES } from '../../operator/records/objects';
import {
  DNSPolicyController,
  type DNSPolicyControllerOptions,
} from '../../operator/records/reconciler';

type PolicyObject = DNSPolicy & KubernetesObject;

export interface ControllerHarness {
  readonly controller: DNSPolicyController;
  readonly caches: SharedCaches;
  readonly events: MemoryEventSink;
  readonly metrics: Metrics;
  /** Adds or replaces an object (fires the same events an informer would). */
  apply(obj: KubernetesObject): void;
  remove(obj: KubernetesObject): void;
  policy(namespace: string, name: string): PolicyObject | undefined;
  status(namespace: string, name: string): DNSPolicyStatus | undefined;
  /** Status updates asked of the API server (each one a GET, and a PATCH when it changes). */
  statusUpdates(): number;
  /** With `holdStatus`, what the API server holds now (the cache shows it after releaseStatus). */
  liveStatus(namespace: string, name: string): DNSPolicyStatus | undefined;
  /** With `holdStatus`: the watch delivers the status writes held so far to the cache. */
  releaseStatus(): void;
  /** Marks a policy deleted (deletionTimestamp); it disappears once its finalizers are gone. */
  deletePolicy(namespace: string, name: string): void;
  /** Stops the controller (Controller.stop: the grace period, default the config's). */
  stop(graceMs?: number): Promise<void>;
}

/** Every cache the records pipeline reads, by the kind of object it holds. */
const KIND_TO_CACHE: Record<string, string> = Object.fromEntries(
  RECORDS_RESOURCES.map((r) => [RESOURCES[r].kind, r]),
);

export interface ControllerHarnessOptions extends DNSPolicyControllerOptions {
  readonly trustedNamespaces?: string;
  /** Status writes reach the cache only at releaseStatus() (a lagging watch). */
  readonly holdStatus?: boolean;
  /**
   * Runs before each status update reads the object (the API server's round trip): may wait (a
   * slow API server) or throw (a failed request).
   */
  readonly statusHook?: (ref: ObjectRef, signal: AbortSignal | undefined) => Promise<void>;
}

export async function startControllerHarness(
  options: ControllerHarnessOptions = {},
): Promise<ControllerHarness> {
  const kubeConfig = new KubeConfig();
  const logger = silentLogger();
  const caches = new SharedCaches({ kubeConfig, namespace: '', logger, relistMs: 3_600_000 });
  const cache = (kind: string): InformerCache<KubernetesObject> =>
    caches.get(KIND_TO_CACHE[kind] as 'pods');
  // Nothing is listed from an API server here: every cache holds all it will hold from the start.
  for (const kind of Object.keys(KIND_TO_CACHE)) {
    cache(kind).synced = () => true;
    cache(kind).available = () => true;
  }
  const policies = (): InformerCache<PolicyObject> => caches.get<PolicyObject>('dnspolicies');
  let rv = 1;
  const apply = (obj: KubernetesObject): void => {
    const next = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(rv++) } };
    cache(obj.kind ?? '').upsert(next);
  };
  let statusUpdates = 0;
  const held = new Map<string, DNSPolicyStatus>();
  const live = (namespace: string, name: string): PolicyObject | undefined => {
    const cached = policies().get(namespace, name);
    const status = held.get(`${namespace}/${name}`);
    return cached && status ? { ...cached, status } : cached;
  };
  const status = {
    update: async (
      ref: ObjectRef,
      compute: (live: PolicyObject) => DNSPolicyStatus | undefined,
      signal?: AbortSignal,
    ) => {
      statusUpdates++;
      await options.statusHook?.(ref, signal);
      const current = live(ref.namespace, ref.name);
      if (current === undefined) return undefined;
      const next = compute(current);
      if (next === undefined) return undefined;
      const updated = { ...current, status: next };
      if (options.holdStatus === true) held.set(`${ref.namespace}/${ref.name}`, next);
      else apply(updated);
      return updated;
    },
    setFinalizers: (ref: ObjectRef, finalizers: readonly string[]) => {
      const live = policies().get(ref.namespace, ref.name);
      if (live === undefined) return Promise.resolve();
      const updated = { ...live, metadata: { ...live.metadata, finalizers: [...finalizers] } };
      if (live.metadata.deletionTimestamp !== undefined && finalizers.length === 0)
        policies().remove(live);
      else apply(updated);
      return Promise.resolve();
    },
  } as unknown as StatusWriter;
  const events = new MemoryEventSink();
  const metrics = createMetrics(new Registry(), { processMetrics: false });
  const controller = new DNSPolicyController({ syncSpacingMs: 20, ...options });
  const ctx: ControllerContext = {
    kubeConfig,
    config: buildConfig({ trustedNamespaces: options.trustedNamespaces ?? '' }),
    caches,
    logger,
    metrics,
    events,
    status,
    signal: new AbortController().signal,
    isLeader: () => true,
  };
  controller.setup(ctx);
  // The operator host's feed of DNSPolicy events, as in `dnsop run`.
  subscribePrimary(policies(), (e) => controller.enqueue(objectKey(e.obj)));
  await controller.start();
  return {
    controller,
    caches,
    events,
    metrics,
    apply,
    remove: (obj) => cache(obj.kind ?? '').remove(obj),
    policy: (ns, name) => policies().get(ns, name),
    status: (ns, name) => policies().get(ns, name)?.status,
    statusUpdates: () => statusUpdates,
    liveStatus: (ns, name) => live(ns, name)?.status,
    releaseStatus: () => {
      for (const [key, next] of held) {
        const [ns = '', name = ''] = key.split('/');
        const cached = policies().get(ns, name);
        if (cached) apply({ ...cached, status: next } as PolicyObject);
      }
      held.clear();
    },
    deletePolicy: (ns, name) => {
      const live = policies().get(ns, name);
      if (live === undefined) return;
      if ((live.metadata.finalizers ?? []).length === 0) policies().remove(live);
      else
        apply({
          ...live,
          metadata: { ...live.metadata, deletionTimestamp: new Date() },
        });
    },
    stop: (graceMs) => controller.stop(graceMs),
  };
}

/** Polls until `check` passes or the time is up (then throws its last failure). */
export async function eventually(check: () => void, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      check();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

export { objectKey };
