/**
 * Records bench: 10,000 Services / 50,000 Pods / 2,000 HTTPRoutes across 50 DNSPolicies.
 * Prints: full recompute of all 50 policies (sources + shaping + plan, against an empty zone and
 * against a zone already in sync), incremental cost of one pod label change (fan-out + the one
 * affected policy), end-to-end pod change -> provider change through the controller with its
 * 200 ms debounce (no API server), and heap used.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { DNSPolicy } from '../../operator/api/types';
import type { Endpoint } from '../../operator/records/endpoint';
import { affectedByPod, type FanoutLookups } from '../../operator/records/fanout';
import {
  fanoutLookupsFrom,
  offlineCaches,
  sourceObjectsFrom,
} from '../../operator/records/objects';
import { evaluatePolicy, planForPolicy } from '../../operator/records/pipeline';
import { eventually, startControllerHarness } from '../support/records-controller-harness';
import { benchRecordsLive } from './records-live';
import {
  gateway,
  headless,
  httpRoute,
  namespace,
  pod,
  policy,
  service,
} from '../support/records-fixtures';

const NAMESPACES = 50;
const SERVICES_PER_NS = 200; // 150 ClusterIP + 50 headless
const HEADLESS_PER_NS = 50;
const PODS_PER_NS = 1000; // 20 per headless Service
const ROUTES_PER_NS = 40;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

function heapMB(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

export function* objectsFor(n: number): Generator<KubernetesObject> {
  const ns = `ns-${n}`;
  yield namespace(ns);
  yield gateway('gw', { namespace: ns, addresses: [{ value: `198.51.${n}.1` }] });
  for (let s = 0; s < SERVICES_PER_NS; s++) {
    const host = `svc-${s}.${ns}.example.com`;
    yield s < HEADLESS_PER_NS
      ? headless(`svc-${s}`, { app: `app-${s}` }, host, { namespace: ns })
      : service(`svc-${s}`, {
          namespace: ns,
          hostname: host,
          clusterIP: `10.${n}.${s >> 8}.${s & 255}`,
        });
  }
  for (let p = 0; p < PODS_PER_NS; p++) {
    const app = p % HEADLESS_PER_NS;
    yield pod(`pod-${p}`, {
      namespace: ns,
      labels: { app: `app-${app}`, role: p < HEADLESS_PER_NS ? 'primary' : 'replica' },
      ip: `10.${100 + (n % 100)}.${p >> 8}.${p & 255}`,
      hostname: `pod-${p}`,
    });
  }
  for (let r = 0; r < ROUTES_PER_NS; r++) {
    yield httpRoute(`route-${r}`, {
      namespace: ns,
      hostnames: [`r${r}.${ns}.example.com`],
      parentRefs: [{ name: 'gw', namespace: ns }],
    });
  }
}

export function policies(): DNSPolicy[] {
  return Array.from({ length: NAMESPACES }, (_, n) =>
    policy(
      'public',
      {
        sources: [{ kind: 'Service' }, { kind: 'HTTPRoute' }],
        provider: { inMemory: { zone: `z${n}` } },
      },
      `ns-${n}`,
    ),
  );
}

/**
 * The in-process figures, then the live ones (records-live.ts). DNSOP_BENCH_RECORDS lists the live
 * parts to run (flips,burst,idle); when it is set, the in-process part runs only if it names
 * `inprocess` too.
 */
export async function benchRecords(): Promise<void> {
  const parts = process.env['DNSOP_BENCH_RECORDS'];
  if (parts === undefined || parts.split(',').includes('inprocess')) await benchInProcess();
  await benchRecordsLive();
}

