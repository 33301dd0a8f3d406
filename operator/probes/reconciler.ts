/**
 * The DNSProbe controller: glue between the caches and one ProbeRuntime per DNSProbe.
 *
 * Runs on the leader only (the manager starts controllers on the leader): probing from every
 * replica would multiply the load on CoreDNS past each probe's maxQPS and the namespace cap,
 * status would have several writers, and remediation must be leader-only anyway. A standby keeps
 * warm caches and takes over within a lease duration; the detector windows start afresh then, and
 * the cooldown and hourly cap carry over through status.evictions.
 *
 * Level-triggered: DNSProbe, Service, EndpointSlice and Pod events enqueue the affected DNSProbe
 * keys; a reconcile (re)builds the runtime when the spec generation changed and hands it the
 * targets discovered from the caches. Probing itself runs continuously inside the runtime.
 */
import type { KubernetesObject, V1EndpointSlice, V1Pod, V1Service } from '@kubernetes/client-node';
import { API_VERSION, type DNSProbe } from '../api/types';
import { objectKey, RESOURCES, splitKey, type InformerCache } from '../runtime/cache';
import type { Controller, ControllerContext } from '../runtime/controller';
import { describeError, isPermanent } from '../runtime/errors';
import type { EventTarget } from '../runtime/events';
import type { Logger } from '../runtime/logger';
import { WorkQueue, type ReconcileResult } from '../runtime/workqueue';
import { LoopLagMonitor } from './loop-lag';
import { cannotRunStatus } from './probe-status';
import { ProbeRuntime } from './probe-runtime';
import { KubeEvictionApi, podFacts, type EvictionApi, type EvictionRecord } from './remediation';
import { NamespaceBuckets } from './scheduler';
import { probeSettings } from './settings';
import { discoverTargets, SERVICE_NAME_LABEL } from './targets';
import { confineTargets, probeRefusals, withPodReadiness } from './tenancy';
import { refusalError } from '../runtime/refusal';

type ProbeObject = DNSProbe & KubernetesObject;

export const PROBE_INDEX = {
  /** Namespace of the Service a DNSProbe references -> DNSProbes. */
  serviceNamespace: 'dnsprobe:service-namespace',
  /** "ns/service" -> EndpointSlices. */
  sliceService: 'dnsprobe:slice-service',
  /** namespace -> pods. */
  podNamespace: 'dnsprobe:pod-namespace',
} as const;

/** Safety-net resync; changes are event driven. */
const RESYNC_MS = 60_000;

export interface DNSProbeControllerOptions {
  /** Replaces the Eviction API (tests). */
  readonly eviction?: EvictionApi;
  readonly statusPeriodMs?: number;
}

interface Caches {
  readonly probes: InformerCache<ProbeObject>;
  readonly services: InformerCache<V1Service>;
  readonly slices: InformerCache<V1EndpointSlice>;
  readonly pods: InformerCache<V1Pod>;
}

export class DNSProbeController implements Controller {
  readonly name = 'dnsprobe';
  readonly primary = 'dnsprobes' as const;
  readonly #options: DNSProbeControllerOptions;
  readonly #runtimes = new Map<string, ProbeRuntime>();
  readonly #lag = new LoopLagMonitor();
  #ctx: ControllerContext | undefined;
  #log: Logger | undefined;
  #caches: Caches | undefined;
  #queue: WorkQueue | undefined;
  #buckets: NamespaceBuckets | undefined;
  #eviction: EvictionApi | undefined;
  #started = false;

  constructor(options: DNSProbeControllerOptions = {}) {
    this.#options = options;
  }

