import { batchGroupKey, type Changes, type Endpoint } from './endpoint';
import { PermanentError, TransientError } from '../runtime/errors';
import { createProvider } from './providers';
import type { Provider, RecordsOptions } from './providers/provider';
import { ownershipRecord } from './registry';
import type { ProviderFactory } from './reconciler';
import {
  eventually,
  startControllerHarness,
  type ControllerHarness,
  type ControllerHarnessOptions,
} from '../../test/support/records-controller-harness';
import {
  gateway,
  headless,
  httpRoute,
  ingress,
  listener,
  namespace,
  parentStatus,
  pod,
  policy,
  route,
  service,
} from '../../test/support/records-fixtures';

/** The real provider, with `before` run ahead of each records() read (to count or hold them). */
const readingProvider =
  (before: (options: RecordsOptions | undefined) => Promise<void> | void): ProviderFactory =>
  async (spec, context): Promise<Provider> => {
    const inner = await createProvider(spec, context);
    return {
      kind: inner.kind,
      adjustEndpoints: (e) => inner.adjustEndpoints(e),
      applyChanges: (c, signal) => inner.applyChanges(c, signal),
      records: async (options) => {
        await before(options);
        return inner.records(options);
      },
    };
  };

const names = (records: Endpoint[]): string[] =>
  records.filter((r) => r.type !== 'TXT').map((r) => `${r.name} ${r.type} ${r.targets.join(',')}`);

