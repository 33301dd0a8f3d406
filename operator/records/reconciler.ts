/**
 * The DNSPolicy controller: glue between the caches, the pure pipeline (sources -> shaping ->
 * plan) and the edges (provider API, status, Events, metrics).
 *
 * - Level-triggered: watch events only enqueue policy keys (fanout.ts decides which); a reconcile
 *   recomputes everything for its policy from the caches.
 * - Fast path, per policy: an event after a quiet period syncs at once (leading edge), and so
 *   does the next provider change (a failover is two label changes, in either order); after
 *   those, the events that arrive coalesce into one follow-up sync (trailing edge) that waits
 *   until `syncSpacingMs` after the last provider change, so a burst of pod events becomes a few
 *   provider calls (and each cloud account's rate limiter still applies). While events keep
 *   coming, deletions wait for them to pause (plan.ts `deletesWait`): the old primary losing its
 *   label first does not delete the record the new primary wants a moment later.
 * - Periodic resync every spec.interval is a safety net only.
 * - Errors: a transient one is retried with backoff; a permanent one (zone not found, access
 *   denied, missing Secret) is Stalled=True and retried at spec.interval, or at once when the
 *   spec or the credentials Secret changes. The provider, and its zone cache, survive failures.
 * - Credentials: the Secrets policies name are watched (secret-watch.ts); a created, fixed or
 *   rotated Secret rebuilds the policy's provider and syncs it within seconds.
 * - Finalizer dnsop.io/records: deleting a Sync policy deletes the records it owns; a failing
 *   cleanup is retried with backoff, said in status and an Event, and annotation
 *   dnsop.io/skip-cleanup: "true" lets the policy go without touching its records.
 */
