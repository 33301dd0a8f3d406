/**
 * The DNSPolicy controller against a real kube-apiserver (envtest), with the in-memory provider
 * injected so the test reads the "DNS zone" directly:
 *  (a) postgres failover: the role=primary label moves from pod A to pod B (seeds/000);
 *  (b) an HTTPRoute moved from gateway external to internal with the old parent left in
 *      status.parents: one target set at a time, nothing deleted while status lags (seeds/001);
 *  (c) a cross-namespace route refused by allowedRoutes Same: NotAllowedByListeners in the
 *      DNSPolicy status and as an Event on the HTTPRoute (seeds/002);
 *  (d) deleting a DNSPolicy removes exactly its records, a foreign owner's record stays;
 *  (e) an API server restart mid-run loses no update and deletes nothing.
 */
import { join } from 'node:path';
import {
  KubernetesObjectApi,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';
import type { DNSPolicy } from '../../operator/api/types';
import type { Endpoint } from '../../operator/records/endpoint';
import { InMemoryDnsStore } from '../../operator/records/providers/inmemory';
import { DNSPolicyController } from '../../operator/records/reconciler';
import { ownershipRecord } from '../../operator/records/registry';
import { kubeRequest } from '../../operator/runtime/kube-http';
import { silentLogger } from '../../operator/runtime/logger';
import { DnsopOperator } from '../../operator/runtime/operator';
import { applyObjects, readManifests, readObject, waitForDeletion } from '../envtest/apply';
import { ControlPlane } from '../envtest/control-plane';
import { waitFor } from '../envtest/wait';
import {
  mergePatch,
  namespaceObjects,
  patchStatus as patchObjectStatus,
  type ObjectPath,
} from '../support/kube-objects';
import { startOperator } from './operator-fixture';

jest.setTimeout(180_000);

const ROOT = join(__dirname, '..', '..');
const GW = 'gateway.networking.k8s.io/v1';
let plane: ControlPlane;
let kc: KubeConfig;
let api: KubernetesObjectApi;
let operator: DnsopOperator;
const store = new InMemoryDnsStore();

const addresses = (zone: string, name: string, type = 'A'): string | undefined =>
  store
    .records(zone)
    .find((r) => r.name === name && r.type === type)
    ?.targets.join(',');

function dnsPolicy(
  namespace: string,
  name: string,
  zone: string,
  spec: Record<string, unknown> = {},
): KubernetesObject {
  return {
    apiVersion: 'dnsop.io/v1alpha1',
    kind: 'DNSPolicy',
    metadata: { name, namespace },
    spec: {
      sources: [{ kind: 'Service' }],
      domains: ['example.com'],
      provider: { inMemory: { zone } },
      ...spec,
    },
  } as KubernetesObject;
}

async function patchStatus(obj: ObjectPath, status: unknown): Promise<void> {
  await patchObjectStatus(kc, obj, status);
}

async function patch(obj: ObjectPath, body: unknown): Promise<void> {
  await mergePatch(kc, obj, body);
}

async function readyPod(
  namespace: string,
  name: string,
  labels: Record<string, string>,
  ip: string,
): Promise<void> {
  await api.create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels },
    spec: {
      automountServiceAccountToken: false,
      containers: [{ name: 'pg', image: 'postgres:16' }],
    },
  } as KubernetesObject);
  await patchStatus(
    { apiVersion: 'v1', plural: 'pods', namespace, name },
    {
      phase: 'Running',
      podIP: ip,
      podIPs: [{ ip }],
      conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date().toISOString() }],
    },
  );
}

async function policyStatus(namespace: string, name: string): Promise<DNSPolicy['status']> {
  const obj = await readObject<DNSPolicy & KubernetesObject>(kc, {
    apiVersion: 'dnsop.io/v1alpha1',
    kind: 'DNSPolicy',
    namespace,
    name,
  });
  return obj?.status;
}