describe('DNSPolicyController', () => {
  let h: ControllerHarness;
  afterEach(async () => h.stop());

  it('publishes, follows a pod label flip (seeds/000) and reports status', async () => {
    h = await startControllerHarness();
    h.apply(namespace('shop'));
    h.apply(headless('pg', { app: 'pg', role: 'primary' }, 'pg.example.com'));
    h.apply(pod('pg-a', { labels: { app: 'pg', role: 'primary' }, ip: '10.1.0.1' }));
    h.apply(pod('pg-b', { labels: { app: 'pg', role: 'replica' }, ip: '10.1.0.2' }));
    h.apply(policy('public', { provider: { inMemory: { zone: 'z' } } }));
    await eventually(() =>
      expect(names(h.controller.store.records('z'))).toEqual(['pg.example.com A 10.1.0.1']),
    );
    await eventually(() => {
      const status = h.status('shop', 'public');
      expect(status?.records).toBe(1);
      expect(status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
      expect(h.policy('shop', 'public')?.metadata.finalizers).toEqual(['dnsop.io/records']);
    });

    h.apply(pod('pg-a', { labels: { app: 'pg', role: 'replica' }, ip: '10.1.0.1' }));
    h.apply(pod('pg-b', { labels: { app: 'pg', role: 'primary' }, ip: '10.1.0.2' }));
    await eventually(() =>
      expect(names(h.controller.store.records('z'))).toEqual(['pg.example.com A 10.1.0.2']),
    );
  });

  it('works from the cached zone view between resyncs and lists the zone once per interval', async () => {
    let now = Date.parse('2026-11-22T10:00:00Z');
    const refreshes: boolean[] = [];
    h = await startControllerHarness({
      now: () => new Date(now),
      providerFactory: readingProvider((options) => {
        refreshes.push(options?.refresh ?? false);
      }),
    });
    h.apply(headless('web', { app: 'web' }, 'web.example.com'));
    h.apply(pod('web-1', { labels: { app: 'web' }, ip: '10.2.0.1' }));
    h.apply(policy('public', { provider: { inMemory: { zone: 'listing' } }, interval: '60s' }));
    await eventually(() => expect(h.status('shop', 'public')?.records).toBe(1));
    expect(refreshes[0]).toBe(true);

    const afterFirst = refreshes.length;
    h.apply(pod('web-2', { labels: { app: 'web' }, ip: '10.2.0.2' }));
    await eventually(() =>
      expect(
        h.controller.store.records('listing').find((r) => r.type === 'A')?.targets,
      ).toHaveLength(2),
    );
    expect(refreshes.slice(afterFirst)).not.toContain(true);

    now += 60_000;
    h.apply(pod('web-3', { labels: { app: 'web' }, ip: '10.2.0.3' }));
    await eventually(() => expect(refreshes[refreshes.length - 1]).toBe(true));
  });

  describe('idle resyncs (issue 14: fifty idle policies re-planned their zone every minute)', () => {
    /** A harness whose provider counts records() reads; a Service and a pod, published. */
    const steadyPolicy = async (zone: string): Promise<{ reads: () => number }> => {
      let reads = 0;
      h = await startControllerHarness({
        providerFactory: readingProvider(() => {
          reads++;
        }),
      });
      h.apply(headless('web', { app: 'web' }, 'web.example.com'));
      h.apply(pod('web-1', { labels: { app: 'web' }, ip: '10.2.0.1' }));
      h.apply(policy('public', { provider: { inMemory: { zone } }, interval: '1s' }));
      await eventually(() => expect(h.status('shop', 'public')?.records).toBe(1));
      return { reads: () => reads };
    };

    it('a resync that finds nothing changed reads the zone (drift) but evaluates no source again', async () => {
      const { reads } = await steadyPolicy('steady');
      const services = h.caches.get('services');
      const evaluations = jest.spyOn(services, 'byIndex');
      const before = reads();
      // Three periodic resyncs (interval 1 s).
      await eventually(() => expect(reads()).toBeGreaterThanOrEqual(before + 3), 10_000);
      // At most one: the sync that follows the status write (a new resourceVersion) may still come.
      expect(evaluations.mock.calls.length).toBeLessThanOrEqual(1);

      // A source event: evaluated and published at once.
      h.apply(pod('web-2', { labels: { app: 'web' }, ip: '10.2.0.2' }));
      await eventually(() =>
        expect(
          h.controller.store.records('steady').find((r) => r.type === 'A')?.targets,
        ).toHaveLength(2),
      );
      expect(evaluations.mock.calls.length).toBeGreaterThan(1);
    }, 20_000);

    it('an event that comes while a sync waits for the provider is synced after it', async () => {
      let gate: Promise<void> | undefined;
      let held = 0;
      let open = (): void => undefined;
      h = await startControllerHarness({
        providerFactory: readingProvider(async () => {
          if (gate === undefined) return;
          held++;
          await gate;
        }),
      });
      h.apply(headless('web', { app: 'web' }, 'web.example.com'));
      h.apply(pod('web-1', { labels: { app: 'web' }, ip: '10.2.0.1' }));
      const p = policy('public', { provider: { inMemory: { zone: 'during' } } });
      h.apply(p);
      await eventually(() => expect(h.status('shop', 'public')?.records).toBe(1));
      await new Promise((r) => setTimeout(r, 100));
      gate = new Promise((r) => (open = r));
      // A policy change that changes no record: a sync evaluates the sources, then waits.
      h.apply({
        ...h.policy('shop', 'public')!,
        metadata: { ...h.policy('shop', 'public')!.metadata, annotations: { note: 'x' } },
      });
      await eventually(() => expect(held).toBe(1));
      h.apply(pod('web-2', { labels: { app: 'web' }, ip: '10.2.0.2' }));
      gate = undefined;
      open();
      await eventually(() =>
        expect(
          h.controller.store.records('during').find((r) => r.type === 'A')?.targets,
        ).toHaveLength(2),
      );
    });

    it('a record changed or removed outside dnsop is repaired by the next resync', async () => {
      await steadyPolicy('drift');
      const a = (): Endpoint | undefined =>
        h.controller.store.records('drift').find((r) => r.type === 'A');
      // Let the policy settle into its steady state (resyncs that change nothing).
      await new Promise((r) => setTimeout(r, 2_500));
      h.controller.store.put('drift', { ...a()!, targets: ['192.0.2.66'] });
      await eventually(() => expect(a()?.targets).toEqual(['10.2.0.1']), 10_000);
    }, 20_000);
  });

  it('turns pod events that arrive together into one provider change', async () => {
    h = await startControllerHarness({ syncSpacingMs: 100 });
    h.apply(headless('web', { app: 'web' }, 'web.example.com'));
    h.apply(policy('public', { provider: { inMemory: { zone: 'burst' } } }));
    await eventually(() => expect(h.status('shop', 'public')).toBeDefined());
    let changes = 0;
    h.controller.store.onChange(() => changes++);
    for (let i = 1; i <= 20; i++)
      h.apply(pod(`web-${i}`, { labels: { app: 'web' }, ip: `10.2.0.${i}` }));
    await eventually(() =>
      expect(h.controller.store.records('burst').find((r) => r.type === 'A')?.targets).toHaveLength(
        20,
      ),
    );
    await new Promise((r) => setTimeout(r, 150));
    expect(changes).toBe(1);
  });

  it('does not reconcile for a pod change no headless Service or Pod source cares about', async () => {
    h = await startControllerHarness();
    h.apply(headless('web', { app: 'web' }, 'web.example.com'));
    h.apply(pod('web-1', { labels: { app: 'web' }, ip: '10.2.0.1' }));
    h.apply(policy('public', { provider: { inMemory: { zone: 'quiet' } } }));
    await eventually(() => expect(h.status('shop', 'public')?.records).toBe(1));
    const before = await h.metrics.reconcileTotal.get();
    h.apply(pod('batch-1', { labels: { app: 'batch' }, ip: '10.3.0.1' }));
    h.apply(
      pod('web-1', { labels: { app: 'web' }, ip: '10.2.0.1', annotations: { unrelated: 'x' } }),
    );
    await new Promise((r) => setTimeout(r, 100));
    const after = await h.metrics.reconcileTotal.get();
    const total = (m: typeof before): number => m.values.reduce((s, v) => s + v.value, 0);
    expect(total(after)).toBe(total(before));
  });

  it('holds a route record while status lags, then moves it once (seeds/001)', async () => {
    h = await startControllerHarness();
    h.apply(namespace('shop'));
    h.apply(gateway('external', { addresses: [{ value: '203.0.113.10' }] }));
    h.apply(gateway('internal', { addresses: [{ value: '10.0.0.50' }] }));
    h.apply(
      policy('routes', {
        sources: [{ kind: 'HTTPRoute' }],
        provider: { inMemory: { zone: 'gw' } },
      }),
    );
    const ext = { name: 'external', namespace: 'infra' };
    const int = { name: 'internal', namespace: 'infra' };
    h.apply(httpRoute('checkout', { parentRefs: [ext] }));
    await eventually(() =>
      expect(names(h.controller.store.records('gw'))).toEqual([
        'checkout.example.com A 203.0.113.10',
      ]),
    );
    const seen = new Set<string>();
    h.controller.store.onChange(() => seen.add(names(h.controller.store.records('gw')).join('|')));
    h.apply(
      httpRoute('checkout', { generation: 2, parentRefs: [int], status: [parentStatus(ext, 1)] }),
    );
    await eventually(() =>
      expect(h.status('shop', 'routes')?.diagnostics?.map((d) => d.reason)).toEqual([
        'StatusLagging',
      ]),
    );
    expect(names(h.controller.store.records('gw'))).toEqual([
      'checkout.example.com A 203.0.113.10',
    ]);
    h.apply(
      httpRoute('checkout', {
        generation: 2,
        parentRefs: [int],
        status: [parentStatus(ext, 1), parentStatus(int, 2)],
      }),
    );
    await eventually(() =>
      expect(names(h.controller.store.records('gw'))).toEqual(['checkout.example.com A 10.0.0.50']),
    );
    expect([...seen]).toEqual(['checkout.example.com A 10.0.0.50']);
  });

  it('posts an Ingress or route diagnostic as an Event on that object too', async () => {
    h = await startControllerHarness();
    h.apply(
      policy('web', {
        sources: [{ kind: 'Ingress' }, { kind: 'TCPRoute' }],
        provider: { inMemory: { zone: 'ev-kinds' } },
      }),
    );
    h.apply(ingress('pending', { lb: [] }));
    h.apply(route('TCPRoute', 'db'));
    await eventually(() => {
      expect(h.events.events).toContainEqual(
        expect.objectContaining({
          regarding: expect.objectContaining({
            apiVersion: 'networking.k8s.io/v1',
            kind: 'Ingress',
            name: 'pending',
          }),
          reason: 'NoLoadBalancerAddress',
        }),
      );
      expect(h.events.events).toContainEqual(
        expect.objectContaining({
          regarding: expect.objectContaining({
            apiVersion: 'gateway.networking.k8s.io/v1alpha2',
            kind: 'TCPRoute',
            name: 'db',
          }),
          reason: 'GatewayNotFound',
        }),
      );
    });
  });

  it('holds route records when the HTTPRoute API vanishes, says APINotInstalled, and syncs Services still', async () => {
    h = await startControllerHarness();
    h.apply(namespace('shop'));
    h.apply(gateway('external', { addresses: [{ value: '203.0.113.10' }] }));
    h.apply(service('app', { hostname: 'app.example.com', clusterIP: '10.0.0.9' }));
    h.apply(
      policy('mixed', {
        sources: [{ kind: 'HTTPRoute' }, { kind: 'Service' }],
        provider: { inMemory: { zone: 'vanish' } },
        publishInternalServices: true,
      }),
    );
    const route = httpRoute('checkout', { parentRefs: [{ name: 'external', namespace: 'infra' }] });
    h.apply(route);
    await eventually(() =>
      expect(names(h.controller.store.records('vanish'))).toEqual([
        'app.example.com A 10.0.0.9',
        'checkout.example.com A 203.0.113.10',
      ]),
    );
    // The CRD goes away: the cache empties and reports the API as not served.
    const routes = h.caches.get('httproutes');
    routes.available = () => false;
    h.remove(route);
    h.apply(service('app', { hostname: 'app.example.com', clusterIP: '10.0.0.10' }));
    await eventually(() => {
      expect(names(h.controller.store.records('vanish'))).toEqual([
        'app.example.com A 10.0.0.10',
        'checkout.example.com A 203.0.113.10',
      ]);
      const sources = h
        .status('shop', 'mixed')
        ?.conditions?.find((c) => c.type === 'SourcesResolved');
      expect(sources).toMatchObject({ status: 'False', reason: 'APINotInstalled' });
    });
    // The CRD reinstalled: the API is back but its objects are not yet; still held for a while.
    routes.available = () => true;
    routes.servedAgainAt = () => Date.now();
    h.apply(service('app', { hostname: 'app.example.com', clusterIP: '10.0.0.11' }));
    await eventually(() =>
      expect(names(h.controller.store.records('vanish'))).toEqual([
        'app.example.com A 10.0.0.11',
        'checkout.example.com A 203.0.113.10',
      ]),
    );
  });

  it('changes no record while a cache it reads has not loaded (CachesNotSynced), then syncs', async () => {
    h = await startControllerHarness();
    const owned: Endpoint = {
      name: 'old.example.com',
      type: 'A',
      targets: ['192.0.2.9'],
      ttl: 300,
      source: 'Service/shop/old',
    };
    h.controller.store.put('gate', owned);
    h.controller.store.put('gate', ownershipRecord(owned, 'shop/public'));
    const services = h.caches.get('services');
    services.synced = () => false; // its first list is still on its way
    h.apply(
      policy('public', {
        provider: { inMemory: { zone: 'gate' } },
        maxDeletePercent: 100,
        publishInternalServices: true,
      }),
    );
    await eventually(() =>
      expect(h.status('shop', 'public')?.conditions?.find((c) => c.type === 'Synced')?.reason).toBe(
        'CachesNotSynced',
      ),
    );
    expect(names(h.controller.store.records('gate'))).toEqual(['old.example.com A 192.0.2.9']);
    services.synced = () => true;
    h.apply(service('app', { hostname: 'app.example.com', clusterIP: '10.0.0.9' }));
    await eventually(() =>
      expect(names(h.controller.store.records('gate'))).toEqual(['app.example.com A 10.0.0.9']),
    );
  });

  it('can be stopped and started again (a leader that lost its lease and won it back)', async () => {
    h = await startControllerHarness();
    h.apply(service('app', { hostname: 'app.example.com', clusterIP: '10.0.0.9' }));
    h.apply(
      policy('public', {
        provider: { inMemory: { zone: 'terms' } },
        publishInternalServices: true,
      }),
    );
    await eventually(() => expect(h.status('shop', 'public')?.records).toBe(1));
    await h.controller.stop(1_000);
    expect(h.controller.ready()).toBe(false);
    // Changes while standing by are not lost: start() reconciles every policy again.
    h.apply(service('app', { hostname: 'app.example.com', clusterIP: '10.0.0.10' }));
    await new Promise((r) => setTimeout(r, 100));
    expect(names(h.controller.store.records('terms'))).toEqual(['app.example.com A 10.0.0.9']);
    await h.controller.start();
    await eventually(() =>
      expect(names(h.controller.store.records('terms'))).toEqual(['app.example.com A 10.0.0.10']),
    );
  });

  it('reports NotAllowedByListeners in status and as an Event on the HTTPRoute (seeds/002)', async () => {
    h = await startControllerHarness();
    h.apply(namespace('shop'));
    h.apply(gateway('same-only', { listeners: [listener('http')] }));
    h.apply(
      policy('routes', {
        sources: [{ kind: 'HTTPRoute' }],
        provider: { inMemory: { zone: 'ev' } },
      }),
    );
    h.apply(httpRoute('cross', { parentRefs: [{ name: 'same-only', namespace: 'infra' }] }));
    await eventually(() => {
      expect(h.status('shop', 'routes')?.diagnostics).toEqual([
        expect.objectContaining({
          object: 'HTTPRoute/shop/cross',
          reason: 'NotAllowedByListeners',
        }),
      ]);
      expect(
        h.status('shop', 'routes')?.conditions?.find((c) => c.type === 'SourcesResolved')?.status,
      ).toBe('False');
    });
    expect(h.events.events).toContainEqual(
      expect.objectContaining({
        regarding: expect.objectContaining({ kind: 'HTTPRoute', namespace: 'shop', name: 'cross' }),
        reason: 'NotAllowedByListeners',
        type: 'Warning',
      }),
    );
  });

  it('deleting a Sync policy removes exactly its records (finalizer)', async () => {
    h = await startControllerHarness();
    const foreign: Endpoint = {
      name: 'other.example.com',
      type: 'A',
      targets: ['192.0.2.1'],
      ttl: 300,
      source: 'Service/x/y',
    };
    h.controller.store.put('fin', foreign);
    h.controller.store.put('fin', ownershipRecord(foreign, 'team-b'));
    h.apply(service('app', { hostname: 'app.example.com', clusterIP: '10.0.0.9' }));
    h.apply(
      policy('public', { provider: { inMemory: { zone: 'fin' } }, publishInternalServices: true }),
    );
    await eventually(() =>
      expect(names(h.controller.store.records('fin'))).toContain('app.example.com A 10.0.0.9'),
    );
    await eventually(() =>
      expect(h.policy('shop', 'public')?.metadata.finalizers).toEqual(['dnsop.io/records']),
    );
    h.deletePolicy('shop', 'public');
    await eventually(() => expect(h.policy('shop', 'public')).toBeUndefined());
    expect(h.controller.store.records('fin').map((r) => r.name)).toEqual([
      '_dnsop-a.other.example.com',
      'other.example.com',
    ]);
  });

  it('refuses a mass delete with Synced=False reason DeleteGuard', async () => {
    h = await startControllerHarness();
    for (const n of ['a', 'b', 'c'])
      h.apply(service(n, { hostname: `${n}.example.com`, clusterIP: '10.0.0.9' }));
    h.apply(
      policy('public', {
        provider: { inMemory: { zone: 'guard' } },
        maxDeletePercent: 50,
        publishInternalServices: true,
      }),
    );
    await eventually(() => expect(h.status('shop', 'public')?.records).toBe(3));
    for (const n of ['a', 'b', 'c']) h.remove(service(n));
    await eventually(() => {
      const synced = h.status('shop', 'public')?.conditions?.find((c) => c.type === 'Synced');
      expect(synced).toEqual(expect.objectContaining({ status: 'False', reason: 'DeleteGuard' }));
      expect(h.status('shop', 'public')?.pendingChanges).toBe(6);
    });
    expect(names(h.controller.store.records('guard'))).toHaveLength(3);
  });

  it('dryRun computes but changes nothing', async () => {
    h = await startControllerHarness();
    h.apply(service('app', { hostname: 'app.example.com', clusterIP: '10.0.0.9' }));
    h.apply(
      policy('public', {
        provider: { inMemory: { zone: 'dry' } },
        dryRun: true,
        publishInternalServices: true,
      }),
    );
    await eventually(() =>
      expect(h.status('shop', 'public')?.conditions?.find((c) => c.type === 'Synced')?.reason).toBe(
        'DryRun',
      ),
    );
    expect(h.status('shop', 'public')?.pendingChanges).toBe(2);
    expect(h.controller.store.records('dry')).toEqual([]);
  });

  it('reads only its own namespace unless trusted', async () => {
    h = await startControllerHarness({ trustedNamespaces: 'platform' });
    h.apply(namespace('shop', { dns: 'on' }));
    h.apply(namespace('tenant', { dns: 'on' }));
    h.apply(
      service('app', { namespace: 'shop', hostname: 'shop.example.com', clusterIP: '10.0.0.1' }),
    );
    h.apply(
      service('app', {
        namespace: 'tenant',
        hostname: 'tenant.example.com',
        clusterIP: '10.0.0.2',
      }),
    );
    h.apply(
      policy(
        'greedy',
        {
          provider: { inMemory: { zone: 'mt1' } },
          namespaceSelector: { matchLabels: { dns: 'on' } },
          publishInternalServices: true,
        },
        'tenant',
      ),
    );
    h.apply(
      policy(
        'platform',
        {
          provider: { inMemory: { zone: 'mt2' } },
          namespaceSelector: { matchLabels: { dns: 'on' } },
          publishInternalServices: true,
        },
        'platform',
      ),
    );
    await eventually(() => {
      expect(names(h.controller.store.records('mt1'))).toEqual(['tenant.example.com A 10.0.0.2']);
      expect(names(h.controller.store.records('mt2'))).toEqual([
        'shop.example.com A 10.0.0.1',
        'tenant.example.com A 10.0.0.2',
      ]);
      expect(h.status('tenant', 'greedy')?.diagnostics?.map((d) => d.reason)).toEqual([
        'NamespaceSelectorIgnored',
      ]);
    });
  });

  describe('fast path: leading edge, one trailing sync, spacing, deletions wait', () => {
    const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
    /** A monotonic clock that runs with real time and can jump ahead (a quiet period, at once). */
    const jumpingClock = (): { clock: () => number; jump: (ms: number) => void } => {
      let offset = 0;
      return { clock: () => performance.now() + offset, jump: (ms) => (offset += ms) };
    };
    /**
     * The in-memory provider, its change calls counted; while holding, each sync waits at a gate
     * as it reads the zone (before it changes anything) until release().
     */
    const gatedProvider = (
      clock: () => number = () => performance.now(),
    ): {
      factory: ProviderFactory;
      calls: Changes[];
      /** clock() at each change call. */
      callAt: number[];
      /** Whether each read of the zone listed it again (`refresh`). */
      refreshes: boolean[];
      /** Holds the syncs that come from now on (true) or none (false). */
      hold: (on: boolean) => void;
      /** A sync is waiting at the gate. */
      held: () => boolean;
      release: () => void;
      /** Every later change call takes this long before the provider applies it. */
      slow: (ms: number) => void;
    } => {
      const calls: Changes[] = [];
      const callAt: number[] = [];
      const refreshes: boolean[] = [];
      let holding = false;
      const waiting: (() => void)[] = [];
      let applyDelayMs = 0;
      return {
        calls,
        callAt,
        refreshes,
        hold: (on) => (holding = on),
        held: () => waiting.length > 0,
        release: () => waiting.splice(0).forEach((open) => open()),
        slow: (ms) => (applyDelayMs = ms),
        factory: async (spec, context): Promise<Provider> => {
          const inner = await createProvider(spec, context);
          return {
            kind: inner.kind,
            adjustEndpoints: (e) => inner.adjustEndpoints(e),
            records: async (o) => {
              refreshes.push(o?.refresh === true);
              if (holding) await new Promise<void>((r) => waiting.push(r));
              return inner.records(o);
            },
            applyChanges: async (c, signal) => {
              calls.push(c);
              callAt.push(clock());
              if (applyDelayMs > 0) await sleep(applyDelayMs);
              return inner.applyChanges(c, signal);
            },
          };
        },
      };
    };
    const aTargets = (zone: string): readonly string[] =>
      h.controller.store.records(zone).find((r) => r.type === 'A')?.targets ?? [];
    /**
     * db.example.com selects role=primary: db-a (10.9.0.1) is primary, db-b (10.9.0.2) a replica.
     * Published into `zone`, then a quiet period (the clock jumps over the spacing).
     */
    const publishedPrimary = async (
      zone: string,
      options: ControllerHarnessOptions & { syncSpacingMs: number },
    ): Promise<ReturnType<typeof jumpingClock>> => {
      const time = jumpingClock();
      h = await startControllerHarness({ ...options, clock: time.clock });
      h.apply(headless('db', { app: 'db', role: 'primary' }, 'db.example.com'));
      h.apply(pod('db-a', { labels: { app: 'db', role: 'primary' }, ip: '10.9.0.1' }));
      h.apply(pod('db-b', { labels: { app: 'db', role: 'replica' }, ip: '10.9.0.2' }));
      h.apply(policy('public', { provider: { inMemory: { zone } } }));
      await eventually(() => expect(aTargets(zone)).toEqual(['10.9.0.1']));
      time.jump(options.syncSpacingMs + 1);
      return time;
    };

    it('syncs at once after a quiet period, twice (a failover in either order), then waits the spacing', async () => {
      // A minute of spacing: a sync that waited for it would miss every `eventually` below.
      await publishedPrimary('lead', { syncSpacingMs: 60_000 });
      // The new primary first: published beside the old one at once, then alone at once.
      h.apply(pod('db-b', { labels: { app: 'db', role: 'primary' }, ip: '10.9.0.2' }));
      await eventually(() => expect(aTargets('lead')).toEqual(['10.9.0.1', '10.9.0.2']));
      h.apply(pod('db-a', { labels: { app: 'db', role: 'replica' }, ip: '10.9.0.1' }));
      await eventually(() => expect(aTargets('lead')).toEqual(['10.9.0.2']));
      // Two quick changes spent: the next event waits for the spacing (here, the minute).
      h.apply(pod('db-c', { labels: { app: 'db', role: 'primary' }, ip: '10.9.0.3' }));
      await sleep(300);
      expect(aTargets('lead')).toEqual(['10.9.0.2']);
    });

    it('coalesces the events during and after the quick syncs into one follow-up, spaced from the last change', async () => {
      const time = jumpingClock();
      const provider = gatedProvider(time.clock);
      h = await startControllerHarness({
        syncSpacingMs: 1_000,
        clock: time.clock,
        providerFactory: provider.factory,
      });
      h.apply(headless('web', { app: 'web' }, 'web.example.com'));
      h.apply(pod('web-0', { labels: { app: 'web' }, ip: '10.2.0.100' }));
      h.apply(policy('public', { provider: { inMemory: { zone: 'trail' } } }));
      await eventually(() => expect(aTargets('trail')).toHaveLength(1));
      time.jump(1_001);
      const before = provider.calls.length;
      const podsFrom = (first: number, last: number): void => {
        for (let i = first; i <= last; i++)
          h.apply(pod(`web-${i}`, { labels: { app: 'web' }, ip: `10.2.0.${i}` }));
      };
      provider.hold(true);
      podsFrom(1, 1);
      // The sync of web-1 is under way (held at the gate) while web-2..5 arrive ...
      await eventually(() => expect(provider.held()).toBe(true));
      podsFrom(2, 5);
      provider.release();
      // ... and they go at once in the second quick sync, under way while web-6..10 arrive ...
      await eventually(() => expect(aTargets('trail')).toHaveLength(2));
      await eventually(() => expect(provider.held()).toBe(true));
      podsFrom(6, 10);
      provider.hold(false);
      provider.release();
      await eventually(() => expect(aTargets('trail')).toHaveLength(6));
      // ... and with the ones after it, within the spacing, they make one follow-up.
      podsFrom(11, 20);
      await eventually(() => expect(aTargets('trail')).toHaveLength(21), 5_000);
      await sleep(300);
      expect(provider.calls.length - before).toBe(3);
      expect(provider.callAt[before + 2]! - provider.callAt[before + 1]!).toBeGreaterThanOrEqual(
        1_000,
      );
    }, 30_000);

    it("a failover's syncs never wait for a due zone listing: it is put off for the spacing", async () => {
      let wall = Date.parse('2026-11-30T10:00:00Z');
      const provider = gatedProvider();
      const time = await publishedPrimary('listing', {
        syncSpacingMs: 60_000,
        providerFactory: provider.factory,
        now: () => new Date(wall),
      });
      expect(provider.refreshes).toContain(true);
      // A minute on: the zone's periodic listing (spec.interval 60s) is due.
      wall += 60_000;
      const from = provider.refreshes.length;
      h.apply(pod('db-b', { labels: { app: 'db', role: 'primary' }, ip: '10.9.0.2' }));
      await eventually(() => expect(aTargets('listing')).toEqual(['10.9.0.1', '10.9.0.2']));
      h.apply(pod('db-a', { labels: { app: 'db', role: 'replica' }, ip: '10.9.0.1' }));
      await eventually(() => expect(aTargets('listing')).toEqual(['10.9.0.2']));
      expect(provider.refreshes.slice(from)).toEqual([false, false]);
      // The spacing later, the next sync lists, whatever started it.
      time.jump(60_001);
      h.apply(pod('db-c', { labels: { app: 'db', role: 'primary' }, ip: '10.9.0.3' }));
      await eventually(() => expect(aTargets('listing')).toEqual(['10.9.0.2', '10.9.0.3']));
      expect(provider.refreshes.slice(from + 2)).toEqual([true]);
    }, 30_000);

    it('a failover (old primary first) never deletes the record the new primary wants', async () => {
      await publishedPrimary('flip', { syncSpacingMs: 2_000 });
      const deleted: string[] = [];
      h.controller.store.onChange((c) => c.changes.delete.forEach((d) => deleted.push(d.name)));
      const syncs = async (): Promise<number> =>
        (await h.metrics.reconcileTotal.get()).values.reduce((n, v) => n + v.value, 0);
      const before = await syncs();
      h.apply(pod('db-a', { labels: { app: 'db', role: 'replica' }, ip: '10.9.0.1' }));
      // The old primary's event has been synced on its own before the new primary's comes.
      for (let i = 0; i < 300 && (await syncs()) === before; i++) await sleep(10);
      expect(await syncs()).toBeGreaterThan(before);
      expect(aTargets('flip')).toEqual(['10.9.0.1']);
      h.apply(pod('db-b', { labels: { app: 'db', role: 'primary' }, ip: '10.9.0.2' }));
      await eventually(() => expect(aTargets('flip')).toEqual(['10.9.0.2']));
      // A record nobody wants any more goes once the events pause (the spacing).
      h.apply(pod('db-b', { labels: { app: 'db', role: 'replica' }, ip: '10.9.0.2' }));
      await eventually(() => expect(names(h.controller.store.records('flip'))).toEqual([]), 10_000);
      expect(deleted.filter((n) => n === 'db.example.com')).toHaveLength(1);
      await eventually(() => expect(h.status('shop', 'public')?.recentDeletes?.[0]?.count).toBe(1));
    }, 30_000);

    /** Status updates that wait at a gate (the API server's round trip) while holding. */
    const statusGate = (): {
      hook: NonNullable<ControllerHarnessOptions['statusHook']>;
      hold: (on: boolean) => void;
      held: () => number;
      release: () => void;
      /** Whether the signal of the last held update was aborted by the time it was released. */
      abortedAtRelease: () => boolean | undefined;
    } => {
      let holding = false;
      let aborted: boolean | undefined;
      const waiting: (() => void)[] = [];
      return {
        hook: async (_ref, signal) => {
          if (!holding) return;
          await new Promise<void>((r) => waiting.push(r));
          aborted = signal?.aborted;
          signal?.throwIfAborted();
        },
        hold: (on) => (holding = on),
        held: () => waiting.length,
        release: () => waiting.splice(0).forEach((open) => open()),
        abortedAtRelease: () => aborted,
      };
    };

    it('a sync does not wait for the status write of the one before; writes that waited go as one', async () => {
      const gate = statusGate();
      const time = await publishedPrimary('chain', {
        syncSpacingMs: 60_000,
        statusHook: gate.hook,
      });
      await sleep(100);
      const updates = h.statusUpdates();
      const lastSync = h.status('shop', 'public')?.lastSyncTime;
      gate.hold(true);
      // The new primary first: beside the old one, then alone; the first sync's status write is
      // still under way (held) when the second change goes.
      h.apply(pod('db-b', { labels: { app: 'db', role: 'primary' }, ip: '10.9.0.2' }));
      await eventually(() => expect(gate.held()).toBe(1));
      h.apply(pod('db-a', { labels: { app: 'db', role: 'replica' }, ip: '10.9.0.1' }));
      await eventually(() => expect(aTargets('chain')).toEqual(['10.9.0.2']));
      // After a quiet period, a third change: its status waits behind the first write too.
      time.jump(60_001);
      h.apply(pod('db-c', { labels: { app: 'db', role: 'primary' }, ip: '10.9.0.3' }));
      await eventually(() => expect(aTargets('chain')).toEqual(['10.9.0.2', '10.9.0.3']));
      expect(gate.held()).toBe(1);
      expect(h.statusUpdates() - updates).toBe(1);
      gate.hold(false);
      gate.release();
      // The first write, then the two that waited behind it as one.
      await eventually(() => expect(h.status('shop', 'public')?.lastSyncTime).not.toBe(lastSync));
      await sleep(200);
      expect(h.statusUpdates() - updates).toBe(2);
      expect(h.status('shop', 'public')).toMatchObject({ records: 1, pendingChanges: 0 });
    }, 30_000);

    it("holds the status of an event's sync: a failover's two changes go before any status write, and it is one write", async () => {
      // A hold of a minute: a write that did not wait for it shows at once. (The first sync's
      // result waits too; Reconciling, said on first sight of the policy, did not.)
      await publishedPrimary('held', { syncSpacingMs: 60_000, statusHoldMs: 60_000 });
      await sleep(100);
      expect(h.status('shop', 'public')?.records).toBeUndefined();
      const updates = h.statusUpdates();
      h.apply(pod('db-b', { labels: { app: 'db', role: 'primary' }, ip: '10.9.0.2' }));
      await eventually(() => expect(aTargets('held')).toEqual(['10.9.0.1', '10.9.0.2']));
      h.apply(pod('db-a', { labels: { app: 'db', role: 'replica' }, ip: '10.9.0.1' }));
      await eventually(() => expect(aTargets('held')).toEqual(['10.9.0.2']));
      await sleep(100);
      expect(h.statusUpdates() - updates).toBe(0);
      // What waits is written on the way out (or when the hold ends): three syncs, one write.
      await h.stop(10_000);
      expect(h.statusUpdates() - updates).toBe(1);
      expect(h.status('shop', 'public')).toMatchObject({ records: 1, pendingChanges: 0 });
      expect(h.status('shop', 'public')?.lastSyncTime).toBeDefined();
    }, 30_000);

    it('a status write that fails is retried, counted and logged, without another sync', async () => {
      let failures = 1;
      const time = await publishedPrimary('retry', {
        syncSpacingMs: 60_000,
        statusHook: () => {
          if (failures-- > 0) return Promise.reject(new Error('apiserver: connection reset'));
          return Promise.resolve();
        },
      });
      await eventually(() => expect(h.status('shop', 'public')?.records).toBe(1));
      const errors = async (): Promise<number> =>
        (await h.metrics.syncErrors.get()).values
          .filter((v) => v.labels['reason'] === 'StatusWriteFailed')
          .reduce((n, v) => n + v.value, 0);
      expect(await errors()).toBe(1);
      const syncs = async (): Promise<number> =>
        (await h.metrics.reconcileTotal.get()).values.reduce((n, v) => n + v.value, 0);
      const before = await syncs();
      const lastSync = h.status('shop', 'public')?.lastSyncTime;
      // The next change's status write fails twice: the third try writes it.
      failures = 2;
      time.jump(60_001);
      h.apply(pod('db-b', { labels: { app: 'db', role: 'primary' }, ip: '10.9.0.2' }));
      await eventually(() => expect(h.status('shop', 'public')?.lastSyncTime).not.toBe(lastSync));
      expect(failures).toBe(-1);
      expect(await errors()).toBe(3);
      expect(await syncs()).toBe(before + 1);
    }, 30_000);

    it('while a status write is under way, a sync with nothing new by its cache still writes after it', async () => {
      const gate = statusGate();
      await publishedPrimary('busy', { syncSpacingMs: 60_000, statusHook: gate.hook });
      await sleep(100);
      const outside = service('out', {
        hostname: 'out.example.org',
        type: 'LoadBalancer',
        ingress: [{ ip: '203.0.113.9' }],
      });
      gate.hold(true);
      // A diagnostic comes (its status write held) and goes: the second sync's status reads
      // the same as the cached one and the last one written, but the held write will say
      // otherwise, so it must follow it.
      h.apply(outside);
      await eventually(() => expect(gate.held()).toBe(1));
      h.remove(outside);
      await sleep(100);
      gate.hold(false);
      gate.release();
      await sleep(200);
      expect(h.status('shop', 'public')?.diagnostics ?? []).toEqual([]);
    }, 30_000);

    it('stopping writes the statuses still waiting before it returns, or drops them after the grace', async () => {
      const gate = statusGate();
      await publishedPrimary('flush', { syncSpacingMs: 60_000, statusHook: gate.hook });
      await sleep(100);
      const lastSync = h.status('shop', 'public')?.lastSyncTime;
      gate.hold(true);
      h.apply(pod('db-b', { labels: { app: 'db', role: 'primary' }, ip: '10.9.0.2' }));
      await eventually(() => expect(gate.held()).toBe(1));
      let stopped = false;
      const stopping = h.stop(10_000).then(() => (stopped = true));
      await sleep(100);
      expect(stopped).toBe(false);
      gate.release();
      await stopping;
      expect(h.status('shop', 'public')?.lastSyncTime).not.toBe(lastSync);

      // Started again (a leader that won its lease back), then stopped with a short grace: the
      // write that never answers is aborted and dropped, and stop returns.
      await h.controller.start();
      h.apply(pod('db-a', { labels: { app: 'db', role: 'replica' }, ip: '10.9.0.1' }));
      await eventually(() => expect(gate.held()).toBe(1));
      const written = h.status('shop', 'public')?.lastSyncTime;
      await h.stop(50);
      gate.release();
      await sleep(50);
      expect(gate.abortedAtRelease()).toBe(true);
      expect(h.status('shop', 'public')?.lastSyncTime).toBe(written);
    }, 30_000);

    it('dnsop_event_to_sync_seconds runs from the first event not yet reflected to the change applied', async () => {
      const provider = gatedProvider();
      await publishedPrimary('metric', { syncSpacingMs: 2_000, providerFactory: provider.factory });
      const observed = async (): Promise<{ count: number; sum: number }> => {
        const { values } = await h.metrics.eventToSync.get();
        const value = (name: string): number =>
          values.find((v) => v.metricName === name)?.value ?? 0;
        return {
          count: value('dnsop_event_to_sync_seconds_count'),
          sum: value('dnsop_event_to_sync_seconds_sum'),
        };
      };
      const before = await observed();
      provider.slow(200);
      // A failover 300 ms apart: the first event changes nothing on its own (its deletion waits),
      // the second one's sync applies both; the provider takes 200 ms to answer.
      h.apply(pod('db-a', { labels: { app: 'db', role: 'replica' }, ip: '10.9.0.1' }));
      await sleep(300);
      h.apply(pod('db-b', { labels: { app: 'db', role: 'primary' }, ip: '10.9.0.2' }));
      await eventually(() => expect(aTargets('metric')).toEqual(['10.9.0.2']));
      for (let i = 0; i < 300 && (await observed()).count === before.count; i++) await sleep(10);
      expect((await observed()).count).toBe(before.count + 1);
      // From the first event (not the second), to the provider's answer (not the request).
      expect((await observed()).sum - before.sum).toBeGreaterThanOrEqual(0.5);
    }, 30_000);

    it('under a steady stream of events, a record nobody wants still goes within ten spacings', async () => {
      h = await startControllerHarness({ syncSpacingMs: 200 });
      h.apply(headless('db', { app: 'db' }, 'db.example.com'));
      h.apply(headless('web', { app: 'web' }, 'web.example.com'));
      h.apply(pod('db-a', { labels: { app: 'db' }, ip: '10.9.0.1' }));
      h.apply(pod('web-a', { labels: { app: 'web' }, ip: '10.8.0.1' }));
      h.apply(policy('public', { provider: { inMemory: { zone: 'busy' } } }));
      await eventually(() => expect(names(h.controller.store.records('busy'))).toHaveLength(2));
      h.remove(pod('db-a', { labels: { app: 'db' }, ip: '10.9.0.1' }));
      const started = performance.now();
      let gone = false;
      // Pod events for the same policy every 20 ms, for up to 15 s (75 spacings; the cap is 10).
      for (let i = 0; !gone && performance.now() - started < 15_000; i++) {
        h.apply(pod('web-a', { labels: { app: 'web', tick: String(i) }, ip: '10.8.0.1' }));
        await sleep(20);
        gone = !names(h.controller.store.records('busy')).some((n) => n.startsWith('db.'));
      }
      expect(gone).toBe(true);
    }, 30_000);

    it('writes no status when there is nothing new to say, by the cache and by its last write', async () => {
      h = await startControllerHarness({ holdStatus: true });
      h.apply(headless('web', { app: 'web' }, 'web.example.com'));
      h.apply(pod('web-1', { labels: { app: 'web' }, ip: '10.2.0.1' }));
      h.apply(policy('public', { provider: { inMemory: { zone: 'quietstatus' } } }));
      await eventually(() => expect(h.liveStatus('shop', 'public')?.records).toBe(1));
      h.releaseStatus();
      await sleep(100);
      const updates = h.statusUpdates();
      // An event that changes nothing (the Service applied again): no status request at all.
      h.apply(
        service('web', {
          hostname: 'web.example.com',
          clusterIP: 'None',
          selector: { app: 'web' },
          annotations: { unrelated: 'x' },
        }),
      );
      await sleep(200);
      expect(h.statusUpdates()).toBe(updates);
      // A diagnostic comes and goes while the watch has not delivered the write yet: the cache
      // still shows the old status, but the last write said otherwise, so the second is written.
      const outside = service('out', {
        hostname: 'out.example.org',
        type: 'LoadBalancer',
        ingress: [{ ip: '203.0.113.9' }],
      });
      h.apply(outside);
      await eventually(() =>
        expect(h.liveStatus('shop', 'public')?.diagnostics?.[0]?.reason).toBe('OutsideDomains'),
      );
      h.remove(outside);
      await eventually(() => expect(h.liveStatus('shop', 'public')?.diagnostics ?? []).toEqual([]));
    });
  });

  describe('errors, deletion and the rolling-hour delete guard', () => {
    const cond = (type: string): { status?: string; reason?: string } | undefined =>
      h.status('shop', 'public')?.conditions?.find((c) => c.type === type);
    const kstatus = (): string =>
      ['Ready', 'Reconciling', 'Stalled'].map((t) => `${t}=${cond(t)?.status}`).join(' ');
    /** The in-memory provider, with a hook before each call that may throw or rewrite results. */
    const wrapped = (hooks: {
      records?: () => void;
      apply?: (
        c: Parameters<Provider['applyChanges']>[0],
      ) => ReturnType<Provider['applyChanges']> | undefined;
    }) => {
      const calls = { factory: 0, records: 0, apply: 0 };
      const providerFactory = async (
        ...args: Parameters<typeof createProvider>
      ): Promise<Provider> => {
        calls.factory++;
        const inner = await createProvider(...args);
        return {
          kind: inner.kind,
          adjustEndpoints: (e) => inner.adjustEndpoints(e),
          records: (o) => {
            calls.records++;
            hooks.records?.();
            return inner.records(o);
          },
          applyChanges: (c, signal) => {
            calls.apply++;
            return hooks.apply?.(c) ?? inner.applyChanges(c, signal);
          },
        };
      };
      return { calls, providerFactory };
    };
    const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

    it('a permanent error is Stalled, reported once and not retried before spec.interval', async () => {
      const { calls, providerFactory } = wrapped({
        records: () => {
          throw new PermanentError('HostedZoneNotFound', 'route53 ListHostedZones: no zone Z0000');
        },
      });
      h = await startControllerHarness({ providerFactory });
      h.apply(service('app', { hostname: 'app.example.com', clusterIP: '10.0.0.9' }));
      h.apply(
        policy('public', {
          provider: { inMemory: { zone: 'perm' } },
          publishInternalServices: true,
        }),
      );
      await eventually(() => expect(cond('Stalled')?.reason).toBe('HostedZoneNotFound'));
      expect(kstatus()).toBe('Ready=False Reconciling=False Stalled=True');
      await sleep(100); // the echo of adding the finalizer may bring one more sync
      const settled = calls.records;
      await sleep(300);
      // No backoff retries (5 ms, 10 ms, ... would be a dozen by now).
      expect(calls.records).toBe(settled);
      expect(calls.records).toBeLessThanOrEqual(2);
      const errors = await h.metrics.syncErrors.get();
      expect(errors.values.reduce((n, v) => n + v.value, 0)).toBe(calls.records);
      expect(h.events.events.filter((e) => e.reason === 'HostedZoneNotFound')).not.toHaveLength(0);
    });

    it('a transient error is Reconciling, retried, keeps the provider and ends in a Normal Recovered Event', async () => {
      let failures = 3;
      const { calls, providerFactory } = wrapped({
        records: () => {
          if (failures-- > 0) throw new TransientError('route53 ListHostedZones: Throttling');
        },
      });
      const seen = new Set<string>();
      h = await startControllerHarness({ providerFactory });
      const off = h.caches.get('dnspolicies').onEvent(() => seen.add(kstatus()));
      h.apply(service('app', { hostname: 'app.example.com', clusterIP: '10.0.0.9' }));
      h.apply(
        policy('public', {
          provider: { inMemory: { zone: 'trans' } },
          publishInternalServices: true,
        }),
      );
      await eventually(() => expect(cond('Ready')?.status).toBe('True'));
      off();
      expect(seen).toContain('Ready=False Reconciling=True Stalled=False');
      expect(calls.factory).toBe(1);
      expect(h.events.events).toContainEqual(
        expect.objectContaining({ type: 'Normal', reason: 'Recovered' }),
      );
    });

    it('rejected changes are retried once, then Stalled until spec.interval', async () => {
      const { calls, providerFactory } = wrapped({
        apply: (c) =>
          Promise.resolve({
            applied: 0,
            failed: c.create.map((e) => ({
              group: batchGroupKey(e),
              message: 'InvalidChangeBatch: nope',
            })),
          }),
      });
      h = await startControllerHarness({ providerFactory });
      h.apply(service('app', { hostname: 'app.example.com', clusterIP: '10.0.0.9' }));
      h.apply(
        policy('public', {
          provider: { inMemory: { zone: 'rej' } },
          publishInternalServices: true,
        }),
      );
      await eventually(() => expect(cond('Stalled')?.reason).toBe('ProviderRejected'));
      await sleep(100);
      const settled = calls.apply;
      await sleep(300);
      expect(calls.apply).toBe(settled);
      expect(calls.apply).toBeLessThanOrEqual(3);
      expect(h.status('shop', 'public')?.pendingChanges).toBe(1);
    });

    it('counts deletions over a rolling hour: deleting 4 of 6 records one by one stops at the 4th', async () => {
      h = await startControllerHarness();
      const names6 = ['a', 'b', 'c', 'd', 'e', 'f'];
      for (const n of names6)
        h.apply(service(n, { hostname: `${n}.example.com`, clusterIP: '10.0.0.9' }));
      h.apply(
        policy('public', {
          provider: { inMemory: { zone: 'roll' } },
          publishInternalServices: true,
          maxDeletePercent: 50,
        }),
      );
      await eventually(() => expect(h.status('shop', 'public')?.records).toBe(6));
      for (const [i, n] of names6.slice(0, 3).entries()) {
        h.remove(service(n));
        await eventually(() =>
          expect(names(h.controller.store.records('roll'))).toHaveLength(5 - i),
        );
      }
      // The status of a sync an event started follows it (held, then written).
      await eventually(() =>
        expect(h.status('shop', 'public')?.recentDeletes?.reduce((s, e) => s + e.count, 0)).toBe(3),
      );
      h.remove(service('d'));
      await eventually(() => expect(cond('Synced')?.reason).toBe('DeleteGuard'));
      expect(kstatus()).toBe('Ready=False Reconciling=False Stalled=True');
      expect(names(h.controller.store.records('roll'))).toContain('d.example.com A 10.0.0.9');
    });

    it('reads the hour from status, so a restart does not reset the guard', async () => {
      const now = new Date('2026-11-22T10:00:00Z');
      h = await startControllerHarness({ now: () => now });
      for (const n of ['d', 'e', 'f'])
        h.apply(service(n, { hostname: `${n}.example.com`, clusterIP: '10.0.0.9' }));
      const p = policy('public', {
        provider: { inMemory: { zone: 'restart' } },
        maxDeletePercent: 50,
        publishInternalServices: true,
      });
      const recentDeletes = [{ time: new Date(now.getTime() - 600_000).toISOString(), count: 3 }];
      h.apply({ ...p, status: { observedGeneration: 1, recentDeletes } } as typeof p);
      await eventually(() => expect(h.status('shop', 'public')?.records).toBe(3));
      h.remove(service('d'));
      await eventually(() => expect(cond('Synced')?.reason).toBe('DeleteGuard'));
      expect(names(h.controller.store.records('restart'))).toHaveLength(3);
    });

    it('a failing cleanup says why and how to release it; dnsop.io/skip-cleanup lets go without touching records', async () => {
      let broken = false;
      const { providerFactory } = wrapped({
        records: () => {
          if (broken)
            throw new PermanentError(
              'CredentialsNotFound',
              'route53: Secret shop/aws does not exist',
            );
        },
      });
      h = await startControllerHarness({ providerFactory });
      h.apply(service('app', { hostname: 'app.example.com', clusterIP: '10.0.0.9' }));
      h.apply(
        policy('public', {
          provider: { inMemory: { zone: 'stuck' } },
          publishInternalServices: true,
        }),
      );
      await eventually(() => expect(h.status('shop', 'public')?.records).toBe(1));
      broken = true;
      h.deletePolicy('shop', 'public');
      await eventually(() => expect(cond('Stalled')?.reason).toBe('CleanupBlocked'));
      const event = h.events.events.find((e) => e.reason === 'CleanupBlocked');
      expect(event?.note).toContain('Secret shop/aws does not exist');
      expect(event?.note).toContain('dnsop.io/skip-cleanup: "true"');
      const live = h.policy('shop', 'public')!;
      h.apply({
        ...live,
        metadata: { ...live.metadata, annotations: { 'dnsop.io/skip-cleanup': 'true' } },
      });
      await eventually(() => expect(h.policy('shop', 'public')).toBeUndefined());
      expect(names(h.controller.store.records('stuck'))).toEqual(['app.example.com A 10.0.0.9']);
    });

    it('retries a failing cleanup with backoff until it succeeds', async () => {
      let failures = 3;
      const { calls, providerFactory } = wrapped({
        records: () => {
          if (failures > 0 && h.policy('shop', 'public')?.metadata.deletionTimestamp) {
            failures--;
            throw new TransientError('route53 ListResourceRecordSets: ServiceUnavailable');
          }
        },
      });
      h = await startControllerHarness({
        providerFactory,
        cleanupBackoff: { baseMs: 20, maxMs: 40 },
      });
      h.apply(service('app', { hostname: 'app.example.com', clusterIP: '10.0.0.9' }));
      h.apply(
        policy('public', {
          provider: { inMemory: { zone: 'later' } },
          publishInternalServices: true,
        }),
      );
      await eventually(() => expect(h.status('shop', 'public')?.records).toBe(1));
      const before = calls.records;
      h.deletePolicy('shop', 'public');
      await eventually(() => expect(h.policy('shop', 'public')).toBeUndefined());
      expect(calls.records - before).toBe(4);
      expect(names(h.controller.store.records('later'))).toEqual([]);
    });
  });
});
