/**
 * The DNSPolicy controller: glue between the caches, the pure pipeline (sources -> shaping ->
 * plan) and the edges (provider API, status, Events, metrics).
 *
 * - Level-triggered: watch events only enqueue policy keys (fanout.ts decides which); a reconcile
 *   recomputes everything for its policy from the caches.
 * - Debounced per policy: the first event schedules the policy `debounceMs` later and later events
 *   coalesce into that run, so a burst of pod events becomes one provider change.
 * - Periodic resync every spec.interval is a safety net only.
 * - Finalizer dnsop.io/records: deleting a Sync policy deletes the records it owns.
 */
import type {
  KubeConfig,
  KubernetesObject,
  V1EndpointSlice,
  V1Namespace,
  V1Pod,
  V1Service,
} from '@kubernetes/client-node';
import { API_VERSION, type DNSPolicy, type DNSPolicyStatus } from '../api/types';
import { RESOURCES, splitKey, type CacheEvent, type InformerCache } from '../runtime/cache';
import type { Controller, ControllerContext } from '../runtime/controller';
import { parseDuration } from '../runtime/duration';
import { describeError, isPermanent, PermanentError, TransientError } from '../runtime/errors';
import { isNotFound, kubeRequest } from '../runtime/kube-http';
import type { Logger } from '../runtime/logger';
import { WorkQueue, type ReconcileResult } from '../runtime/workqueue';
import type { Changes, Diagnostic, Endpoint } from './endpoint';
import { batchGroupKey, countChanges } from './endpoint';
import {
  affectedByEndpointSlice,
  affectedByGateway,
  affectedByHTTPRoute,
  affectedByNamespace,
  affectedByPod,
  affectedByService,
  type ChangeEvent,
  type FanoutLookups,
} from './fanout';
import { DomainFilter } from './hostname';
import {
  INDEX,
  RECORDS_RESOURCES,
  installRecordsIndexes,
  recordsCachesSynced,
  servicesSelectingLabels,
  sourceObjectsFrom,
  type RecordsCaches,
} from './objects';
import { planChanges, type Plan } from './plan';
import {
  evaluatePolicy,
  ownerIdOf,
  planForPolicy,
  policyKey,
  type PolicyEvaluation,
} from './pipeline';
import { computePolicyStatus, sameStatusContent, type SyncOutcome } from './policy-status';
import { createProvider, InMemoryDnsStore, type ProviderContext } from './providers/index';
import type { Provider } from './providers/provider';
import type { Gateway, HTTPRoute } from './sources/gateway-api';
import type { PolicyScopeOptions } from './sources/index';

export const RECORDS_FINALIZER = 'dnsop.io/records';
const DEFAULT_DEBOUNCE_MS = 200;
const DEFAULT_INTERVAL_MS = 60_000;

export type ProviderFactory = (
  spec: DNSPolicy['spec']['provider'],
  context: ProviderContext,
) => Promise<Provider>;

export interface DNSPolicyControllerOptions {
  /** The process-wide in-memory DNS store; tests pass one to inspect it. Default: a new store. */
  readonly inMemoryStore?: InMemoryDnsStore;
  /** Per-policy debounce; default config.debounceMs (200 ms). */
  readonly debounceMs?: number;
  /** Builds providers; default createProvider. */
  readonly providerFactory?: ProviderFactory;
  readonly now?: () => Date;
}

interface CachedProvider {
  readonly fingerprint: string;
  readonly provider: Provider;
}

type PolicyObject = DNSPolicy & KubernetesObject;

/** One sync of one policy: what every step of it needs. */
interface SyncRun {
  readonly policy: PolicyObject;
  readonly key: string;
  readonly signal: AbortSignal;
  readonly log: Logger;
  /** When the first event behind this sync was seen (performance.now()), if any. */
  readonly eventAt: number | undefined;
  readonly intervalMs: number;
}