  setup(ctx: ControllerContext): void {
    this.#ctx = ctx;
    this.#log = ctx.logger.child({ controller: this.name });
    const caches: Caches = {
      probes: ctx.caches.get<ProbeObject>('dnsprobes'),
      services: ctx.caches.get<V1Service>('services'),
      slices: ctx.caches.get<V1EndpointSlice>('endpointslices'),
      pods: ctx.caches.get<V1Pod>('pods'),
    };
    caches.probes.addIndex(PROBE_INDEX.serviceNamespace, (p) => {
      const ref = p.spec?.server?.serviceRef;
      return ref === undefined ? [] : [ref.namespace || (p.metadata?.namespace ?? '')];
    });
    caches.slices.addIndex(PROBE_INDEX.sliceService, (s) => {
      const service = s.metadata?.labels?.[SERVICE_NAME_LABEL];
      return service === undefined ? [] : [`${s.metadata?.namespace ?? ''}/${service}`];
    });
    caches.pods.addIndex(PROBE_INDEX.podNamespace, (p) => [p.metadata?.namespace ?? '']);
    this.#caches = caches;
    // DNSProbe events themselves come from the operator host (Controller.primary).
    const fanOut = (e: { obj: KubernetesObject }): void => {
      for (const p of caches.probes.byIndex(
        PROBE_INDEX.serviceNamespace,
        e.obj.metadata?.namespace ?? '',
      )) {
        this.enqueue(objectKey(p));
      }
    };
    caches.services.onEvent(fanOut);
    caches.slices.onEvent(fanOut);
    caches.pods.onEvent(fanOut);
  }

  /** Ignored while stopped: start() enqueues every DNSProbe anyway. */
  enqueue(key: string): void {
    this.#queue?.add(key);
  }

  start(): Promise<void> {
    const ctx = this.#ctx;
    if (ctx === undefined || this.#caches === undefined) {
      return Promise.reject(new Error('DNSProbeController.start() before setup()'));
    }
    if (this.#queue !== undefined) return Promise.resolve();
    // A fresh queue per term: a leader that lost its lease and won it back starts clean.
    const queue = new WorkQueue({
      name: this.name,
      concurrency: ctx.config.concurrency,
      logger: ctx.logger,
      reconcile: (key) => this.#reconcile(key),
      onResult: (_key, outcome, ms) => {
        ctx.metrics.reconcileTotal.inc({ controller: this.name, outcome });
        ctx.metrics.reconcileDuration.observe({ controller: this.name }, ms / 1000);
      },
    });
    this.#queue = queue;
    this.#buckets = new NamespaceBuckets(ctx.config.probeNamespaceMaxQps, undefined, {
      ratePerSec: ctx.config.probeClusterMaxQps,
      trusted: (ns) => this.#trusted(ns),
    });
    this.#eviction = this.#options.eviction ?? new KubeEvictionApi(ctx.kubeConfig);
    this.#lag.start();
    queue.start();
    for (const p of this.#caches.probes.list()) queue.add(objectKey(p));
    this.#started = true;
    return Promise.resolve();
  }