function acceptedStatus(
  parent: { name: string; namespace: string },
  generation: number,
): Record<string, unknown> {
  return {
    parentRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', ...parent },
    controllerName: 'example.com/gateway-controller',
    conditions: [
      {
        type: 'Accepted',
        status: 'True',
        reason: 'Accepted',
        message: 'ok',
        observedGeneration: generation,
        lastTransitionTime: new Date().toISOString(),
      },
    ],
  };
}

beforeAll(async () => {
  plane = await ControlPlane.start();
  kc = plane.kubeConfig;
  api = KubernetesObjectApi.makeApiClient(kc);
  const crds = [
    ...readManifests(join(ROOT, 'crds')),
    ...readManifests(...plane.tools.gatewayApiCrdFiles),
  ].filter((o) => o.kind === 'CustomResourceDefinition');
  const namespaces = ['pg', 'infra', 'shop', 'fin', 'restart', 'dnsop-system'];
  await applyObjects(kc, [...crds, ...namespaceObjects(namespaces)] as KubernetesObject[]);
  const logger = silentLogger();
  const controller = new DNSPolicyController({ inMemoryStore: store, syncSpacingMs: 200 });
  ({ operator } = await startOperator(kc, [controller], {
    config: { cacheResync: '10m' },
    logger,
  }));
});

afterAll(async () => {
  await operator?.shutdown();
  await plane?.stop();
});

it('(a) postgres failover: the record follows the role=primary label to pod B', async () => {
  await api.create({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: 'pg',
      namespace: 'pg',
      annotations: { 'dnsop.io/hostname': 'pg.example.com' },
    },
    spec: { clusterIP: 'None', selector: { app: 'pg', role: 'primary' }, ports: [{ port: 5432 }] },
  } as KubernetesObject);
  await readyPod('pg', 'pg-a', { app: 'pg', role: 'primary' }, '10.20.0.1');
  await readyPod('pg', 'pg-b', { app: 'pg', role: 'replica' }, '10.20.0.2');
  await api.create(dnsPolicy('pg', 'internal', 'a'));
  await waitFor('pod A published', () =>
    addresses('a', 'pg.example.com') === '10.20.0.1' ? true : undefined,
  );

  const seen: string[] = [];
  const off = store.onChange((c) => {
    if (c.zone === 'a') seen.push(addresses('a', 'pg.example.com') ?? '(none)');
  });
  const latencies: number[] = [];
  const pods = { a: ['pg-a', '10.20.0.1'], b: ['pg-b', '10.20.0.2'] } as const;
  for (let i = 0; i < 10; i++) {
    const [from, to] = i % 2 === 0 ? [pods.a, pods.b] : [pods.b, pods.a];
    const started = performance.now();
    await patch(
      { apiVersion: 'v1', plural: 'pods', namespace: 'pg', name: from[0] },
      { metadata: { labels: { role: 'replica' } } },
    );
    await patch(
      { apiVersion: 'v1', plural: 'pods', namespace: 'pg', name: to[0] },
      { metadata: { labels: { role: 'primary' } } },
    );
    latencies.push(
      await waitFor(
        `${to[0]} published`,
        () =>
          addresses('a', 'pg.example.com') === to[1] ? performance.now() - started : undefined,
        {
          intervalMs: 2,
        },
      ),
    );
    await new Promise((r) => setTimeout(r, 300));
  }
  off();
  latencies.sort((x, y) => x - y);
  const p = (q: number): string =>
    (latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0).toFixed(0);
  console.log(
    `(a) label patch -> provider change over ${latencies.length} failovers: p50 ${p(0.5)} ms, max ${p(1)} ms (sync spacing 200 ms)`,
  );
  expect(addresses('a', 'pg.example.com')).toBe('10.20.0.1');
  // Never both pods at once, and the only states are "A", "B" (or briefly none mid-failover).
  expect(seen.every((state) => !state.includes(','))).toBe(true);
  expect(latencies[latencies.length - 1]).toBeLessThan(2000);
});

