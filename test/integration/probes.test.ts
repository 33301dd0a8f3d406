/**
 * The DNSProbe controller against the envtest harness: a real kube-apiserver with
 * kube-controller-manager (ReplicaSet, disruption controllers), three real CoreDNS pods behind the
 * kube-dns Service, the Eviction API with PDBs. The controller runs in this process, as the
 * operator would, so (f) can starve its event loop.
 *
 *  (a) SIGSTOP one CoreDNS pod: Failing and the probe unhealthy within 500 ms, the pod evicted,
 *      replaced, and the probe Healthy again (times printed);
 *  (b) every CoreDNS forwarding to a dead upstream: DNSUnavailable/UpstreamFailure, no eviction;
 *  (c) erratic delay on one pod: RttSpike on that target only;
 *  (d) cooldown and the hourly cap hold while pods keep failing;
 *  (e) a PDB with maxUnavailable 0 blocks the eviction and the status says so;
 *  (f) the operator's CPU saturated by a 2 s busy loop in this process: no eviction.
 */
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { PolicyV1Api, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import pino from 'pino';
import type { DNSProbe } from '../../operator/api/types';
import type { Assessment } from '../../operator/probes/detector';
import { DNSProbeController } from '../../operator/probes/reconciler';
import { kubeRequest } from '../../operator/runtime/kube-http';
import { createMetrics, type Metrics } from '../../operator/runtime/metrics';
import { DnsopOperator } from '../../operator/runtime/operator';
import { applyObjects, readManifests, readObject, waitForDeletion } from '../envtest/apply';
import { ControlPlane } from '../envtest/control-plane';
import { CoreDnsCluster, type CoreDnsPod } from '../envtest/coredns-cluster';
import { waitFor } from '../envtest/wait';
import { startOperator } from './operator-fixture';

jest.setTimeout(300_000);

const ROOT = join(__dirname, '..', '..');
const NS = 'kube-system';
const QUERIES = [
  { name: 'kubernetes.default.svc.cluster.local', type: 'A' },
  { name: 'kube-dns.kube-system.svc.cluster.local', type: 'A' },
  { name: '_dns._udp.kube-dns.kube-system.svc.cluster.local', type: 'SRV' },
];

let plane: ControlPlane;
let kc: KubeConfig;
let dns: CoreDnsCluster;
let operator: DnsopOperator;
let controller: DNSProbeController;
let metrics: Metrics;
const audit: Record<string, unknown>[] = [];

interface EventItem {
  reason?: string;
  note?: string;
  type?: string;
  regarding?: { name?: string };
}

beforeAll(async () => {
  plane = await ControlPlane.start({ controllerManager: true });
  kc = plane.kubeConfig;
  await applyObjects(
    kc,
    readManifests(join(ROOT, 'crds')).filter((o) => o.kind === 'CustomResourceDefinition'),
  );
  dns = await CoreDnsCluster.start(plane, { replicas: 3 });
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _enc, cb): void {
        for (const line of chunk.toString().split('\n')) {
          if (line.includes('"audit"')) audit.push(JSON.parse(line) as Record<string, unknown>);
        }
        cb();
      },
    }),
  );
  metrics = createMetrics(undefined, { processMetrics: false });
  controller = new DNSProbeController();
  ({ operator } = await startOperator(kc, [controller], {
    config: { identity: 'dnsop-itest-0' },
    logger,
    metrics,
  }));
});

afterAll(async () => {
  await operator?.shutdown();
  await dns?.stop();
  await plane?.stop();
});

// --- helpers ---

function probeObject(name: string, spec: Record<string, unknown>): KubernetesObject {
  return {
    apiVersion: 'dnsop.io/v1alpha1',
    kind: 'DNSProbe',
    metadata: { name, namespace: NS },
    spec: {
      server: { serviceRef: { name: 'kube-dns', namespace: NS }, port: dns.dnsPort },
      queries: QUERIES,
      interval: '100ms',
      timeout: '100ms',
      remediation: { mode: 'Evict', cooldown: '5m', maxEvictionsPerHour: 3, minReadyPods: 1 },
      ...spec,
    },
  } as KubernetesObject;
}