  async stop(graceMs?: number): Promise<void> {
    this.#started = false;
    const queue = this.#queue;
    this.#queue = undefined;
    await queue?.shutdown(graceMs ?? this.#ctx?.config.shutdownGraceMs);
    for (const runtime of this.#runtimes.values()) runtime.stop(false);
    this.#runtimes.clear();
    this.#lag.stop();
  }

  ready(): boolean {
    return this.#started;
  }

  /** The runtime of a DNSProbe (tests and diagnostics). */
  runtime(key: string): ProbeRuntime | undefined {
    return this.#runtimes.get(key);
  }

  async #reconcile(key: string): Promise<ReconcileResult | void> {
    const caches = this.#caches!;
    const { namespace, name } = splitKey(key);
    const probe = caches.probes.get(namespace, name);
    if (probe === undefined || probe.metadata?.deletionTimestamp !== undefined) {
      this.#runtimes.get(key)?.stop(true);
      this.#runtimes.delete(key);
      return;
    }
    const generation = probe.metadata?.generation;
    let runtime = this.#runtimes.get(key);
    if (runtime === undefined || runtime.generation !== generation) {
      runtime?.stop(false);
      this.#runtimes.delete(key);
      // The new spec's runtime counts the evictions of the old one (its last may not be in
      // status yet): a spec edit does not reset the hourly cap.
      const created = await this.#createRuntime(key, probe, runtime?.evictions);
      if (created === undefined) return;
      runtime = created;
      this.#runtimes.set(key, runtime);
      runtime.start();
    }
    const ref = probe.spec.server.serviceRef;
    const serviceNs = ref?.namespace || namespace;
    const pods = ref !== undefined ? caches.pods.byIndex(PROBE_INDEX.podNamespace, serviceNs) : [];
    const discovered = discoverTargets({
      server: probe.spec.server,
      namespace: serviceNs,
      transport: runtime.engine.settings.transport,
      ...(ref !== undefined ? { service: caches.services.get(serviceNs, ref.name) } : {}),
      slices:
        ref !== undefined
          ? caches.slices.byIndex(PROBE_INDEX.sliceService, `${serviceNs}/${ref.name}`)
          : [],
      pods,
      previous: runtime.podTargetKeys(),
    });
    // Tenancy (tenancy.ts): a tenant's targets are its own pods; readiness is asked where the
    // kubelet asks it, unless a trusted namespace overrides it.
    const readiness = runtime.engine.settings.readiness;
    runtime.setTargets(
      withPodReadiness(
        confineTargets(discovered, pods, this.#trusted(namespace)),
        pods,
        probe.spec.readiness !== undefined ? readiness : undefined,
        readiness,
      ),
    );
    return { requeueAfterMs: RESYNC_MS };
  }

  #trusted(namespace: string): boolean {
    return this.#ctx?.config.trustedNamespaces.includes(namespace) === true;
  }

  /**
   * A runtime for the spec, or undefined (status and Event written) when the spec cannot run.
   * Every reason a spec cannot run is decided here, before a runtime exists (probing nothing,
   * evicting nothing): InvalidSpec, and the tenancy refusals (Forbidden).
   */
  async #createRuntime(
    key: string,
    probe: ProbeObject,
    evictions: readonly EvictionRecord[] | undefined,
  ): Promise<ProbeRuntime | undefined> {
    const ctx = this.#ctx!;
    const { namespace, name } = splitKey(key);
    const regarding = {
      apiVersion: API_VERSION,
      kind: 'DNSProbe',
      namespace,
      name,
      ...(probe.metadata?.uid ? { uid: probe.metadata.uid } : {}),
    };
    let settings;
    try {
      const refused = refusalError(probeRefusals(probe.spec, namespace, this.#trusted(namespace)));
      if (refused !== undefined) throw refused;
      settings = probeSettings(probe.spec);
    } catch (err) {
      if (!isPermanent(err)) throw err;
      // InvalidSpec, or Forbidden (tenancy.ts) for a field this namespace may not use.
      await this.#cannotRun(key, regarding, err.reason, describeError(err));
      return undefined;
    }
    const statusRef = { resource: RESOURCES.dnsprobes, namespace, name };
    const serviceNs = probe.spec.server.serviceRef?.namespace || namespace;
    return new ProbeRuntime({
      key,
      regarding,
      generation: probe.metadata?.generation,
      settings,
      lag: this.#lag,
      ...(this.#buckets !== undefined ? { namespaceBucket: this.#buckets.get(namespace) } : {}),
      metrics: ctx.metrics,
      events: ctx.events,
      logger: ctx.logger,
      identity: ctx.config.identity,
      eviction: this.#eviction!,
      writeStatus: (compute) =>
        ctx.status.update<ProbeObject>(statusRef, (live) => compute(live), ctx.signal),
      podFacts: (podName) => {
        const pod = this.#caches?.pods.get(serviceNs, podName);
        return pod === undefined ? undefined : podFacts(pod);
      },
      ...(probe.status !== undefined ? { initialStatus: probe.status } : {}),
      ...(evictions !== undefined ? { evictions } : {}),
      ...(this.#options.statusPeriodMs !== undefined
        ? { statusPeriodMs: this.#options.statusPeriodMs }
        : {}),
    });
  }

  /** Stalled with `reason`: the Event and the status that say why nothing is probed. */
  async #cannotRun(
    key: string,
    regarding: EventTarget,
    reason: string,
    message: string,
  ): Promise<void> {
    const ctx = this.#ctx!;
    const { namespace, name } = splitKey(key);
    this.#log?.warn({ key, reason, err: message }, 'DNSProbe cannot run');
    ctx.events.emit({ regarding, type: 'Warning', reason, action: 'Probe', note: message });
    await ctx.status.update<ProbeObject>(
      { resource: RESOURCES.dnsprobes, namespace, name },
      (live) =>
        cannotRunStatus(live.status, live.metadata?.generation, reason, message, new Date()),
      ctx.signal,
    );
  }
}
