import { batchGroupKey, type Endpoint } from './endpoint';
import { PermanentError, TransientError } from '../runtime/errors';
import { createProvider } from './providers';
import type { Provider } from './providers/provider';
import { ownershipRecord } from './registry';
import {
  eventually,
  startControllerHarness,
  type ControllerHarness,
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
      providerFactory: async (spec, context): Promise<Provider> => {
        const inner = await createProvider(spec, context);
        return {
          kind: inner.kind,
          adjustEndpoints: (e) => inner.adjustEndpoints(e),
          applyChanges: (c, signal) => inner.applyChanges(c, signal),
          records: (options) => {
            refreshes.push(options?.refresh ?? false);
            return inner.records(options);
          },
        };
      },
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

  it('turns a burst of pod events into one provider change (debounce)', async () => {
    h = await startControllerHarness({ debounceMs: 100 });
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
      expect(h.status('shop', 'public')?.recentDeletes?.reduce((s, e) => s + e.count, 0)).toBe(3);
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