async function benchInProcess(): Promise<void> {
  const heapBefore = heapMB();
  const caches = offlineCaches();
  let loadMs = performance.now();
  for (let n = 0; n < NAMESPACES; n++) for (const obj of objectsFor(n)) caches.add(obj);
  const all = policies();
  all.forEach((p) => caches.add(p));
  loadMs = performance.now() - loadMs;
  const objects = sourceObjectsFrom(caches);
  const scope = { trustedNamespaces: new Set<string>() };
  console.log(
    `objects: ${caches.services.list().length} Services, ${caches.pods.list().length} Pods, ${caches.httproutes.list().length} HTTPRoutes, ${all.length} DNSPolicies (cache load ${loadMs.toFixed(0)} ms)`,
  );

  // Full recompute against an empty zone (everything is a create).
  const zones = new Map<string, Endpoint[]>();
  const fullEmpty: number[] = [];
  let records = 0;
  for (let round = 0; round < 3; round++) {
    const t = performance.now();
    for (const p of all) {
      const plan = planForPolicy(p, evaluatePolicy(p, objects, scope), [], true);
      if (round === 0) {
        records += plan.recordChanges;
        zones.set(
          p.metadata.namespace ?? '',
          plan.changes.create.map(({ source: _s, ...e }) => e as Endpoint),
        );
      }
    }
    fullEmpty.push(performance.now() - t);
  }
  // Full recompute against zones already in sync (the periodic resync's steady state).
  const fullSteady: number[] = [];
  for (let round = 0; round < 3; round++) {
    const t = performance.now();
    for (const p of all)
      planForPolicy(
        p,
        evaluatePolicy(p, objects, scope),
        zones.get(p.metadata.namespace ?? '') ?? [],
        true,
      );
    fullSteady.push(performance.now() - t);
  }
  console.log(`records desired: ${records} (+ ${records} ownership TXT)`);
  console.log(
    `full recompute, 50 policies, empty zones:   best ${Math.min(...fullEmpty).toFixed(0)} ms, worst ${Math.max(...fullEmpty).toFixed(0)} ms`,
  );
  console.log(
    `full recompute, 50 policies, zones in sync: best ${Math.min(...fullSteady).toFixed(0)} ms, worst ${Math.max(...fullSteady).toFixed(0)} ms`,
  );

  // Incremental: one pod label flip -> fan-out -> the affected policy's sources + plan.
  const lookups: FanoutLookups = { ...fanoutLookupsFrom(caches), policies: () => all };
  const incremental: number[] = [];
  for (let i = 0; i < 200; i++) {
    const n = i % NAMESPACES;
    const ns = `ns-${n}`;
    const old = caches.pods.get(ns, 'pod-0')!;
    const next = {
      ...old,
      metadata: {
        ...old.metadata,
        labels: {
          ...old.metadata?.labels,
          app: Math.floor(i / NAMESPACES) % 2 === 0 ? 'app-1' : 'app-0',
        },
      },
    };
    const t = performance.now();
    caches.add(next);
    const keys = affectedByPod({ type: 'update', obj: next, old }, lookups, scope);
    for (const key of keys) {
      const p = all.find((x) => `${x.metadata.namespace}/${x.metadata.name}` === key)!;
      planForPolicy(p, evaluatePolicy(p, objects, scope), zones.get(ns) ?? [], true);
    }
    incremental.push(performance.now() - t);
  }
  incremental.sort((a, b) => a - b);
  console.log(
    `one pod label change (index update + fan-out + 1 policy recompute): p50 ${percentile(incremental, 50).toFixed(1)} ms, p99 ${percentile(incremental, 99).toFixed(1)} ms`,
  );
  console.log(
    `heap used with all objects cached: ${(heapMB() - heapBefore).toFixed(0)} MB (process ${heapMB().toFixed(0)} MB)`,
  );

  await benchEndToEnd();
}

/**
 * Pod label flip -> in-memory provider change through the controller, 200 ms sync spacing; the
 * flips are 300 ms apart (failovers, not a burst: a burst waits for the spacing by design).
 */
async function benchEndToEnd(): Promise<void> {
  const h = await startControllerHarness({ syncSpacingMs: 200 });
  for (let n = 0; n < 5; n++) for (const obj of objectsFor(n)) h.apply(obj);
  h.apply(
    headless('pg', { app: 'pg', role: 'primary' }, 'pg.ns-0.example.com', { namespace: 'ns-0' }),
  );
  h.apply(
    pod('pg-a', { namespace: 'ns-0', labels: { app: 'pg', role: 'primary' }, ip: '10.250.0.1' }),
  );
  h.apply(
    pod('pg-b', { namespace: 'ns-0', labels: { app: 'pg', role: 'replica' }, ip: '10.250.0.2' }),
  );
  for (const p of policies().slice(0, 5)) h.apply(p);
  const pgTarget = (): string | undefined =>
    h.controller.store
      .records('z0')
      .find((r) => r.name === 'pg.ns-0.example.com' && r.type === 'A')
      ?.targets.join();
  await eventually(() => expect10(pgTarget(), '10.250.0.1'), 30_000);
  const latencies: number[] = [];
  for (let i = 0; i < 30; i++) {
    const [from, to] = i % 2 === 0 ? ['pg-a', 'pg-b'] : ['pg-b', 'pg-a'];
    const want = to === 'pg-a' ? '10.250.0.1' : '10.250.0.2';
    const t = performance.now();
    h.apply(
      pod(from, {
        namespace: 'ns-0',
        labels: { app: 'pg', role: 'replica' },
        ip: from === 'pg-a' ? '10.250.0.1' : '10.250.0.2',
      }),
    );
    h.apply(pod(to, { namespace: 'ns-0', labels: { app: 'pg', role: 'primary' }, ip: want }));
    await eventually(() => expect10(pgTarget(), want), 10_000);
    latencies.push(performance.now() - t);
    await new Promise((r) => setTimeout(r, 300));
  }
  await h.stop();
  latencies.sort((a, b) => a - b);
  console.log(
    `end to end, primary label flip -> provider change (controller, 200 ms sync spacing, flips 300 ms apart, 5 policies / 5,000 pods cached, no API server): p50 ${percentile(latencies, 50).toFixed(0)} ms, p99 ${percentile(latencies, 99).toFixed(0)} ms`,
  );
}

function expect10(actual: string | undefined, wanted: string): void {
  if (actual !== wanted) throw new Error(`target is ${actual ?? 'absent'}, want ${wanted}`);
}