export class DNSPolicyController implements Controller {
  readonly name = 'dnspolicy';
  readonly primary = 'dnspolicies' as const;
  readonly store: InMemoryDnsStore;
  readonly #options: DNSPolicyControllerOptions;
  #ctx: ControllerContext | undefined;
  #caches: RecordsCaches | undefined;
  #queue: WorkQueue | undefined;
  #log: Logger | undefined;
  #started = false;
  readonly #providers = new Map<string, CachedProvider>();
  /** key -> when the provider's zones were last listed from the API (full resync). */
  readonly #listedAt = new Map<string, number>();
  /** key -> time of the first event not yet reflected by a sync (for dnsop_event_to_sync_seconds). */
  readonly #firstEventAt = new Map<string, number>();
  readonly #unsubscribe: (() => void)[] = [];

  constructor(options: DNSPolicyControllerOptions = {}) {
    this.#options = options;
    this.store = options.inMemoryStore ?? new InMemoryDnsStore();
  }

  setup(ctx: ControllerContext): void {
    this.#ctx = ctx;
    this.#log = ctx.logger.child({ controller: this.name });
    const get = <T extends KubernetesObject>(
      name: (typeof RECORDS_RESOURCES)[number],
    ): InformerCache<T> => ctx.caches.get<T>(name);
    const caches: RecordsCaches = {
      services: get<V1Service>('services'),
      pods: get<V1Pod>('pods'),
      endpointslices: get<V1EndpointSlice>('endpointslices'),
      namespaces: get<V1Namespace>('namespaces'),
      gateways: get<Gateway>('gateways'),
      httproutes: get<HTTPRoute>('httproutes'),
      dnspolicies: get<PolicyObject>('dnspolicies'),
    };
    installRecordsIndexes(caches);
    this.#caches = caches;
    this.#queue = new WorkQueue({
      name: this.name,
      concurrency: ctx.config.concurrency,
      logger: ctx.logger,
      reconcile: (key, signal) => this.#reconcile(key, signal),
      onResult: (_key, outcome, ms) => {
        ctx.metrics.reconcileTotal.inc({ controller: this.name, outcome });
        ctx.metrics.reconcileDuration.observe({ controller: this.name }, ms / 1000);
      },
    });
    this.#watch(caches);
  }

  enqueue(key: string): void {
    if (!this.#firstEventAt.has(key)) this.#firstEventAt.set(key, performance.now());
    this.#queue?.addAfter(key, this.#debounceMs());
  }

  start(): Promise<void> {
    const queue = this.#requireQueue();
    queue.start();
    for (const policy of this.#caches?.dnspolicies.list() ?? []) queue.add(policyKey(policy));
    this.#started = true;
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    this.#started = false;
    this.#unsubscribe.splice(0).forEach((off) => off());
    await this.#queue?.shutdown(this.#ctx?.config.shutdownGraceMs);
  }

  ready(): boolean {
    return this.#started;
  }

  // ---- events -----------------------------------------------------------------------------------

  #debounceMs(): number {
    return this.#options.debounceMs ?? this.#ctx?.config.debounceMs ?? DEFAULT_DEBOUNCE_MS;
  }

  #scope(): PolicyScopeOptions {
    return { trustedNamespaces: new Set(this.#ctx?.config.trustedNamespaces ?? []) };
  }

  #lookups(caches: RecordsCaches): FanoutLookups {
    return {
      policies: () => caches.dnspolicies.list(),
      namespaceLabels: (ns) => caches.namespaces.get('', ns)?.metadata?.labels,
      servicesSelecting: (ns, labels) => servicesSelectingLabels(caches.services, ns, labels),
      service: (ns, name) => caches.services.get(ns, name),
      routesOfGateway: (key) => caches.httproutes.byIndex(INDEX.routeGateway, key),
    };
  }

  #watch(caches: RecordsCaches): void {
    const lookups = this.#lookups(caches);
    const on = <T extends KubernetesObject>(
      cache: unknown,
      affected: (e: ChangeEvent<T>, l: FanoutLookups, o: PolicyScopeOptions) => string[],
    ): void => {
      const off = (cache as InformerCache<T>).onEvent((e: CacheEvent<T>) => {
        for (const key of affected(e, lookups, this.#scope())) this.enqueue(key);
      });
      this.#unsubscribe.push(off);
    };
    on<V1Service>(caches.services, affectedByService);
    on<V1Pod>(caches.pods, affectedByPod);
    on<V1EndpointSlice>(caches.endpointslices, affectedByEndpointSlice);
    on<HTTPRoute>(caches.httproutes, affectedByHTTPRoute);
    on<Gateway>(caches.gateways, affectedByGateway);
    on<V1Namespace>(caches.namespaces, affectedByNamespace);
    // The operator host feeds DNSPolicy keys too; listening here keeps the controller whole on its own.
    on<PolicyObject>(caches.dnspolicies, (e) =>
      specOrLifecycleChanged(e) ? [policyKey(e.obj)] : [],
    );
  }

  #requireQueue(): WorkQueue {
    if (this.#queue === undefined) throw new Error('DNSPolicyController.setup() was not called');
    return this.#queue;
  }

  // ---- reconcile --------------------------------------------------------------------------------

  async #reconcile(key: string, signal: AbortSignal): Promise<ReconcileResult | void> {
    const ctx = this.#ctx;
    const caches = this.#caches;
    if (ctx === undefined || caches === undefined) throw new Error('not set up');
    const { namespace, name } = splitKey(key);
    const policy = caches.dnspolicies.get(namespace, name);
    const eventAt = this.#firstEventAt.get(key);
    this.#firstEventAt.delete(key);
    const log = (this.#log ?? ctx.logger).child({ key });
    if (policy === undefined) {
      this.#forgetProvider(key);
      this.#queue?.forget(key);
      ctx.metrics.recordsManaged.remove({ policy: key });
      return;
    }
    if (policy.metadata.deletionTimestamp !== undefined) {
      await this.#finalize(policy, key, signal, log);
      return;
    }
    const started = performance.now();
    try {
      await this.#ensureFinalizer(policy, signal);
      return await this.#sync({
        policy,
        key,
        signal,
        log,
        eventAt,
        intervalMs: this.#intervalMs(policy),
      });
    } finally {
      ctx.metrics.syncDuration.observe({ policy: key }, (performance.now() - started) / 1000);
    }
  }

  async #sync(run: SyncRun): Promise<ReconcileResult> {
    const { policy, key, signal, log } = run;
    const ctx = this.#ctx!;
    const caches = this.#caches!;
    const interval = run.intervalMs;
    let evaluation: PolicyEvaluation;
    let provider: Provider;
    let current: Endpoint[];
    try {
      evaluation = evaluatePolicy(policy, sourceObjectsFrom(caches), this.#scope());
      provider = await this.#provider(policy, key, log);
      // Event-driven syncs work from the provider's cached view of its zones; once per interval
      // (the periodic resync) the zones are listed again, so changes made outside dnsop are seen.
      const refresh = this.#listingDue(key, interval);
      current = await provider.records({ signal, refresh });
      if (refresh) this.#listedAt.set(key, this.#nowMs());
    } catch (err) {
      return this.#failed(run, err, []);
    }
    this.#report(policy, evaluation.diagnostics, log);
    const plan = planForPolicy(policy, evaluation, current, recordsCachesSynced(caches));
    this.#report(policy, plan.diagnostics, log);
    const diagnostics = [...evaluation.diagnostics, ...plan.diagnostics];
    let outcome: SyncOutcome;
    if (plan.guard !== undefined) {
      outcome = { kind: 'Guarded' };
      ctx.metrics.syncErrors.inc({ policy: key, reason: plan.guard.reason });
      this.#policyEvent(policy, 'Warning', plan.guard.reason, plan.guard.message);
      log.warn(
        { guard: plan.guard.reason, refused: countChanges(plan.refused) },
        plan.guard.message,
      );
    } else if (policy.spec.dryRun) {
      outcome = { kind: 'DryRun' };
    } else {
      try {
        outcome = await this.#apply(run, provider, plan.changes);
      } catch (err) {
        return this.#failed(run, err, diagnostics, plan);
      }
    }
    const status = await this.#writeStatus(policy, diagnostics, plan, outcome, signal);
    ctx.metrics.recordsManaged.set({ policy: key }, status?.records ?? plan.inSync);
    if (outcome.kind === 'Applied' && outcome.failures.length > 0) {
      throw new TransientError(
        `provider rejected ${outcome.failures.length} change batches: ${outcome.failures[0] ?? ''}`,
      );
    }
    return { requeueAfterMs: interval };
  }

  async #apply(run: SyncRun, provider: Provider, changes: Changes): Promise<SyncOutcome> {
    const { policy, key, signal, log, eventAt } = run;
    const ctx = this.#ctx!;
    if (countChanges(changes) === 0)
      return { kind: 'Applied', applied: 0, failedRecords: 0, failures: [] };
    const result = await provider.applyChanges(changes, signal);
    const failedGroups = new Set(result.failed.map((f) => f.group));
    const ok = (ep: Endpoint): boolean =>
      ep.ownerOf === undefined && !failedGroups.has(batchGroupKey(ep));
    ctx.metrics.providerChanges.inc(
      { policy: key, action: 'create' },
      changes.create.filter(ok).length,
    );
    ctx.metrics.providerChanges.inc(
      { policy: key, action: 'update' },
      changes.updateNew.filter(ok).length,
    );
    ctx.metrics.providerChanges.inc(
      { policy: key, action: 'delete' },
      changes.delete.filter(ok).length,
    );
    if (eventAt !== undefined && result.applied > 0)
      ctx.metrics.eventToSync.observe((performance.now() - eventAt) / 1000);
    const failedRecords = [...changes.create, ...changes.updateNew].filter(
      (ep) => ep.ownerOf === undefined && failedGroups.has(batchGroupKey(ep)),
    ).length;
    log.info(
      {
        create: changes.create.length,
        update: changes.updateNew.length,
        delete: changes.delete.length,
        failed: result.failed.length,
      },
      'applied record changes',
    );
    for (const f of result.failed) {
      ctx.metrics.syncErrors.inc({ policy: key, reason: 'ProviderRejected' });
      this.#policyEvent(policy, 'Warning', 'ProviderRejected', `${f.group}: ${f.message}`);
    }
    return {
      kind: 'Applied',
      applied: result.applied,
      failedRecords,
      failures: result.failed.map((f) => `${f.group}: ${f.message}`),
    };
  }

  async #failed(
    run: SyncRun,
    err: unknown,
    diagnostics: readonly Diagnostic[],
    plan?: Plan,
  ): Promise<ReconcileResult> {
    const { policy, key, log, intervalMs: interval } = run;
    const ctx = this.#ctx!;
    this.#forgetProvider(key);
    const reason = isPermanent(err) ? err.reason : 'ProviderError';
    const message = describeError(err);
    ctx.metrics.syncErrors.inc({ policy: key, reason });
    this.#policyEvent(policy, 'Warning', reason, message);
    log.warn({ err: message, reason }, 'sync failed');
    await this.#writeStatus(
      policy,
      diagnostics,
      plan,
      { kind: 'ProviderError', reason, message },
      ctx.signal,
    ).catch((statusErr: unknown) =>
      log.warn({ err: describeError(statusErr) }, 'could not write status'),
    );
    if (isPermanent(err)) return { requeueAfterMs: interval };
    throw err instanceof TransientError ? err : new TransientError(message, { cause: err });
  }

  #forgetProvider(key: string): void {
    this.#providers.delete(key);
    this.#listedAt.delete(key);
  }

  #nowMs(): number {
    return this.#options.now?.().getTime() ?? Date.now();
  }

  /** A full listing is due on a policy's first sync and once per interval (10% early, for drift). */
  #listingDue(key: string, intervalMs: number): boolean {
    const last = this.#listedAt.get(key);
    return last === undefined || this.#nowMs() - last >= intervalMs * 0.9;
  }

  async #provider(policy: PolicyObject, key: string, log: Logger): Promise<Provider> {
    const fingerprint = JSON.stringify([
      policy.spec.provider,
      policy.spec.domains,
      policy.spec.excludeDomains ?? [],
    ]);
    const cached = this.#providers.get(key);
    if (cached?.fingerprint === fingerprint) return cached.provider;
    const ctx = this.#ctx!;
    const namespace = policy.metadata.namespace ?? '';
    const factory = this.#options.providerFactory ?? createProvider;
    const provider = await factory(policy.spec.provider, {
      namespace,
      trusted: ctx.config.trustedNamespaces.includes(namespace),
      readSecret: secretReader(ctx.kubeConfig, namespace),
      domains: policy.spec.domains,
      ...(policy.spec.excludeDomains ? { excludeDomains: policy.spec.excludeDomains } : {}),
      inMemoryStore: this.store,
      log,
    });
    this.#providers.set(key, { fingerprint, provider });
    this.#listedAt.delete(key);
    return provider;
  }

  #intervalMs(policy: DNSPolicy): number {
    try {
      return Math.max(1000, parseDuration(policy.spec.interval ?? '60s'));
    } catch {
      return DEFAULT_INTERVAL_MS;
    }
  }

  // ---- finalizer --------------------------------------------------------------------------------

  async #ensureFinalizer(policy: PolicyObject, signal: AbortSignal): Promise<void> {
    const finalizers = policy.metadata.finalizers ?? [];
    if (finalizers.includes(RECORDS_FINALIZER)) return;
    await this.#ctx!.status.setFinalizers(
      this.#ref(policy),
      [...finalizers, RECORDS_FINALIZER],
      policy.metadata.resourceVersion,
      signal,
    );
  }

  /** Deletes the records a Sync policy owns (never the guard's business: the user asked), then lets go. */
  async #finalize(
    policy: PolicyObject,
    key: string,
    signal: AbortSignal,
    log: Logger,
  ): Promise<void> {
    const finalizers = policy.metadata.finalizers ?? [];
    if (!finalizers.includes(RECORDS_FINALIZER)) return;
    if ((policy.spec.policy ?? 'Sync') === 'Sync' && !policy.spec.dryRun) {
      const provider = await this.#provider(policy, key, log);
      const current = await provider.records({ signal, refresh: true });
      const plan = planChanges({
        desired: [],
        current,
        ownerId: ownerIdOf(policy),
        policy: 'Sync',
        domains: new DomainFilter(policy.spec.domains, policy.spec.excludeDomains ?? []),
        cachesSynced: true,
        maxDeletePercent: 100,
      });
      if (countChanges(plan.changes) > 0) {
        const result = await provider.applyChanges(plan.changes, signal);
        if (result.failed.length > 0) {
          throw new TransientError(
            `could not delete owned records: ${result.failed.map((f) => f.message).join('; ')}`,
          );
        }
        this.#ctx!.metrics.providerChanges.inc(
          { policy: key, action: 'delete' },
          plan.changes.delete.filter((e) => e.ownerOf === undefined).length,
        );
        log.info(
          { deleted: plan.changes.delete.length },
          'deleted owned records of a deleted policy',
        );
      }
    }
    await this.#ctx!.status.setFinalizers(
      this.#ref(policy),
      finalizers.filter((f) => f !== RECORDS_FINALIZER),
      policy.metadata.resourceVersion,
      signal,
    );
    this.#forgetProvider(key);
    this.#ctx!.metrics.recordsManaged.remove({ policy: key });
  }

  // ---- status, events -------------------------------------------------------------------------

  #ref(policy: DNSPolicy): {
    resource: (typeof RESOURCES)['dnspolicies'];
    namespace: string;
    name: string;
  } {
    return {
      resource: RESOURCES.dnspolicies,
      namespace: policy.metadata.namespace ?? '',
      name: policy.metadata.name ?? '',
    };
  }

  async #writeStatus(
    policy: PolicyObject,
    diagnostics: readonly Diagnostic[],
    plan: Plan | undefined,
    outcome: SyncOutcome,
    signal: AbortSignal,
  ): Promise<DNSPolicyStatus | undefined> {
    const now = this.#options.now?.() ?? new Date();
    let written: DNSPolicyStatus | undefined;
    await this.#ctx!.status.update<PolicyObject>(
      this.#ref(policy),
      (live) => {
        const next = computePolicyStatus(
          { policy: live, diagnostics, ...(plan ? { plan } : {}), outcome, now },
          live.status?.conditions,
        );
        written = next;
        // Nothing new to say: skip the write (a resync that changed nothing costs no API call).
        if (
          sameStatusContent(live.status, next) &&
          !(outcome.kind === 'Applied' && outcome.applied > 0)
        )
          return undefined;
        return next;
      },
      signal,
    );
    return written;
  }

  /** Diagnostics: debug log always; an Event on the HTTPRoute (the recorder deduplicates). */
  #report(policy: DNSPolicy, diagnostics: readonly Diagnostic[], log: Logger): void {
    const routes = this.#caches?.httproutes;
    for (const d of diagnostics) {
      log.debug({ object: d.object, reason: d.reason }, d.message);
      const [kind, namespace, name] = d.object.split('/');
      if (kind !== 'HTTPRoute' || namespace === undefined || name === undefined) continue;
      const uid = routes?.get(namespace, name)?.metadata?.uid;
      this.#ctx?.events.emit({
        regarding: {
          apiVersion: 'gateway.networking.k8s.io/v1',
          kind,
          namespace,
          name,
          ...(uid ? { uid } : {}),
        },
        type: 'Warning',
        reason: d.reason,
        action: 'PublishDNS',
        note: `DNSPolicy ${policyKey(policy)}: ${d.message}`,
      });
    }
  }

  #policyEvent(policy: DNSPolicy, type: 'Normal' | 'Warning', reason: string, note: string): void {
    this.#ctx?.events.emit({
      regarding: {
        apiVersion: API_VERSION,
        kind: 'DNSPolicy',
        namespace: policy.metadata.namespace ?? '',
        name: policy.metadata.name ?? '',
        ...(policy.metadata.uid ? { uid: policy.metadata.uid } : {}),
      },
      type,
      reason,
      action: 'Sync',
      note,
    });
  }
}