it('(b) HTTPRoute moved between gateways: one target set at a time, nothing deleted while status lags', async () => {
  for (const [name, ip] of [
    ['external', '203.0.113.10'],
    ['internal', '10.0.0.50'],
  ] as const) {
    await api.create({
      apiVersion: GW,
      kind: 'Gateway',
      metadata: { name, namespace: 'infra' },
      spec: {
        gatewayClassName: 'example',
        listeners: [
          {
            name: 'http',
            protocol: 'HTTP',
            port: 80,
            allowedRoutes: { namespaces: { from: 'All' } },
          },
        ],
      },
    } as KubernetesObject);
    await patchStatus(
      { apiVersion: GW, plural: 'gateways', namespace: 'infra', name },
      { addresses: [{ type: 'IPAddress', value: ip }] },
    );
  }
  await api.create(dnsPolicy('shop', 'routes', 'b', { sources: [{ kind: 'HTTPRoute' }] }));
  const route = { apiVersion: GW, plural: 'httproutes', namespace: 'shop', name: 'checkout' };
  const ext = { name: 'external', namespace: 'infra' };
  const int = { name: 'internal', namespace: 'infra' };
  await api.create({
    apiVersion: GW,
    kind: 'HTTPRoute',
    metadata: { name: 'checkout', namespace: 'shop' },
    spec: { parentRefs: [ext], hostnames: ['checkout.example.com'] },
  } as KubernetesObject);
  await patchStatus(route, { parents: [acceptedStatus(ext, 1)] });
  await waitFor('route on external', () =>
    addresses('b', 'checkout.example.com') === '203.0.113.10' ? true : undefined,
  );

  const states: string[] = [];
  const off = store.onChange((c) => {
    if (c.zone === 'b') states.push(addresses('b', 'checkout.example.com') ?? '(deleted)');
  });
  await patch(route, { spec: { parentRefs: [int] } }); // generation 2; status still says external@1
  await waitFor('StatusLagging reported', async () =>
    (await policyStatus('shop', 'routes'))?.diagnostics?.some((d) => d.reason === 'StatusLagging')
      ? true
      : undefined,
  );
  await new Promise((r) => setTimeout(r, 600));
  expect(addresses('b', 'checkout.example.com')).toBe('203.0.113.10');
  // The gateway controller catches up but leaves the old parent's entry behind (seeds/001).
  await patchStatus(route, { parents: [acceptedStatus(ext, 1), acceptedStatus(int, 2)] });
  await waitFor('route on internal', () =>
    addresses('b', 'checkout.example.com') === '10.0.0.50' ? true : undefined,
  );
  await new Promise((r) => setTimeout(r, 600));
  off();
  expect(states).toEqual(['10.0.0.50']);
});

it('(c) a cross-namespace route refused by allowedRoutes Same: status diagnostic and Event', async () => {
  await api.create({
    apiVersion: GW,
    kind: 'Gateway',
    metadata: { name: 'same-only', namespace: 'infra' },
    spec: {
      gatewayClassName: 'example',
      listeners: [{ name: 'http', protocol: 'HTTP', port: 80 }],
    },
  } as KubernetesObject);
  await patchStatus(
    { apiVersion: GW, plural: 'gateways', namespace: 'infra', name: 'same-only' },
    { addresses: [{ value: '198.51.100.9' }] },
  );
  await api.create({
    apiVersion: GW,
    kind: 'HTTPRoute',
    metadata: { name: 'cross', namespace: 'shop' },
    spec: {
      parentRefs: [{ name: 'same-only', namespace: 'infra' }],
      hostnames: ['cross.example.com'],
    },
  } as KubernetesObject);
  const diagnostic = await waitFor('NotAllowedByListeners in status', async () =>
    (await policyStatus('shop', 'routes'))?.diagnostics?.find(
      (d) => d.object === 'HTTPRoute/shop/cross' && d.reason === 'NotAllowedByListeners',
    ),
  );
  expect(diagnostic.message).toContain('namespaces from Same');
  const event = await waitFor('Event on the HTTPRoute', async () => {
    const list = await kubeRequest<{
      items: { reason?: string; regarding?: { kind?: string; name?: string }; note?: string }[];
    }>(kc, {
      method: 'GET',
      path: '/apis/events.k8s.io/v1/namespaces/shop/events',
    });
    return list.items.find(
      (e) =>
        e.regarding?.kind === 'HTTPRoute' &&
        e.regarding.name === 'cross' &&
        e.reason === 'NotAllowedByListeners',
    );
  });
  expect(event.note).toContain('DNSPolicy shop/routes');
  expect(addresses('b', 'cross.example.com')).toBeUndefined();
});