import type {
  KubeConfig,
  KubernetesObject,
  V1EndpointSlice,
  V1Ingress,
  V1Namespace,
  V1Node,
  V1Pod,
  V1Service,
} from '@kubernetes/client-node';
import { API_VERSION, type DNSPolicy, type DNSPolicyStatus } from '../api/types';
import { backoffDelay, type BackoffOptions } from '../runtime/backoff';
import {
  RESOURCES,
  apiVersionOf,
  splitKey,
  type CacheEvent,
  type InformerCache,
} from '../runtime/cache';
import { generationObserved, type KstatusInput } from '../runtime/conditions';
import type { Controller, ControllerContext } from '../runtime/controller';
import { parseDuration } from '../runtime/duration';
import { describeError, isPermanent, PermanentError, TransientError } from '../runtime/errors';
import { isNotFound, kubeRequest } from '../runtime/kube-http';
import type { Logger } from '../runtime/logger';
import { WorkQueue, type ReconcileResult } from '../runtime/workqueue';
import { deletedCount, deletesInWindow, withDeletes, type DeleteEntry } from './delete-history';
import type { Changes, Diagnostic, Endpoint } from './endpoint';
import { batchGroupKey, countChanges } from './endpoint';
import {
  affectedByDNSEndpoint,
  affectedByEndpointSlice,
  affectedByGateway,
  affectedByIngress,
  affectedByNamespace,
  affectedByNode,
  affectedByPod,
  affectedByRoute,
  affectedByService,
  type ChangeEvent,
  type FanoutLookups,
} from './fanout';
import { DomainFilter } from './hostname';
import {
  DIAGNOSTIC_EVENT_CACHES,
  ROUTE_CACHES,
  fanoutLookupsFrom,
  installRecordsIndexes,
  recordsCaches,
  recordsCachesSynced,
  sourceObjectsFrom,
  unavailableSourceKinds,
  resyncAfterHoldMs,
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
import {
  computePolicyStatus,
  progressStatus,
  recovered,
  sameStatusContent,
  type SyncOutcome,
} from './policy-status';
import {
  CloudAccounts,
  createProvider,
  InMemoryDnsStore,
  type ProviderContext,
} from './providers/index';
import type { Provider } from './providers/provider';
import type { DNSEndpoint } from './sources/dnsendpoint';
import { ROUTE_KINDS, type Gateway, type Route } from './sources/gateway-api';
import type { PolicyScopeOptions } from './sources/index';
import { assertPolicyAllowed, policyRefusals, type TenancyOptions } from './tenancy';
import {
  kubeSecretWatchApi,
  SecretWatcher,
  type SecretVersion,
  type SecretWatchApi,
} from './secret-watch';
import { StatusChain, type StatusStep } from './status-chain';

export const RECORDS_FINALIZER = 'dnsop.io/records';
/** Set to "true" on a DNSPolicy to let it be deleted without deleting its records. */
export const SKIP_CLEANUP_ANNOTATION = 'dnsop.io/skip-cleanup';
const DEFAULT_SYNC_SPACING_MS = 200;
/**
 * Deletions wait for events to pause, but under a steady stream of events (a busy namespace) at
 * most this many spacings: then they go anyway, so a record nobody wants never lingers for long.
 */
const MAX_DELETE_WAIT_SPACINGS = 10;
/** Provider changes that go at once after a quiet period, before the spacing applies. */
const QUICK_CHANGES = 2;
const DEFAULT_INTERVAL_MS = 60_000;
/**
 * How long the status write of a sync that an event started waits (status-chain.ts holds it):
 * the policy's next change call is most likely right then (a failover's second label change
 * comes tens of ms after the first), and the status GET and PATCH would take the API server and
 * this process away from it. The status of the syncs in between joins the same write.
 */
const STATUS_HOLD_MS = 100;

export type ProviderFactory = (
  spec: DNSPolicy['spec']['provider'],
  context: ProviderContext,
) => Promise<Provider>;

export interface DNSPolicyControllerOptions {
  /** The process-wide in-memory DNS store; tests pass one to inspect it. Default: a new store. */
  readonly inMemoryStore?: InMemoryDnsStore;
  /**
   * Per policy, the least time between the last provider change and a sync started by a later
   * event (once the quick changes after a quiet period are spent); also how long events must
   * pause to count as quiet, and before unwanted records are deleted. Default config.debounceMs
   * (flag --debounce, 200 ms).
   */
  readonly syncSpacingMs?: number;
  /** Builds providers; default createProvider. */
  readonly providerFactory?: ProviderFactory;
  /**
   * Cloud accounts shared by every policy (one rate limiter per account). Default: one created at
   * setup with the operator's metrics.
   */
  readonly cloudAccounts?: CloudAccounts;
  readonly now?: () => Date;
  /** Monotonic milliseconds for the sync spacing and the deletions' wait; default performance.now. */
  readonly clock?: () => number;
  /** Reads and watches credentials Secrets; default the API server. */
  readonly secretWatchApi?: SecretWatchApi;
  /** Retry delays of a failing cleanup of a deleted policy; default 1 s doubling to 5 min. */
  readonly cleanupBackoff?: BackoffOptions;
  /** Retry delays of a failed status write; default 5 ms doubling to 5 min. */
  readonly statusBackoff?: BackoffOptions;
  /** How long the status write of an event-started sync waits; default STATUS_HOLD_MS (100 ms). */
  readonly statusHoldMs?: number;
}

interface CachedProvider {
  readonly fingerprint: string;
  readonly provider: Provider;
  /** The credentials Secrets ("namespace/name") it was built from, at the version it read. */
  readonly secrets: ReadonlyMap<string, SecretVersion>;
}

const DEFAULT_CLEANUP_BACKOFF: BackoffOptions = { baseMs: 1000, maxMs: 300_000 };

type PolicyObject = DNSPolicy & KubernetesObject;

type AppliedChanges = Extract<SyncOutcome, { kind: 'Applied' }> & { readonly deleted: number };

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

/**
 * The next periodic resync: within the last 8 % of spec.interval, at random (a full listing is due
 * from 90 %: #listingDue), so policies created together (a GitOps sync applies them in one go) do
 * not all resync in the same instant.
 */
function periodic(intervalMs: number): number {
  return Math.round(intervalMs * (1 - PERIODIC_SPREAD * Math.random()));
}
const PERIODIC_SPREAD = 0.08;

/**
 * What a policy's last sync saw when it found nothing to do and nothing to say (its steady
 * state). A periodic resync that finds the same inputs would compute the same nothing: it reads
 * the provider's records (the drift check) and stops there (issue 14: fifty idle policies
 * re-planned their zone every minute). The inputs: the policy object (its resourceVersion), every
 * source object (no source cache event since: a cluster-wide epoch, so a fan-out that missed a
 * policy still gets the periodic repair), which source kinds are held, the provider instance (a
 * spec or Secret change builds a new one) and the provider's answer (the same array while no
 * zone's view changed, zone-cache.ts).
 */
interface Steady {
  readonly policyVersion: string | undefined;
  readonly sourceEpoch: number;
  readonly held: string;
  readonly provider: Provider;
  readonly current: readonly Endpoint[];
}

/** What a sync works from (DNSPolicyController.#inputs). */
interface SyncInputs {
  readonly evaluation: PolicyEvaluation;
  readonly provider: Provider;
  readonly current: readonly Endpoint[];
  /** Source kinds held (unavailableSourceKinds) and the source epoch the evaluation read. */
  readonly held: readonly string[];
  readonly epoch: number;
}

/** One policy's fast-path pacing (times from the controller's clock unless said otherwise). */
interface Pacing {
  /** The first event not yet reflected by a sync (performance.now(); dnsop_event_to_sync_seconds). */
  firstEventAt?: number | undefined;
  /** The newest event (deletions wait until events pause for the spacing). */
  lastEventAt?: number | undefined;
  /** When a sync first left unwanted records for later (bounds the wait). */
  deletesWaitingSince?: number | undefined;
  /** When a sync last sent changes to the provider. */
  lastChangeAt?: number | undefined;
  /** Provider changes that may still go at once (QUICK_CHANGES after a quiet period). */
  quickLeft: number;
  /** When a sync an event started first put off a due listing (see `#listNow`). */
  listingPutOffAt?: number | undefined;
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
  #accounts: CloudAccounts | undefined;
  /** key -> when the provider's zones were last listed from the API (full resync). */
  readonly #listedAt = new Map<string, number>();
  /** key -> when events came and changes went (the fast path's pacing; see `Pacing`). */
  readonly #pacing = new Map<string, Pacing>();
  /** key -> the status this process last wrote (a no-op status costs no API call). */
  readonly #written = new Map<string, DNSPolicyStatus>();
  /** key -> deletions this process made within the guard's hour (status may lag behind). */
  readonly #deletes = new Map<string, DeleteEntry[]>();
  /** Keys whose last sync had change groups rejected: a second rejection in a row is Stalled. */
  readonly #rejected = new Set<string>();
  /** key -> failed cleanup attempts of a deleted policy (for its backoff). */
  readonly #cleanupAttempts = new Map<string, number>();
  #secrets: SecretWatcher | undefined;
  /** Every status write of a policy, in order, off the sync's critical path (status-chain.ts). */
  #statusChain: StatusChain | undefined;
  /** key -> its last sync's inputs, when that sync found nothing to do (see Steady). */
  readonly #steady = new Map<string, Steady>();
  /** Bumped by every source cache event and API state change (see Steady). */
  #sourceEpoch = 0;

  constructor(options: DNSPolicyControllerOptions = {}) {
    this.#options = options;
    this.store = options.inMemoryStore ?? new InMemoryDnsStore();
  }

  setup(ctx: ControllerContext): void {
    this.#ctx = ctx;
    this.#accounts = this.#options.cloudAccounts ?? new CloudAccounts({ metrics: ctx.metrics });
    this.#log = ctx.logger.child({ controller: this.name });
    const caches = recordsCaches((name) => ctx.caches.get(name));
    installRecordsIndexes(caches);
    this.#caches = caches;
    this.#secrets = new SecretWatcher({
      logger: this.#log,
      api: this.#options.secretWatchApi ?? kubeSecretWatchApi(ctx.kubeConfig),
      onChange: (secret, version) => this.#secretChanged(secret, version),
    });
    this.#statusChain = new StatusChain({
      writer: ctx.status,
      logger: this.#log,
      ...(this.#options.statusBackoff ? { backoff: this.#options.statusBackoff } : {}),
      onError: (key) => ctx.metrics.syncErrors.inc({ policy: key, reason: 'StatusWriteFailed' }),
    });
    this.#watch(caches);
  }

  /**
   * An event for a policy: sync at once after a quiet period (no event for the spacing) or while
   * quick changes are left, else at the end of the spacing after the last provider change.
   * Ignored while stopped: start() enqueues every policy.
   */
  enqueue(key: string): void {
    if (this.#queue === undefined) return;
    const pacing = this.#pacingOf(key);
    pacing.firstEventAt ??= performance.now();
    const now = this.#clock();
    const previous = pacing.lastEventAt;
    if (previous === undefined || now - previous >= this.#spacingMs())
      pacing.quickLeft = QUICK_CHANGES;
    pacing.lastEventAt = now;
    this.#queue.addAfter(key, this.#spacingLeft(key, now));
  }

  start(): Promise<void> {
    const ctx = this.#ctx;
    if (ctx === undefined) throw new Error('DNSPolicyController.setup() was not called');
    if (this.#queue !== undefined) return Promise.resolve();
    // A fresh queue per term: a leader that lost its lease and won it back starts clean.
    const queue = new WorkQueue({
      name: this.name,
      concurrency: ctx.config.concurrency,
      logger: ctx.logger,
      reconcile: (key, signal) => this.#reconcile(key, signal),
      onResult: (_key, outcome, ms) => {
        ctx.metrics.reconcileTotal.inc({ controller: this.name, outcome });
        ctx.metrics.reconcileDuration.observe({ controller: this.name }, ms / 1000);
      },
    });
    this.#queue = queue;
    this.#statusChain?.start();
    queue.start();
    for (const policy of this.#caches?.dnspolicies.list() ?? []) {
      this.#secrets?.track(policyKey(policy), this.#secretRefs(policy));
      queue.add(policyKey(policy));
    }
    this.#secrets?.start();
    this.#started = true;
    return Promise.resolve();
  }

  /** Stops the queue (see Controller.stop), then writes the statuses still waiting, within the grace. */
  async stop(graceMs?: number): Promise<void> {
    this.#started = false;
    const grace = graceMs ?? this.#ctx?.config.shutdownGraceMs;
    const deadline = performance.now() + (grace ?? 30_000);
    const queue = this.#queue;
    this.#queue = undefined;
    for (const pacing of this.#pacing.values()) {
      pacing.firstEventAt = undefined;
      pacing.lastEventAt = undefined;
      pacing.deletesWaitingSince = undefined;
      pacing.listingPutOffAt = undefined;
    }
    this.#secrets?.stop();
    this.#steady.clear();
    await queue?.shutdown(grace);
    await this.#statusChain?.drain(deadline - performance.now());
  }

  ready(): boolean {
    return this.#started;
  }

  // ---- events -----------------------------------------------------------------------------------

  #clock(): number {
    return this.#options.clock?.() ?? performance.now();
  }

  #spacingMs(): number {
    return this.#options.syncSpacingMs ?? this.#ctx?.config.debounceMs ?? DEFAULT_SYNC_SPACING_MS;
  }

  #pacingOf(key: string): Pacing {
    let pacing = this.#pacing.get(key);
    if (pacing === undefined) {
      pacing = { quickLeft: 0 };
      this.#pacing.set(key, pacing);
    }
    return pacing;
  }

  /** How long an event-driven sync of `key` must still wait for the spacing after its last change. */
  #spacingLeft(key: string, now: number): number {
    const { lastChangeAt: last, quickLeft } = this.#pacingOf(key);
    if (last === undefined || quickLeft > 0) return 0;
    return Math.max(0, Math.ceil(last + this.#spacingMs() - now));
  }

  #scope(): TenancyOptions & PolicyScopeOptions {
    const config = this.#ctx?.config;
    return {
      trustedNamespaces: new Set(config?.trustedNamespaces ?? []),
      requireDomainGrants: config?.requireDomainGrants === true,
      ...(config?.secretNamespaces ? { secretNamespaces: new Set(config.secretNamespaces) } : {}),
      ...(config?.controllerName ? { controllerName: config.controllerName } : {}),
    };
  }

  /** The Secrets to watch for a policy: none while tenancy refuses it (nothing of it is read). */
  #secretRefs(policy: DNSPolicy): string[] {
    return policyRefusals(policy, this.#scope()).length === 0 ? secretRefs(policy) : [];
  }

  #watch(caches: RecordsCaches): void {
    const lookups = fanoutLookupsFrom(caches);
    const on = <T extends KubernetesObject>(
      cache: unknown,
      affected: (e: ChangeEvent<T>, l: FanoutLookups, o: PolicyScopeOptions) => string[],
    ): void => {
      (cache as InformerCache<T>).onEvent((e: CacheEvent<T>) => {
        this.#sourceEpoch++;
        for (const key of affected(e, lookups, this.#scope())) this.enqueue(key);
      });
    };
    on<V1Service>(caches.services, affectedByService);
    on<V1Pod>(caches.pods, affectedByPod);
    on<V1EndpointSlice>(caches.endpointslices, affectedByEndpointSlice);
    on<V1Node>(caches.nodes, affectedByNode);
    on<V1Ingress>(caches.ingresses, affectedByIngress);
    for (const kind of ROUTE_KINDS) on<Route>(caches[ROUTE_CACHES[kind]], affectedByRoute(kind));
    on<DNSEndpoint>(caches.dnsendpoints, affectedByDNSEndpoint);
    on<Gateway>(caches.gateways, affectedByGateway);
    on<V1Namespace>(caches.namespaces, affectedByNamespace);
    // DNSPolicy events themselves come from the operator host (Controller.primary).
    // An API that vanished or appeared changes what every policy may do (hold, APINotInstalled),
    // even when no object event comes with it.
    const resyncAll = (): void => {
      for (const policy of caches.dnspolicies.list()) this.enqueue(policyKey(policy));
    };
    for (const cache of Object.values(caches) as unknown[]) {
      const c = cache as Partial<
        Pick<InformerCache<KubernetesObject>, 'onStateChange' | 'servedAgainAt'>
      >;
      c.onStateChange?.((state) => {
        this.#sourceEpoch++;
        resyncAll();
        // An API that came back holds its kind's records a while: sync when that ends.
        const after = resyncAfterHoldMs(state, c.servedAgainAt?.());
        if (after !== undefined) setTimeout(resyncAll, after).unref();
      });
    }
  }

  /**
   * A watched credentials Secret appeared, changed or went away: sync each policy reading it whose
   * provider was built from another version (or not built: its last try may have failed on it).
   */
  #secretChanged(secret: string, version: SecretVersion): void {
    for (const key of this.#secrets?.readers(secret) ?? []) {
      const used = this.#providers.get(key)?.secrets.get(secret);
      if (used !== undefined && used === version) continue;
      this.#log?.info({ key, secret, exists: version !== null }, 'credentials Secret changed');
      this.#queue?.add(key);
    }
  }

  // ---- reconcile --------------------------------------------------------------------------------

  async #reconcile(key: string, signal: AbortSignal): Promise<ReconcileResult | void> {
    const ctx = this.#ctx;
    const caches = this.#caches;
    if (ctx === undefined || caches === undefined) throw new Error('not set up');
    const { namespace, name } = splitKey(key);
    const policy = caches.dnspolicies.get(namespace, name);
    const pacing = this.#pacingOf(key);
    const eventAt = pacing.firstEventAt;
    const log = (this.#log ?? ctx.logger).child({ key });
    if (policy === undefined) {
      this.#forget(key);
      return;
    }
    this.#secrets?.track(key, this.#secretRefs(policy));
    if (policy.metadata.deletionTimestamp !== undefined) {
      pacing.firstEventAt = undefined;
      return this.#finalize(policy, key, signal, log);
    }
    if (eventAt !== undefined) {
      // The trailing edge of a burst: events that came while a sync ran wait out the spacing.
      const wait = this.#spacingLeft(key, this.#clock());
      if (wait > 0) return { requeueAfterMs: wait };
    }
    pacing.firstEventAt = undefined;
    const started = performance.now();
    try {
      await this.#ensureFinalizer(policy, signal);
      if (!generationObserved(policy)) this.#markReconciling(policy);
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
    const { policy, key, log } = run;
    const ctx = this.#ctx!;
    const caches = this.#caches!;
    let inputs: SyncInputs | ReconcileResult;
    try {
      inputs = await this.#inputs(run);
    } catch (err) {
      return this.#failed(run, err, []);
    }
    if (!('evaluation' in inputs)) return inputs;
    const { evaluation, provider, current, held, epoch } = inputs;
    this.#report(policy, evaluation.diagnostics, log);
    const now = this.#now();
    let history = deletesInWindow([policy.status?.recentDeletes, this.#deletes.get(key)], now);
    const settleMs = this.#deleteWaitLeft(key);
    const plan = planForPolicy(policy, evaluation, current, recordsCachesSynced(caches), {
      recentlyDeleted: deletedCount(history),
      deletesWait: settleMs > 0,
    });
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
        const applied = await this.#apply(run, provider, plan.changes);
        outcome = this.#judgeRejections(run, applied);
        history = this.#rememberDeletes(key, history, Math.min(plan.deletes, applied.deleted), now);
      } catch (err) {
        return this.#failed(run, err, diagnostics, plan);
      }
    }
    // A sync whose deletions wait leaves its status to the sync that follows once events pause:
    // the fast path asks for no status write mid-burst.
    const status =
      plan.deletesWaiting > 0 && outcome.kind === 'Applied' && outcome.failures.length === 0
        ? undefined
        : this.#writeStatus(run, diagnostics, plan, outcome, history);
    ctx.metrics.recordsManaged.set({ policy: key }, status?.records ?? plan.inSync);
    if (
      status !== undefined &&
      this.#nothingLeft(plan, outcome, history) &&
      this.#statusChain?.busy(key) !== true &&
      sameStatusContent(policy.status, status)
    )
      this.#steady.set(key, {
        policyVersion: policy.metadata.resourceVersion,
        sourceEpoch: epoch,
        held: held.join(),
        provider,
        current,
      });
    if (outcome.kind === 'Applied' && outcome.retrying === true) {
      throw new TransientError(
        `provider rejected ${outcome.failures.length} change groups: ${outcome.failures[0] ?? ''}`,
      );
    }
    return this.#nextSync(run, plan, outcome, settleMs);
  }

  /**
   * What a sync works from: the evaluated sources, the provider and its records. A policy in its
   * steady state whose inputs are all the same ends here, with its next periodic resync.
   */
  async #inputs(run: SyncRun): Promise<SyncInputs | ReconcileResult> {
    const { policy, key, signal, log } = run;
    const caches = this.#caches!;
    const held = unavailableSourceKinds(caches);
    const steady = this.#steadyInputs(key, policy, held);
    this.#steady.delete(key);
    // Tenancy first: a refused policy reads no Secret and talks to no provider (tenancy.ts).
    assertPolicyAllowed(policy, this.#scope());
    // The epoch of the source objects the evaluation read (events may come while this runs).
    let epoch = this.#sourceEpoch;
    const evaluate = (): PolicyEvaluation => {
      epoch = this.#sourceEpoch;
      return evaluatePolicy(policy, sourceObjectsFrom(caches), this.#scope(), held);
    };
    const early = steady === undefined ? evaluate() : undefined;
    const provider = await this.#provider(policy, key, log);
    // Event-driven syncs work from the provider's cached view of its zones; once per interval
    // the zones are listed again, so changes made outside dnsop are seen.
    const refresh = this.#listNow(key, run);
    const current = await provider.records({ signal, refresh });
    if (refresh) {
      this.#listedAt.set(key, this.#nowMs());
      this.#pacingOf(key).listingPutOffAt = undefined;
    }
    if (steady?.provider === provider && steady.current === current) {
      this.#steady.set(key, steady);
      return { requeueAfterMs: periodic(run.intervalMs) };
    }
    const evaluation = early ?? evaluate();
    return { evaluation, provider, current, held, epoch };
  }

  /** The policy's last steady inputs, if this sync's are the same (see Steady). */
  #steadyInputs(key: string, policy: PolicyObject, held: readonly string[]): Steady | undefined {
    const steady = this.#steady.get(key);
    if (
      steady === undefined ||
      steady.policyVersion === undefined ||
      steady.policyVersion !== policy.metadata.resourceVersion ||
      steady.sourceEpoch !== this.#sourceEpoch ||
      steady.held !== held.join()
    )
      return undefined;
    return steady;
  }

  /**
   * A sync after which nothing is left to do or to say: no change sent or waiting, none refused,
   * nothing failed, no dry run, and no deletion in the guard's hour (its window moves with time).
   */
  #nothingLeft(plan: Plan, outcome: SyncOutcome, history: readonly DeleteEntry[]): boolean {
    return (
      outcome.kind === 'Applied' &&
      outcome.applied === 0 &&
      outcome.failures.length === 0 &&
      plan.guard === undefined &&
      plan.deletesWaiting === 0 &&
      countChanges(plan.changes) === 0 &&
      history.length === 0
    );
  }

  /** When to sync again: at spec.interval, or sooner when unwanted records wait for deletion. */
  #nextSync(run: SyncRun, plan: Plan, outcome: SyncOutcome, settleMs: number): ReconcileResult {
    const { key, eventAt } = run;
    const pacing = this.#pacingOf(key);
    if (plan.deletesWaiting === 0) {
      pacing.deletesWaitingSince = undefined;
      return { requeueAfterMs: periodic(run.intervalMs) };
    }
    pacing.deletesWaitingSince ??= this.#clock();
    // A sync that changed nothing has not reflected its event yet: the sync that deletes will, and
    // dnsop_event_to_sync_seconds counts from the earliest event it reflects.
    if (eventAt !== undefined && outcome.kind === 'Applied' && outcome.applied === 0)
      pacing.firstEventAt = Math.min(eventAt, pacing.firstEventAt ?? Infinity);
    return { requeueAfterMs: Math.min(run.intervalMs, settleMs) };
  }

  /**
   * How long unwanted records of `key` must still be kept: until events have paused for the
   * spacing, and no longer than MAX_DELETE_WAIT_SPACINGS spacings after a sync first kept them.
   * 0: deletions may go.
   */
  #deleteWaitLeft(key: string): number {
    const now = this.#clock();
    const { lastEventAt: last, deletesWaitingSince: since } = this.#pacingOf(key);
    const settled = last === undefined ? 0 : Math.ceil(last + this.#spacingMs() - now);
    if (settled <= 0) return 0;
    const capped =
      since === undefined
        ? settled
        : Math.ceil(since + MAX_DELETE_WAIT_SPACINGS * this.#spacingMs() - now);
    return Math.max(0, Math.min(settled, capped));
  }

  /**
   * Rejected change groups: the first time, retried soon (the provider re-reads the zone, so a
   * rejection caused by a stale view is fixed then); rejected again, the change itself is wrong:
   * Stalled, one Event and one error count, retried at spec.interval.
   */
  #judgeRejections(run: SyncRun, applied: AppliedChanges): SyncOutcome {
    const { key, policy, log } = run;
    if (applied.failures.length === 0) {
      this.#rejected.delete(key);
      return applied;
    }
    const retrying = !this.#rejected.has(key);
    this.#rejected.add(key);
    const summary = applied.failures.slice(0, 3).join('; ');
    if (!retrying) {
      this.#ctx!.metrics.syncErrors.inc({ policy: key, reason: 'ProviderRejected' });
      this.#policyEvent(policy, 'Warning', 'ProviderRejected', summary);
      log.warn({ failed: applied.failures.length }, `provider rejected changes: ${summary}`);
    }
    return { ...applied, retrying };
  }

  /** Adds this sync's deletions to the rolling hour the delete guard counts. */
  #rememberDeletes(key: string, history: DeleteEntry[], deleted: number, now: Date): DeleteEntry[] {
    if (deleted <= 0) return history;
    const next = withDeletes(history, deleted, now);
    this.#deletes.set(key, next);
    return next;
  }

  async #apply(run: SyncRun, provider: Provider, changes: Changes): Promise<AppliedChanges> {
    const { key, signal, log, eventAt } = run;
    const ctx = this.#ctx!;
    if (countChanges(changes) === 0)
      return { kind: 'Applied', applied: 0, failedRecords: 0, failures: [], deleted: 0 };
    const pacing = this.#pacingOf(key);
    pacing.lastChangeAt = this.#clock();
    pacing.quickLeft = Math.max(0, pacing.quickLeft - 1);
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
    const deleted = changes.delete.filter(ok).length;
    ctx.metrics.providerChanges.inc({ policy: key, action: 'delete' }, deleted);
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
    return {
      kind: 'Applied',
      applied: result.applied,
      failedRecords,
      failures: result.failed.map((f) => `${f.group}: ${f.message}`),
      failedGroups: [...failedGroups],
      deleted,
    };
  }

  /**
   * A sync that could not finish. Permanent: Stalled, one Event, retried at spec.interval (or at
   * once on a spec or Secret change). Transient: Reconciling, retried by the queue with backoff.
   * Either way the provider and its zone cache are kept: a throttled account must not pay for a
   * full re-listing on the next try.
   */
  #failed(
    run: SyncRun,
    err: unknown,
    diagnostics: readonly Diagnostic[],
    plan?: Plan,
  ): ReconcileResult {
    const { policy, key, log, intervalMs: interval } = run;
    const ctx = this.#ctx!;
    const permanent = isPermanent(err);
    const reason = permanent ? err.reason : 'Retrying';
    const message = describeError(err);
    ctx.metrics.syncErrors.inc({ policy: key, reason });
    this.#policyEvent(policy, 'Warning', reason, message);
    this.#writeStatus(
      run,
      diagnostics,
      plan,
      { kind: 'Failed', reason, message, retrying: !permanent },
      deletesInWindow([policy.status?.recentDeletes, this.#deletes.get(key)], this.#now()),
    );
    if (permanent) {
      // Logged here only: the queue logs the transient ones it retries.
      log.warn({ reason, retryInMs: interval }, `sync failed: ${message}`);
      return { requeueAfterMs: interval };
    }
    throw err instanceof TransientError ? err : new TransientError(message, { cause: err });
  }

  #forget(key: string): void {
    this.#providers.delete(key);
    this.#listedAt.delete(key);
    this.#queue?.forget(key);
    this.#secrets?.track(key, []);
    this.#deletes.delete(key);
    this.#rejected.delete(key);
    this.#cleanupAttempts.delete(key);
    this.#pacing.delete(key);
    this.#steady.delete(key);
    this.#written.delete(key);
    this.#statusChain?.forget(key);
    this.#ctx?.metrics.recordsManaged.remove({ policy: key });
  }

  #now(): Date {
    return this.#options.now?.() ?? new Date();
  }

  #nowMs(): number {
    return this.#options.now?.().getTime() ?? Date.now();
  }

  /**
   * Whether this sync lists the zones. A listing due (`#listingDue`) is made by a sync no event
   * started at once; a sync an event started puts it off for the spacing, so an event's change
   * never waits for a listing (under steady events the periodic resync never comes: each event
   * restarts its timer). The sync the spacing later, queued here or started by a later event,
   * lists. A policy never listed (or whose provider was rebuilt) lists at once.
   */
  #listNow(key: string, run: SyncRun): boolean {
    if (!this.#listingDue(key, run.intervalMs)) return false;
    if (run.eventAt === undefined || !this.#listedAt.has(key)) return true;
    const pacing = this.#pacingOf(key);
    const now = this.#clock();
    pacing.listingPutOffAt ??= now;
    const left = Math.ceil(pacing.listingPutOffAt + this.#spacingMs() - now);
    if (left <= 0) return true;
    this.#queue?.addAfter(key, left);
    return false;
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
    if (cached?.fingerprint === fingerprint && !this.#credentialsChanged(cached))
      return cached.provider;
    const ctx = this.#ctx!;
    const namespace = policy.metadata.namespace ?? '';
    const factory = this.#options.providerFactory ?? createProvider;
    const secrets = new Map<string, SecretVersion>();
    const provider = await factory(policy.spec.provider, {
      namespace,
      trusted: ctx.config.trustedNamespaces.includes(namespace),
      readSecret: secretReader(ctx.kubeConfig, namespace, (secret, version) =>
        secrets.set(secret, version),
      ),
      domains: policy.spec.domains,
      ...(policy.spec.excludeDomains ? { excludeDomains: policy.spec.excludeDomains } : {}),
      inMemoryStore: this.store,
      accounts: this.#accounts!,
      log,
    });
    this.#providers.set(key, { fingerprint, provider, secrets });
    this.#listedAt.delete(key);
    if (cached !== undefined) log.info('provider rebuilt (spec or credentials changed)');
    return provider;
  }

  /** True when a Secret the provider was built from has since changed or gone (rotation). */
  #credentialsChanged(cached: CachedProvider): boolean {
    for (const [secret, used] of cached.secrets) {
      const seen = this.#secrets?.version(secret);
      if (seen !== undefined && seen !== used) return true;
    }
    return false;
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

  /**
   * Deletes the records a Sync policy owns (never the guard's business: the user asked), then lets
   * go. Never wedges: a failure is retried with backoff and said in status and an Event, and
   * dnsop.io/skip-cleanup: "true" releases the policy without touching its records.
   */
  async #finalize(
    policy: PolicyObject,
    key: string,
    signal: AbortSignal,
    log: Logger,
  ): Promise<ReconcileResult | void> {
    const finalizers = policy.metadata.finalizers ?? [];
    if (!finalizers.includes(RECORDS_FINALIZER)) return;
    const refused = policyRefusals(policy, this.#scope());
    if (refused.length > 0) {
      // Its ownerId may be another owner's: deleting "its" records would delete theirs.
      const why = refused.map((r) => r.message).join('; ');
      log.warn({ refused: refused.map((r) => r.field) }, 'refused policy deleted; records left');
      this.#policyEvent(
        policy,
        'Warning',
        'CleanupSkipped',
        `no records were deleted: the policy was refused (${why})`,
      );
    } else if (policy.metadata.annotations?.[SKIP_CLEANUP_ANNOTATION] === 'true') {
      log.info(`${SKIP_CLEANUP_ANNOTATION} is set: releasing the policy, records left in place`);
      this.#policyEvent(
        policy,
        'Normal',
        'CleanupSkipped',
        `${SKIP_CLEANUP_ANNOTATION}: "true": the records this policy owns were left in place`,
      );
    } else if ((policy.spec.policy ?? 'Sync') === 'Sync' && !policy.spec.dryRun) {
      try {
        await this.#deleteOwnedRecords(policy, key, signal, log);
      } catch (err) {
        return this.#cleanupBlocked(policy, key, err, log);
      }
    }
    await this.#ctx!.status.setFinalizers(
      this.#ref(policy),
      finalizers.filter((f) => f !== RECORDS_FINALIZER),
      policy.metadata.resourceVersion,
      signal,
    );
    this.#forget(key);
  }

  async #deleteOwnedRecords(
    policy: PolicyObject,
    key: string,
    signal: AbortSignal,
    log: Logger,
  ): Promise<void> {
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
    if (countChanges(plan.changes) === 0) return;
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
    log.info({ deleted: plan.changes.delete.length }, 'deleted owned records of a deleted policy');
  }

  /** A deleted policy whose records cannot be deleted: say why and how to release it; retry later. */
  #cleanupBlocked(policy: PolicyObject, key: string, err: unknown, log: Logger): ReconcileResult {
    const attempt = this.#cleanupAttempts.get(key) ?? 0;
    this.#cleanupAttempts.set(key, attempt + 1);
    const delay = backoffDelay(attempt, this.#options.cleanupBackoff ?? DEFAULT_CLEANUP_BACKOFF);
    const cause = describeError(err);
    const message = `deletion is waiting: the records this policy owns could not be deleted (${cause}); retried with backoff. Fix the cause, or set annotation ${SKIP_CLEANUP_ANNOTATION}: "true" to delete the policy and leave its records in place`;
    this.#ctx!.metrics.syncErrors.inc({ policy: key, reason: 'CleanupBlocked' });
    this.#policyEvent(policy, 'Warning', 'CleanupBlocked', message);
    log.warn(
      { err: cause, attempt: attempt + 1, retryInMs: delay },
      'cleanup of a deleted policy failed',
    );
    const state: KstatusInput = {
      state: isPermanent(err) ? 'Stalled' : 'Reconciling',
      reason: 'CleanupBlocked',
      message,
    };
    this.#enqueueStatus(policy, {
      compute: (live) => progressStatus(live.status, state, live.metadata.generation, this.#now()),
    });
    return { requeueAfterMs: delay };
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

  /**
   * Asks for a status write of `policy` on its chain (status-chain.ts): in order with the
   * policy's other writes, never waited for. (A write left over from a policy deleted and created
   * again under the same name is followed by the new one's own first writes, on the same chain.)
   * `holdMs`: the write waits that long, unless a write that is not held comes first.
   */
  #enqueueStatus(policy: PolicyObject, step: StatusStep<PolicyObject>, holdMs = 0): void {
    this.#statusChain?.enqueue<PolicyObject>(policyKey(policy), this.#ref(policy), step, holdMs);
  }

  /** First sight of a generation: say Reconciling at once, before the sync's own result. */
  #markReconciling(policy: PolicyObject): void {
    this.#enqueueStatus(policy, {
      compute: (live) =>
        generationObserved(live)
          ? undefined
          : progressStatus(
              live.status,
              {
                state: 'Reconciling',
                reason: 'Progressing',
                message: `syncing generation ${live.metadata.generation ?? 0}`,
              },
              live.metadata.generation,
              this.#now(),
            ),
    });
  }

  /**
   * The status of a sync: computed from the cached object for the caller (records), written on
   * the policy's status chain, computed again there from the live object. Nothing is asked of
   * the API server when there is nothing new to say, by the cached object and by what this
   * process last wrote (the cache may not show that yet), and no write of the policy is waiting
   * or under way (its result is not known yet). The common case of every periodic resync.
   */
  #writeStatus(
    run: SyncRun,
    diagnostics: readonly Diagnostic[],
    plan: Plan | undefined,
    outcome: SyncOutcome,
    recentDeletes: readonly DeleteEntry[],
  ): DNSPolicyStatus {
    const now = this.#now();
    const statusOf = (policy: PolicyObject): DNSPolicyStatus =>
      computePolicyStatus(
        {
          policy,
          diagnostics,
          ...(plan ? { plan } : {}),
          outcome,
          now,
          generation: run.policy.metadata.generation,
          recentDeletes,
        },
        policy.status?.conditions,
      );
    // Changes applied always say so (lastSyncTime), even when the rest reads the same.
    const applied = outcome.kind === 'Applied' && outcome.applied > 0;
    const cached = statusOf(run.policy);
    const last = this.#written.get(run.key);
    if (
      !applied &&
      this.#statusChain?.busy(run.key) !== true &&
      sameStatusContent(run.policy.status, cached) &&
      (last === undefined || sameStatusContent(last, cached))
    )
      return cached;
    let written: DNSPolicyStatus | undefined;
    let before: DNSPolicyStatus | undefined;
    // A sync an event started may be followed by the next change call at once: hold its status.
    const holdMs = run.eventAt === undefined ? 0 : (this.#options.statusHoldMs ?? STATUS_HOLD_MS);
    this.#enqueueStatus(
      run.policy,
      {
        compute: (live) => {
          const next = statusOf(live);
          written = next;
          before = live.status;
          // The live status already says it: skip the write.
          return sameStatusContent(live.status, next) && !applied ? undefined : next;
        },
        written: () => {
          if (written !== undefined) this.#written.set(run.key, written);
          const was = recovered(before?.conditions, written?.conditions);
          if (was === undefined) return;
          this.#policyEvent(
            run.policy,
            'Normal',
            'Recovered',
            `in sync again after ${was.reason ?? 'a failure'}: ${was.message ?? ''}`,
          );
        },
      },
      holdMs,
    );
    return cached;
  }

  /** Diagnostics: debug log always; an Event on a route or Ingress (the recorder deduplicates). */
  #report(policy: DNSPolicy, diagnostics: readonly Diagnostic[], log: Logger): void {
    for (const d of diagnostics) {
      log.debug({ object: d.object, reason: d.reason }, d.message);
      const [kind, namespace, name] = d.object.split('/');
      const cacheName = kind === undefined ? undefined : DIAGNOSTIC_EVENT_CACHES[kind];
      if (cacheName === undefined || kind === undefined || namespace === undefined) continue;
      if (name === undefined) continue;
      const uid = this.#caches?.[cacheName].get(namespace, name)?.metadata?.uid;
      this.#ctx?.events.emit({
        regarding: {
          apiVersion: apiVersionOf(RESOURCES[cacheName]),
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

/** The credentials Secrets ("namespace/name") a policy's provider reads. */
export function secretRefs(policy: DNSPolicy): string[] {
  const { route53, cloudDNS } = policy.spec.provider ?? {};
  const name = route53?.credentialsSecretRef?.name ?? cloudDNS?.credentialsSecretRef?.name;
  return name ? [`${policy.metadata.namespace ?? ''}/${name}`] : [];
}

/**
 * Reads Secrets from the policy's own namespace only (multi-tenancy: no borrowing others' keys).
 * `onRead` learns the version read ("namespace/name", resourceVersion or null when absent).
 */
export function secretReader(
  kubeConfig: KubeConfig,
  policyNamespace: string,
  onRead?: (secret: string, version: SecretVersion) => void,
): ProviderContext['readSecret'] {
  return async (namespace, name) => {
    if (namespace !== policyNamespace) {
      throw new PermanentError(
        'SecretOutsideNamespace',
        `a DNSPolicy in "${policyNamespace}" cannot read Secrets in "${namespace}"`,
      );
    }
    try {
      const secret = await kubeRequest<{
        data?: Record<string, string>;
        metadata?: { resourceVersion?: string };
      }>(kubeConfig, {
        method: 'GET',
        path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${encodeURIComponent(name)}`,
      });
      onRead?.(`${namespace}/${name}`, secret.metadata?.resourceVersion ?? '');
      return Object.fromEntries(
        Object.entries(secret.data ?? {}).map(([k, v]) => [
          k,
          Buffer.from(v, 'base64').toString('utf8'),
        ]),
      );
    } catch (err) {
      if (isNotFound(err)) {
        onRead?.(`${namespace}/${name}`, null);
        return undefined;
      }
      throw new TransientError(`cannot read Secret ${namespace}/${name}`, { cause: err });
    }
  };
}