async function applyProbe(name: string, spec: Record<string, unknown> = {}): Promise<void> {
  await applyObjects(kc, [probeObject(name, spec)]);
}

async function deleteProbe(name: string): Promise<void> {
  const ref = { apiVersion: 'dnsop.io/v1alpha1', kind: 'DNSProbe', namespace: NS, name };
  await kubeRequest(kc, {
    method: 'DELETE',
    path: `/apis/dnsop.io/v1alpha1/namespaces/${NS}/dnsprobes/${name}`,
  });
  await waitForDeletion(kc, ref);
}

async function status(name: string): Promise<DNSProbe['status']> {
  const obj = await readObject<DNSProbe & KubernetesObject>(kc, {
    apiVersion: 'dnsop.io/v1alpha1',
    kind: 'DNSProbe',
    namespace: NS,
    name,
  });
  return obj?.status;
}

function cond(s: DNSProbe['status'], type: string): string | undefined {
  const c = s?.conditions?.find((x) => x.type === type);
  return c === undefined ? undefined : `${c.status}/${c.reason}`;
}

async function waitStatus(
  name: string,
  what: string,
  predicate: (s: NonNullable<DNSProbe['status']>) => boolean,
  timeoutMs = 30_000,
): Promise<NonNullable<DNSProbe['status']>> {
  return waitFor(
    `${name}: ${what}`,
    async () => {
      const s = await status(name);
      return s !== undefined && predicate(s) ? s : undefined;
    },
    { timeoutMs, intervalMs: 50 },
  );
}

/** Healthy with the Service and every running pod as targets, all Healthy. */
async function waitHealthy(name: string, timeoutMs = 60_000): Promise<void> {
  await waitStatus(
    name,
    'Healthy with every pod probed',
    (s) =>
      cond(s, 'Healthy') === 'True/AllTargetsHealthy' &&
      s.targets?.length === 1 + dns.readyPods().length &&
      s.targets.every((t) => t.state === 'Healthy'),
    timeoutMs,
  );
}

function assessment(name: string): Assessment | undefined {
  return controller.runtime(`${NS}/${name}`)?.engine.last;
}

async function events(name: string): Promise<EventItem[]> {
  const list = await kubeRequest<{ items: EventItem[] }>(kc, {
    method: 'GET',
    path: `/apis/events.k8s.io/v1/namespaces/${NS}/events`,
  });
  return list.items.filter((e) => e.regarding?.name === name);
}

async function evictedCount(name: string): Promise<number> {
  const text = await metrics.registry.metrics();
  const m = new RegExp(
    `dnsop_remediations_total\\{probe="${NS}/${name}",outcome="evicted"\\} (\\d+)`,
  ).exec(text);
  return m === null ? 0 : Number(m[1]);
}

/** Polls `fn` every ms until it is true; returns the time (performance.now()) it became true. */
async function when(what: string, fn: () => boolean, timeoutMs = 10_000): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (fn()) return performance.now();
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

const ms = (n: number): string => `${n.toFixed(0)} ms`;

async function threeReadyPods(): Promise<CoreDnsPod[]> {
  return dns.waitForReadyPods(3, 60_000);
}

// --- scenarios ---