it('(d) deleting a DNSPolicy removes exactly its records and leaves a foreign owner alone', async () => {
  const foreign: Endpoint = {
    name: 'other.example.com',
    type: 'A',
    targets: ['192.0.2.1'],
    ttl: 300,
    source: 'Service/x/y',
  };
  store.put('d', foreign);
  store.put('d', ownershipRecord(foreign, 'team-b'));
  await api.create({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: 'app',
      namespace: 'fin',
      annotations: { 'dnsop.io/hostname': 'app.example.com' },
    },
    spec: { ports: [{ port: 80 }] },
  } as KubernetesObject);
  await api.create(dnsPolicy('fin', 'public', 'd', { publishInternalServices: true }));
  await waitFor('published', () => (addresses('d', 'app.example.com') ? true : undefined));
  await api.delete(dnsPolicy('fin', 'public', 'd'));
  await waitForDeletion(kc, {
    apiVersion: 'dnsop.io/v1alpha1',
    kind: 'DNSPolicy',
    namespace: 'fin',
    name: 'public',
  });
  expect(store.records('d').map((r) => r.name)).toEqual([
    '_dnsop-a.other.example.com',
    'other.example.com',
  ]);
});

it('(e) an API server restart mid-run loses no update and deletes nothing', async () => {
  const svc = (name: string, target: string): KubernetesObject =>
    ({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name,
        namespace: 'restart',
        annotations: { 'dnsop.io/hostname': `${name}.example.com`, 'dnsop.io/target': target },
      },
      spec: { ports: [{ port: 80 }] },
    }) as KubernetesObject;
  for (const [i, name] of ['s1', 's2', 's3'].entries())
    await api.create(svc(name, `192.0.2.${i + 1}`));
  await api.create(dnsPolicy('restart', 'public', 'e', { interval: '10s' }));
  await waitFor('three published', () =>
    store.records('e').filter((r) => r.type === 'A').length === 3 ? true : undefined,
  );
  const deletes: string[] = [];
  const off = store.onChange((c) => c.changes.delete.forEach((d) => deletes.push(d.name)));

  await plane.stopApiServer();
  await new Promise((r) => setTimeout(r, 3000)); // watches fail, informers back off, resyncs fail
  await plane.startApiServer();
  await waitFor('API server back', () => api.list('v1', 'Namespace').then(() => true), {
    timeoutMs: 60_000,
  });
  await patch(
    { apiVersion: 'v1', plural: 'services', namespace: 'restart', name: 's1' },
    { metadata: { annotations: { 'dnsop.io/target': '192.0.2.11' } } },
  );
  await api.create(svc('s4', '192.0.2.4'));
  await waitFor(
    'update and create after restart',
    () =>
      addresses('e', 's1.example.com') === '192.0.2.11' &&
      addresses('e', 's4.example.com') === '192.0.2.4'
        ? true
        : undefined,
    { timeoutMs: 60_000 },
  );
  await new Promise((r) => setTimeout(r, 1000));
  off();
  expect(deletes).toEqual([]);
  expect(addresses('e', 's2.example.com')).toBe('192.0.2.2');
  expect(addresses('e', 's3.example.com')).toBe('192.0.2.3');
});