/** A DNSPolicy event worth a reconcile: not the echo of our own status write. */
function specOrLifecycleChanged(e: ChangeEvent<PolicyObject>): boolean {
  if (e.type !== 'update' || e.old === undefined) return true;
  const facts = (p: PolicyObject): string =>
    JSON.stringify([
      p.metadata.generation,
      p.metadata.deletionTimestamp,
      p.metadata.finalizers,
      p.spec,
    ]);
  return facts(e.old) !== facts(e.obj);
}

/** Reads Secrets from the policy's own namespace only (multi-tenancy: no borrowing others' keys). */
export function secretReader(
  kubeConfig: KubeConfig,
  policyNamespace: string,
): ProviderContext['readSecret'] {
  return async (namespace, name) => {
    if (namespace !== policyNamespace) {
      throw new PermanentError(
        'SecretOutsideNamespace',
        `a DNSPolicy in "${policyNamespace}" cannot read Secrets in "${namespace}"`,
      );
    }
    try {
      const secret = await kubeRequest<{ data?: Record<string, string> }>(kubeConfig, {
        method: 'GET',
        path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${encodeURIComponent(name)}`,
      });
      return Object.fromEntries(
        Object.entries(secret.data ?? {}).map(([k, v]) => [
          k,
          Buffer.from(v, 'base64').toString('utf8'),
        ]),
      );
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw new TransientError(`cannot read Secret ${namespace}/${name}`, { cause: err });
    }
  };
}