it('(a) SIGSTOP one CoreDNS pod: Failing within 500 ms, evicted, replaced, Healthy again', async () => {
  await threeReadyPods();
  await applyProbe('a-sigstop');
  await waitHealthy('a-sigstop');
  const victim = dns.readyPods()[0]!;
  const t0 = performance.now();
  victim.pause();
  try {
    const failing = await when(
      'victim Failing',
      () =>
        assessment('a-sigstop')?.targets.some(
          (t) => t.identity.pod === victim.podName && t.state === 'Failing',
        ) === true,
    );
    const unhealthy = await when('probe not Healthy', () => {
      const s = assessment('a-sigstop')?.state;
      return s === 'Degraded' || s === 'DNSUnavailable';
    });
    const st = await waitStatus(
      'a-sigstop',
      'victim Failing in status',
      (s) => s.targets?.some((t) => t.pod === victim.podName && t.state === 'Failing') === true,
    );
    const statusAt = performance.now();
    expect(cond(st, 'Healthy')).toMatch(/^False\//);
    const evicted = await waitStatus(
      'a-sigstop',
      'lastRemediation',
      (s) => s.lastRemediation?.pod === victim.podName,
    );
    const evictedAt = performance.now();
    expect(evicted.lastRemediation?.reason).toMatch(/consecutive probe failures .* not ready/);
    await waitFor(
      'victim pod gone',
      () => (dns.pods().some((p) => p.podName === victim.podName) ? undefined : true),
      {
        timeoutMs: 30_000,
      },
    );
    await threeReadyPods();
    await waitHealthy('a-sigstop');
    const healthyAt = performance.now();
    console.log(
      `(a) SIGSTOP ${victim.podName}: target Failing after ${ms(failing - t0)}, probe unhealthy after ${ms(unhealthy - t0)} ` +
        `(in the controller), in status after ${ms(statusAt - t0)}; evicted (status.lastRemediation) after ${ms(evictedAt - t0)}; ` +
        `Healthy again with the replacement after ${ms(healthyAt - t0)}`,
    );
    expect(failing - t0).toBeLessThan(500);
    expect(unhealthy - t0).toBeLessThan(500);
    expect(await evictedCount('a-sigstop')).toBe(1);
    const reasons = (await events('a-sigstop')).map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(['TargetFailing', 'Evicted']));
    expect(
      audit.some(
        (l) =>
          (l['audit'] as { what?: string; pod?: string }).what === 'evict' &&
          (l['audit'] as { pod?: string }).pod === victim.podName,
      ),
    ).toBe(true);
  } finally {
    victim.resume();
    await deleteProbe('a-sigstop');
  }
});

it('(b) every CoreDNS forwarding to a dead upstream: DNSUnavailable/UpstreamFailure and no eviction', async () => {
  const pods = await threeReadyPods();
  const names = pods.map((p) => p.podName).sort();
  await applyProbe('b-upstream', {
    queries: [QUERIES[0], { name: 'www.upstream.test', type: 'A' }],
  });
  await waitHealthy('b-upstream');
  const t0 = performance.now();
  try {
    for (const p of pods) await p.setBehaviour({ upstream: 'dead' });
    const st = await waitStatus(
      'b-upstream',
      'UpstreamFailure',
      (s) => cond(s, 'DNSUnavailable') === 'True/UpstreamFailure',
    );
    console.log(
      `(b) dead upstream on every pod: DNSUnavailable/UpstreamFailure in status after ${ms(performance.now() - t0)} (from the first reload)`,
    );
    expect(st.anomalies?.map((a) => a.signal)).toEqual(
      expect.arrayContaining(['ConsecutiveFailures']),
    );
    await new Promise((r) => setTimeout(r, 3000));
    expect(await evictedCount('b-upstream')).toBe(0);
    expect(
      dns
        .pods()
        .map((p) => p.podName)
        .sort(),
    ).toEqual(names);
    const reasons = (await events('b-upstream')).map((e) => e.reason);
    expect(reasons).not.toContain('Evicted');
    expect(reasons).toContain('UpstreamFailure');
    expect(cond(await status('b-upstream'), 'Remediating')).not.toMatch(/^True/);
  } finally {
    for (const p of pods) await p.setBehaviour({});
    await deleteProbe('b-upstream');
  }
});

it('(c) erratic delay on one pod: RTT spike on that target only', async () => {
  const pods = await threeReadyPods();
  await applyProbe('c-erratic', {
    server: { addresses: pods.map((p) => p.ip), port: dns.dnsPort },
    queries: [QUERIES[0]],
    remediation: { mode: 'Off' },
  });
  await waitStatus('c-erratic', 'Healthy', (s) => cond(s, 'Healthy') === 'True/AllTargetsHealthy');
  // A baseline for the RTT window (30 samples older than the 1 s recent window).
  await new Promise((r) => setTimeout(r, 6000));
  const victim = pods[1]!;
  const t0 = performance.now();
  try {
    await victim.setBehaviour({ erratic: { delay: { every: 1, ms: 40 } } });
    const spikeOf = (): { value: number; threshold: number } | undefined =>
      assessment('c-erratic')
        ?.targets.find((t) => t.identity.address === victim.ip)
        ?.signals.find((x) => x.signal === 'RttSpike');
    const spikeAt = await when('RttSpike on the victim', () => spikeOf() !== undefined, 20_000);
    // The value is the recent median RTT: it reaches the injected 40 ms (not a reload hiccup).
    let spike = spikeOf();
    const fullAt = await when(
      'the spike at the injected delay',
      () => (spike = spikeOf() ?? spike)!.value > 30,
      10_000,
    );
    const st = await waitStatus(
      'c-erratic',
      'RttSpike anomaly in status',
      (s) => s.anomalies?.some((a) => a.signal === 'RttSpike' && a.target === victim.ip) === true,
    );
    console.log(
      `(c) erratic 40 ms delay on ${victim.podName}: RttSpike after ${ms(spikeAt - t0)} (from the reload), ` +
        `median ${spike!.value.toFixed(2)} ms > threshold ${spike!.threshold.toFixed(2)} ms after ${ms(fullAt - t0)}`,
    );
    // For two more seconds, no other target shows a spike.
    const until = performance.now() + 2000;
    while (performance.now() < until) {
      const others =
        assessment('c-erratic')?.targets.filter((t) => t.identity.address !== victim.ip) ?? [];
      expect(others.flatMap((t) => t.signals.map((s) => s.signal))).not.toContain('RttSpike');
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(st.anomalies!.filter((a) => a.signal === 'RttSpike').map((a) => a.target)).toEqual([
      victim.ip,
    ]);
  } finally {
    await victim.setBehaviour({});
    await deleteProbe('c-erratic');
  }
});

it('(d) cooldown and hourly cap hold while pods keep failing', async () => {
  await threeReadyPods();
  await applyProbe('d-caps', {
    remediation: { mode: 'Evict', cooldown: '10m', maxEvictionsPerHour: 3, minReadyPods: 1 },
  });
  await waitHealthy('d-caps');
  const first = dns.readyPods()[0]!;
  first.pause();
  let second: CoreDnsPod | undefined;
  try {
    await waitStatus('d-caps', 'first eviction', (s) => s.lastRemediation?.pod === first.podName);
    await waitFor(
      'first pod gone',
      () => (dns.pods().some((p) => p.podName === first.podName) ? undefined : true),
      {
        timeoutMs: 30_000,
      },
    );
    await threeReadyPods();
    second = dns.readyPods().find((p) => p.podName !== first.podName)!;
    second.pause();
    const cool = await waitStatus(
      'd-caps',
      'Cooldown',
      (s) => cond(s, 'Remediating') === 'False/Cooldown',
    );
    console.log(
      `(d) second failing pod refused: ${cool.conditions?.find((c) => c.type === 'Remediating')?.message}`,
    );
    await new Promise((r) => setTimeout(r, 3000));
    expect(dns.pods().some((p) => p.podName === second!.podName)).toBe(true);
    expect(await evictedCount('d-caps')).toBe(1);
    // Cooldown down to 1 s, cap to 1 per hour: the cap now holds (the one eviction is in status).
    await applyProbe('d-caps', {
      remediation: { mode: 'Evict', cooldown: '1s', maxEvictionsPerHour: 1, minReadyPods: 1 },
    });
    const capped = await waitStatus(
      'd-caps',
      'HourlyCapReached',
      (s) => cond(s, 'Remediating') === 'False/HourlyCapReached',
    );
    console.log(
      `(d) after lowering the cooldown: ${capped.conditions?.find((c) => c.type === 'Remediating')?.message}`,
    );
    await new Promise((r) => setTimeout(r, 3000));
    expect(dns.pods().some((p) => p.podName === second!.podName)).toBe(true);
    const reasons = (await events('d-caps')).map((e) => e.reason);
    expect(reasons).toEqual(
      expect.arrayContaining(['Evicted', 'RemediationCooldown', 'RemediationHourlyCapReached']),
    );
    expect(reasons.filter((r) => r === 'Evicted')).toHaveLength(1);
  } finally {
    first.resume();
    second?.resume();
    await deleteProbe('d-caps');
  }
});

it('(e) a PDB with maxUnavailable 0 blocks the eviction and the status says so', async () => {
  await threeReadyPods();
  const policy = kc.makeApiClient(PolicyV1Api);
  await policy.createNamespacedPodDisruptionBudget({
    namespace: NS,
    body: {
      metadata: { name: 'coredns-no-disruption' },
      spec: { maxUnavailable: 0, selector: { matchLabels: { 'k8s-app': 'kube-dns' } } },
    },
  });
  await applyProbe('e-pdb');
  await waitHealthy('e-pdb');
  const victim = dns.readyPods()[2]!;
  victim.pause();
  try {
    const st = await waitStatus(
      'e-pdb',
      'EvictionBlocked',
      (s) => cond(s, 'Remediating') === 'False/EvictionBlocked',
    );
    const message = st.conditions?.find((c) => c.type === 'Remediating')?.message ?? '';
    console.log(`(e) Remediating=False/EvictionBlocked: ${message}`);
    expect(message).toMatch(/PodDisruptionBudget/);
    await new Promise((r) => setTimeout(r, 2000));
    expect(dns.pods().some((p) => p.podName === victim.podName)).toBe(true);
    expect((await events('e-pdb')).find((e) => e.reason === 'EvictionBlocked')?.type).toBe(
      'Warning',
    );
    expect(await evictedCount('e-pdb')).toBe(0);
  } finally {
    victim.resume();
    await policy.deleteNamespacedPodDisruptionBudget({
      name: 'coredns-no-disruption',
      namespace: NS,
    });
    await deleteProbe('e-pdb');
  }
});

it('(f) a 2 s busy loop in the operator process: nothing counted against CoreDNS, no eviction', async () => {
  const pods = await threeReadyPods();
  const names = pods.map((p) => p.podName).sort();
  await applyProbe('f-busy');
  await waitHealthy('f-busy');
  const runtime = controller.runtime(`${NS}/f-busy`)!;
  const before = { ...runtime.engine.scheduler.stats };
  const started = Date.now();
  while (Date.now() - started < 2000) {
    // the operator's CPU is saturated: timers, sockets and the readiness checks all wait
  }
  const sawFailing: string[] = [];
  const until = performance.now() + 3000;
  while (performance.now() < until) {
    for (const t of assessment('f-busy')?.targets ?? []) {
      if (t.state === 'Failing' || t.ready === false)
        sawFailing.push(`${t.identity.address}:${t.state}:${String(t.ready)}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  const after = runtime.engine.scheduler.stats;
  console.log(
    `(f) 2 s busy loop: ${after.lagExcluded - before.lagExcluded} results not counted (lag), ` +
      `${after.lateRephased - before.lateRephased} late probes re-phased instead of sent; evictions ${await evictedCount('f-busy')}`,
  );
  try {
    expect(sawFailing).toEqual([]);
    expect(await evictedCount('f-busy')).toBe(0);
    expect(
      dns
        .pods()
        .map((p) => p.podName)
        .sort(),
    ).toEqual(names);
    expect((await events('f-busy')).map((e) => e.reason)).not.toContain('TargetFailing');
    expect(after.lateRephased - before.lateRephased).toBeGreaterThan(0);
  } finally {
    await deleteProbe('f-busy');
  }
});
