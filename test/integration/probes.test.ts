/**
 * The DNSProbe controller against the envtest harness: a real kube-apiserver with
 * kube-controller-manager (ReplicaSet, disruption controllers), three real CoreDNS pods behind the
 * kube-dns Service, the Eviction API with PDBs. The controller runs in this process, as the
 * operator would, so (f) can starve its event loop.
 *
 *  (a) SIGSTOP one CoreDNS pod: Failing, the pod evicted, replaced, and the probe Healthy again
 *      (times printed: hang -> Failing, -> eviction accepted by the API server; the p99 figures are
 *      `npm run bench -- probes`);
 *  (b) every CoreDNS forwarding to a dead upstream: DNSUnavailable/UpstreamFailure, no eviction;
 *  (c) erratic delay on one pod: RttSpike on that target only;
 *  (d) cooldown and the hourly cap hold while pods keep failing;
 *  (e) a PDB with maxUnavailable 0 blocks the eviction and the status says so;
 *  (f) the operator's CPU saturated by a 2 s busy loop in this process: no eviction;
 *  (g) one hung pod of three: Degraded (PodFailure), not DNSUnavailable; the Service target is
 *      never Failing; few Events and status writes; kstatus Current, Argo CD Healthy;
 *  (h) messages that lead with the cause: a wrong port and a missing Service (with its namespace),
 *      each with an Event, dnsop_dns_unavailable 1, kstatus Failed, Argo CD Degraded;
 *  (i) GitOps verdicts while starting (InProgress / Progressing), when a spec cannot run (Failed);
 *  (j) TCP transport against real CoreDNS, a hung pod seen over TCP too;
 *  (k) a record set too large for UDP: the truncated answer is retried over TCP (TC bit);
 *  (l) the eviction history in status: neither a spec edit nor a new leader resets the hourly cap.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { PolicyV1Api, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import pino from 'pino';
import type { DNSProbe } from '../../operator/api/types';
import type { Assessment } from '../../operator/probes/detector';
import { prepareQuery } from '../../operator/probes/query';
import { DNSProbeController } from '../../operator/probes/reconciler';
import { makeTarget, probeOnce } from '../../operator/probes/resolver';
import { kubeRequest } from '../../operator/runtime/kube-http';
import { createMetrics, type Metrics } from '../../operator/runtime/metrics';
import { DnsopOperator } from '../../operator/runtime/operator';
import { applyObjects, readManifests, readObject, waitForDeletion } from '../envtest/apply';
import { ControlPlane } from '../envtest/control-plane';
import { CoreDnsCluster, type CoreDnsPod } from '../envtest/coredns-cluster';
import { argoHealthOf, kstatusOf } from '../envtest/health';
import { freeDualPort } from '../envtest/net';
import { waitFor } from '../envtest/wait';
import { TimedEviction } from '../support/timed-eviction';
import { startOperator } from './operator-fixture';

jest.setTimeout(300_000);

const ROOT = join(__dirname, '..', '..');
const NS = 'kube-system';
const QUERIES = [
  { name: 'kubernetes.default.svc.cluster.local', type: 'A' },
  { name: 'kube-dns.kube-system.svc.cluster.local', type: 'A' },
  { name: '_dns._udp.kube-dns.kube-system.svc.cluster.local', type: 'SRV' },
];

const LUA = readFileSync(join(ROOT, 'deploy', 'argocd', 'health.lua'), 'utf8');

let plane: ControlPlane;
let kc: KubeConfig;
let dns: CoreDnsCluster;
let operator: DnsopOperator;
let controller: DNSProbeController;
let metrics: Metrics;
const audit: Record<string, unknown>[] = [];

const eviction = new TimedEviction(() => kc);

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
  const log = pino(
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
  await startController(log);
});

let logger: pino.Logger;

/** Starts (or, after a shutdown, starts again: a new leader) the operator with the controller. */
async function startController(log: pino.Logger = logger): Promise<void> {
  logger = log;
  controller = new DNSProbeController({ eviction });
  ({ operator } = await startOperator(kc, [controller], {
    config: { identity: 'dnsop-itest-0' },
    logger,
    metrics,
  }));
}

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

async function liveProbe(name: string, namespace = NS): Promise<KubernetesObject> {
  const obj = await readObject(kc, {
    apiVersion: 'dnsop.io/v1alpha1',
    kind: 'DNSProbe',
    namespace,
    name,
  });
  if (obj === undefined) throw new Error(`DNSProbe ${namespace}/${name} not found`);
  return obj;
}

/** kstatus's and Argo CD's verdicts on the live object, as "status: message". */
async function gitOpsVerdicts(
  name: string,
  namespace = NS,
): Promise<{ kstatus: string; argo: string; kstatusMessage: string; argoMessage: string }> {
  const obj = await liveProbe(name, namespace);
  const [[k], [a]] = await Promise.all([kstatusOf([obj]), argoHealthOf(LUA, [obj])]);
  return {
    kstatus: k!.status,
    argo: a!.status,
    kstatusMessage: k!.message,
    argoMessage: a!.message,
  };
}

async function metricValue(pattern: RegExp): Promise<number | undefined> {
  const m = pattern.exec(await metrics.registry.metrics());
  return m === null ? undefined : Number(m[1]);
}

async function dnsUnavailableMetric(name: string): Promise<number | undefined> {
  return metricValue(new RegExp(`dnsop_dns_unavailable\\{probe="${NS}/${name}"\\} (\\d+)`));
}

/** DNS requests a CoreDNS pod received over TCP (its prometheus plugin). */
async function coreDnsTcpRequests(pod: CoreDnsPod): Promise<number> {
  const text = await (await fetch(pod.metricsUrl)).text();
  let total = 0;
  for (const m of text.matchAll(/^coredns_dns_requests_total\{[^}]*proto="tcp"[^}]*\} (\S+)$/gm))
    total += Number(m[1]);
  return total;
}

async function threeReadyPods(): Promise<CoreDnsPod[]> {
  return dns.waitForReadyPods(3, 60_000);
}

// --- scenarios ---

it('(a) SIGSTOP one CoreDNS pod: Failing at once, evicted, replaced, Healthy again', async () => {
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
    // Status is level-based, written at most a few times a second: on a loaded machine the write
    // that would show the victim Failing can come after its eviction took it out of the targets.
    const victimFailing = (s: DNSProbe['status']): boolean =>
      s?.targets?.some((t) => t.pod === victim.podName && t.state === 'Failing') === true;
    const st = await waitStatus(
      'a-sigstop',
      'victim Failing (or already evicted) in status',
      (s) => victimFailing(s) || s.lastRemediation?.pod === victim.podName,
    );
    const statusAt = performance.now();
    if (victimFailing(st)) expect(cond(st, 'Healthy')).toMatch(/^False\//);
    const evicted = await waitStatus(
      'a-sigstop',
      'lastRemediation',
      (s) => s.lastRemediation?.pod === victim.podName,
    );
    const evictedAt = performance.now();
    const acceptedAt = eviction.accepted.find((e) => e.pod === victim.podName)!.at;
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
        `(in the controller), in status after ${ms(statusAt - t0)}; eviction accepted by the API server after ${ms(acceptedAt - t0)}, ` +
        `in status (lastRemediation) after ${ms(evictedAt - t0)}; Healthy again with the replacement after ${ms(healthyAt - t0)}`,
    );
    // Margins for a loaded machine (the speed claims are the bench's): an interval and a few
    // short deadlines, not seconds.
    expect(failing - t0).toBeLessThan(1000);
    expect(unhealthy - t0).toBeLessThan(1000);
    // One hung pod of three: Degraded, not "cluster DNS unavailable".
    expect(cond(st, 'DNSUnavailable')).toBe('False/Available');
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

// The upstream itself dies, as in an outage: every pod answers SERVFAIL from the same moment.
// (Rolling a dead upstream into the Corefiles pod by pod is another fault: the first pod fails
// alone, a reload blips its ready endpoint, and DESIGN.md allows evicting a failing, not-ready pod
// while the others answer; on a loaded machine that raced this test's no-eviction check.)
it('(b) every CoreDNS forwarding to a dead upstream: DNSUnavailable/UpstreamFailure and no eviction', async () => {
  const pods = await threeReadyPods();
  const names = pods.map((p) => p.podName).sort();
  await applyProbe('b-upstream', {
    queries: [QUERIES[0], { name: 'www.upstream.test', type: 'A' }],
  });
  await waitHealthy('b-upstream');
  const t0 = performance.now();
  try {
    await dns.upstreamDown();
    const st = await waitStatus(
      'b-upstream',
      'UpstreamFailure',
      (s) => cond(s, 'DNSUnavailable') === 'True/UpstreamFailure',
    );
    console.log(
      `(b) dead upstream on every pod: DNSUnavailable/UpstreamFailure in status after ${ms(performance.now() - t0)}`,
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
    await dns.upstreamUp();
    await deleteProbe('b-upstream');
  }
});

it('(c) erratic delay on one pod: RTT spike on that target only', async () => {
  const pods = await threeReadyPods();
  await applyProbe('c-erratic', {
    server: { addresses: pods.map((p) => p.ip), port: dns.dnsPort },
    queries: [QUERIES[0], QUERIES[1]],
    // Room for a delay well above a loaded machine's RTT noise (see below); timeout <= interval.
    interval: '250ms',
    timeout: '250ms',
    // The three CoreDNS processes share this machine's two cores: the victim's own reload (the
    // fault injection) and a busy CI neighbour slow the others for a moment too, which at 3σ is
    // an RttSpike on them as well (seen under a 4-process CPU hog). Pods of a real cluster sit on
    // separate nodes; here a 6σ threshold keeps the others quiet, and the victim's delay below is
    // scaled to it.
    thresholds: { rttSpikeSigma: 6 },
    remediation: { mode: 'Off' },
  });
  await waitStatus('c-erratic', 'Healthy', (s) => cond(s, 'Healthy') === 'True/AllTargetsHealthy');
  const victim = pods[1]!;
  // A baseline for the RTT window: 30 samples older than the 1 s recent window, on every target
  // (waited for, not slept: a loaded machine loses samples to lag exclusion).
  const baseline = await waitFor(
    'an RTT baseline on every target',
    () => {
      const runtime = controller.runtime(`${NS}/c-erratic`);
      const now = performance.now();
      const rtts = runtime?.engine.entries().map((e) => e.window.snapshot(now).rtt);
      return rtts !== undefined && rtts.length === 3 && rtts.every((r) => r.baselineCount >= 40)
        ? rtts
        : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 100 },
  );
  // The spike threshold is mean + 6σ of the window: on a busy machine (CI: 2 shared cores) the
  // RTT noise alone can put it above 40 ms. Inject twice the highest threshold, at least 40 ms.
  const threshold = Math.max(...baseline.map((r) => r.baselineMean + 6 * r.baselineStd));
  const delayMs = Math.min(200, Math.max(40, Math.ceil(2 * threshold)));
  // Watch from before the fault: the spike shows while the delay is new to the 60 s window, and
  // the reload may be slow to report on a busy machine; an assertion made only after it returned
  // could look after the spike has already been absorbed.
  type Seen = { at: number; value: number; threshold: number };
  let first: Seen | undefined;
  let top: Seen | undefined;
  const othersSpiking: string[] = [];
  let watching = true;
  const watcher = (async (): Promise<void> => {
    while (watching) {
      for (const t of assessment('c-erratic')?.targets ?? []) {
        const spike = t.signals.find((x) => x.signal === 'RttSpike');
        if (spike === undefined) continue;
        if (t.identity.address !== victim.ip) {
          othersSpiking.push(t.identity.address);
          continue;
        }
        const seen = { at: performance.now(), value: spike.value, threshold: spike.threshold };
        first ??= seen;
        if (top === undefined || seen.value > top.value) top = seen;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  // The spike lasts about a second (the delayed answers soon enter the window's baseline), often
  // while the status budget is spent on the victim's Failing/Healthy flaps from the reload; status
  // keeps a cleared anomaly for a minute (with until), so it shows by the next periodic write.
  const inStatus = waitStatus(
    'c-erratic',
    'RttSpike anomaly in status',
    (s) => s.anomalies?.some((a) => a.signal === 'RttSpike' && a.target === victim.ip) === true,
    60_000,
  );
  const t0 = performance.now();
  const injectedAt = Date.now();
  try {
    await victim.setBehaviour({ erratic: { delay: { every: 1, ms: delayMs } } });
    const st = await inStatus;
    await waitFor(
      'the spike at the injected delay',
      () => ((top?.value ?? 0) > 0.75 * delayMs ? true : undefined),
      {
        timeoutMs: 30_000,
        intervalMs: 20,
      },
    );
    // Two more seconds in which no other target may show a spike.
    await new Promise((r) => setTimeout(r, 2000));
    watching = false;
    await watcher;
    console.log(
      `(c) erratic ${delayMs} ms delay on ${victim.podName}: RttSpike after ${ms(first!.at - t0)} (from the reload), ` +
        `median ${top!.value.toFixed(2)} ms > threshold ${top!.threshold.toFixed(2)} ms after ${ms(top!.at - t0)}`,
    );
    expect(othersSpiking).toEqual([]);
    // Status lists a minute of anomalies: those that cleared before the fault are not about it.
    const sinceFault = st.anomalies!.filter(
      (a) =>
        a.signal === 'RttSpike' && (a.until === undefined || Date.parse(a.until) >= injectedAt),
    );
    expect(sinceFault.map((a) => a.target)).toEqual([victim.ip]);
  } finally {
    watching = false;
    await watcher;
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

it('(g) one hung pod of three: Degraded (PodFailure), not DNSUnavailable; quiet Events and status', async () => {
  await threeReadyPods();
  await applyProbe('g-one-of-three', { remediation: { mode: 'Off' } });
  await waitHealthy('g-one-of-three');
  expect(await gitOpsVerdicts('g-one-of-three')).toMatchObject({
    kstatus: 'Current',
    argo: 'Healthy',
  });
  const runtime = controller.runtime(`${NS}/g-one-of-three`)!;
  const victim = dns.readyPods()[0]!;
  victim.pause();
  try {
    const st = await waitStatus(
      'g-one-of-three',
      'Degraded/PodFailure',
      (s) => cond(s, 'Degraded') === 'True/PodFailure',
    );
    expect(cond(st, 'DNSUnavailable')).toBe('False/Available');
    expect(cond(st, 'Ready')).toBe('True/PodFailure');
    const message = st.conditions!.find((c) => c.type === 'Degraded')!.message;
    expect(message.startsWith(`pod ${victim.podName} (${victim.ip}) failing its probes`)).toBe(
      true,
    );
    // 15 s with the pod hung: the Service address is never Failing, the probe never unavailable.
    const writesBefore = runtime.statusWrites;
    const warningsBefore = (await events('g-one-of-three')).filter(
      (e) => e.type === 'Warning',
    ).length;
    const serviceStates = new Set<string>();
    const probeStates = new Set<string>();
    let changes = 0;
    let last = '';
    const until = performance.now() + 15_000;
    while (performance.now() < until) {
      const a = assessment('g-one-of-three');
      if (a !== undefined) {
        probeStates.add(`${a.state}/${a.reason ?? ''}`);
        for (const t of a.targets) if (t.identity.kind === 'Service') serviceStates.add(t.state);
        const now = [a.state, ...a.targets.map((t) => t.state)].join(',');
        if (last !== '' && now !== last) changes++;
        last = now;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    const writes = runtime.statusWrites - writesBefore;
    const warnings =
      (await events('g-one-of-three')).filter((e) => e.type === 'Warning').length - warningsBefore;
    console.log(
      `(g) one of three pods hung 15 s: probe ${[...probeStates].join(', ')}, Service target ${[...serviceStates].join(', ')}; ` +
        `${changes} target state changes, ${writes} status writes, ${warnings} new Warning Events`,
    );
    expect(serviceStates).not.toContain('Failing');
    expect([...probeStates]).toEqual(['Degraded/PodFailure']);
    expect(await dnsUnavailableMetric('g-one-of-three')).toBe(0);
    // State changes (within the write budget; one may be left from before the window) and the
    // periodic write every 10 s (at most 2 in 15 s), nothing more.
    expect(writes).toBeLessThanOrEqual(changes + 3);
    expect(writes).toBeLessThanOrEqual(4 + 15 / 2);
    expect(warnings).toBeLessThanOrEqual(3);
    expect(await gitOpsVerdicts('g-one-of-three')).toMatchObject({
      kstatus: 'Current',
      argo: 'Healthy',
    });
  } finally {
    victim.resume();
    await deleteProbe('g-one-of-three');
  }
});

it('(h) a wrong port and a missing Service: the cause first, an Event, dns_unavailable 1, Failed', async () => {
  await applyProbe('h-port', {
    server: { serviceRef: { name: 'kube-dns', namespace: NS }, port: 5353 },
    remediation: { mode: 'Off' },
  });
  await applyProbe('h-missing', {
    server: { serviceRef: { name: 'kube-dnss' }, port: dns.dnsPort },
    remediation: { mode: 'Off' },
  });
  try {
    const port = await waitStatus(
      'h-port',
      'ServicePortNotFound',
      (s) => cond(s, 'DNSUnavailable') === 'True/ServicePortNotFound',
    );
    const portMessage = port.conditions!.find((c) => c.type === 'Stalled')!.message;
    expect(portMessage).toMatch(
      new RegExp(
        `^Service kube-system/kube-dns has no port 5353 \\(it has ${dns.dnsPort}/UDP, ${dns.dnsPort}/TCP\\): set spec\\.server\\.port`,
      ),
    );
    const missing = await waitStatus(
      'h-missing',
      'ServiceNotFound',
      (s) => cond(s, 'DNSUnavailable') === 'True/ServiceNotFound',
    );
    const missingMessage = missing.conditions!.find((c) => c.type === 'Stalled')!.message;
    expect(missingMessage).toMatch(/^Service kube-system\/kube-dnss not found/);
    console.log(`(h) wrong port: ${portMessage}\n(h) missing Service: ${missingMessage}`);
    for (const [name, reason] of [
      ['h-port', 'ServicePortNotFound'],
      ['h-missing', 'ServiceNotFound'],
    ] as const) {
      await waitFor(
        `${name}: a ${reason} Event`,
        async () =>
          (await events(name)).some((e) => e.reason === reason && e.type === 'Warning')
            ? true
            : undefined,
        { timeoutMs: 10_000 },
      );
      expect(await dnsUnavailableMetric(name)).toBe(1);
      const v = await gitOpsVerdicts(name);
      expect(v).toMatchObject({ kstatus: 'Failed', argo: 'Degraded' });
      expect(v.argoMessage).toContain(reason);
    }
  } finally {
    await deleteProbe('h-port');
    await deleteProbe('h-missing');
  }
});

it('(i) GitOps verdicts while starting (InProgress / Progressing) and when a spec cannot run (Failed)', async () => {
  // A server that never answers and a 3 s timeout: no result before 3 s (a target that never
  // answered has no adaptive deadline), so the live object shows the starting state for a while.
  const silent = await freeDualPort('127.0.0.1');
  await applyProbe('i-start', {
    server: { addresses: ['127.0.0.1'], port: silent },
    interval: '3s',
    timeout: '3s',
    remediation: { mode: 'Off' },
  });
  const tenant = 'dnsprobe-tenant';
  await applyObjects(kc, [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: tenant } }]);
  try {
    await waitStatus('i-start', 'Reconciling', (s) => cond(s, 'Reconciling') === 'True/Starting');
    expect(await gitOpsVerdicts('i-start')).toMatchObject({
      kstatus: 'InProgress',
      argo: 'Progressing',
    });
    await waitStatus(
      'i-start',
      'DNSUnavailable',
      (s) => cond(s, 'DNSUnavailable') === 'True/UpstreamFailure',
    );
    expect(await gitOpsVerdicts('i-start')).toMatchObject({ kstatus: 'Failed', argo: 'Degraded' });
    // A spec its namespace may not run (Evict outside a trusted namespace): Stalled, Failed.
    await applyObjects(kc, [
      {
        ...probeObject('i-refused', {
          server: { serviceRef: { name: 'dns' }, port: 53 },
          remediation: { mode: 'Evict' },
        }),
        metadata: { name: 'i-refused', namespace: tenant },
      },
    ]);
    await waitFor(
      'i-refused Stalled',
      async () => {
        const obj = (await liveProbe('i-refused', tenant)) as DNSProbe & KubernetesObject;
        return cond(obj.status, 'Stalled') === 'True/Forbidden' ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 50 },
    );
    expect(await gitOpsVerdicts('i-refused', tenant)).toMatchObject({
      kstatus: 'Failed',
      argo: 'Degraded',
    });
  } finally {
    await deleteProbe('i-start');
    await kubeRequest(kc, {
      method: 'DELETE',
      path: `/apis/dnsop.io/v1alpha1/namespaces/${tenant}/dnsprobes/i-refused`,
    }).catch(() => undefined);
  }
});

it('(j) TCP transport against real CoreDNS: Healthy over TCP, and a hung pod Failing over TCP', async () => {
  const pods = await threeReadyPods();
  const before = await Promise.all(pods.map(coreDnsTcpRequests));
  await applyProbe('j-tcp', {
    transport: 'TCP',
    queries: [QUERIES[0]],
    remediation: { mode: 'Off' },
  });
  await waitHealthy('j-tcp');
  // Every pod answers the probes over TCP (its own counter, not ours).
  const after = await waitFor(
    'TCP queries on every CoreDNS pod',
    async () => {
      const now = await Promise.all(pods.map(coreDnsTcpRequests));
      return now.every((n, i) => n > before[i]! + 5) ? now : undefined;
    },
    { timeoutMs: 20_000, intervalMs: 200 },
  );
  const victim = pods[0]!;
  victim.pause();
  try {
    const t0 = performance.now();
    const failing = await when(
      'victim Failing over TCP',
      () =>
        assessment('j-tcp')?.targets.some(
          (t) => t.identity.pod === victim.podName && t.state === 'Failing',
        ) === true,
    );
    console.log(
      `(j) TCP: ${after.map((n, i) => n - before[i]!).join(', ')} TCP queries per pod while Healthy; ` +
        `hung ${victim.podName} Failing after ${ms(failing - t0)}`,
    );
  } finally {
    victim.resume();
    await deleteProbe('j-tcp');
  }
});

it('(k) a record set too large for UDP: the truncated answer is retried over TCP, Healthy', async () => {
  const pods = await threeReadyPods();
  // A headless Service with 60 endpoints: its A record set is ~1 KB, over the 512 bytes a UDP
  // answer without EDNS may carry, so CoreDNS sets the TC bit.
  const addresses = Array.from({ length: 60 }, (_, i) => `10.1.0.${i + 1}`);
  await applyObjects(kc, [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'big', namespace: 'default' },
      spec: { clusterIP: 'None', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
    } as KubernetesObject,
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: 'big-1',
        namespace: 'default',
        labels: { 'kubernetes.io/service-name': 'big' },
      },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
      endpoints: addresses.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
    } as KubernetesObject,
  ]);
  const big = prepareQuery('big.default.svc.cluster.local', 'A');
  const target = makeTarget(pods[0]!.ip, dns.dnsPort);
  // CoreDNS has it once its EndpointSlice watch has: the full set, over TCP after truncation.
  const first = await waitFor(
    'CoreDNS serving the large record set',
    async () => {
      const r = await probeOnce(target, big, 5000, 'udp');
      return r.outcome === 'success' && r.answers === addresses.length ? r : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 200 },
  );
  expect(first.tcp).toBe(true);
  const before = await Promise.all(pods.map(coreDnsTcpRequests));
  // The pods themselves (the kube-proxy stand-in shares this busy process: its TCP leg would
  // measure the test machine, not the fallback).
  await applyProbe('k-truncated', {
    server: { addresses: pods.map((p) => p.ip), port: dns.dnsPort },
    queries: [{ name: 'big.default.svc.cluster.local', type: 'A' }],
    remediation: { mode: 'Off' },
  });
  try {
    await waitStatus(
      'k-truncated',
      'Healthy over the TCP fallback',
      (s) => cond(s, 'Healthy') === 'True/AllTargetsHealthy' && s.targets?.length === 3,
    );
    const after = await waitFor(
      'TCP queries on every CoreDNS pod',
      async () => {
        const now = await Promise.all(pods.map(coreDnsTcpRequests));
        return now.every((n, i) => n > before[i]! + 5) ? now : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 200 },
    );
    console.log(
      `(k) ${addresses.length} A records: UDP answers truncated, retried over TCP: ` +
        `${after.map((n, i) => n - before[i]!).join(', ')} TCP queries per pod`,
    );
  } finally {
    await deleteProbe('k-truncated');
    await kubeRequest(kc, {
      method: 'DELETE',
      path: '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/big-1',
    }).catch(() => undefined);
    await kubeRequest(kc, {
      method: 'DELETE',
      path: '/api/v1/namespaces/default/services/big',
    }).catch(() => undefined);
  }
});

it('(l) the hourly cap counts the evictions in status: neither a spec edit nor a new leader resets it', async () => {
  await threeReadyPods();
  const remediation = { mode: 'Evict', cooldown: '0s', maxEvictionsPerHour: 3, minReadyPods: 1 };
  await applyProbe('l-history', { queries: [QUERIES[0]], remediation });
  await waitHealthy('l-history');
  const evicted: string[] = [];
  let hung: CoreDnsPod | undefined;
  try {
    for (let i = 0; i < 2; i++) {
      const victim = dns.readyPods()[0]!;
      victim.pause();
      await waitStatus(
        'l-history',
        `eviction ${i + 1} in status.evictions`,
        (s) => s.evictions?.some((e) => e.pod === victim.podName) === true,
      );
      evicted.push(victim.podName);
      victim.resume();
      await waitFor(
        'evicted pod gone',
        () => (dns.pods().some((p) => p.podName === victim.podName) ? undefined : true),
        { timeoutMs: 30_000 },
      );
      await threeReadyPods();
      await waitHealthy('l-history');
    }
    // A spec edit: the cap down to 2. Two evictions this hour: the third pod that hangs stays.
    await applyProbe('l-history', {
      queries: [QUERIES[0]],
      remediation: { ...remediation, maxEvictionsPerHour: 2 },
    });
    hung = dns.readyPods()[0]!;
    hung.pause();
    const capped = await waitStatus(
      'l-history',
      'HourlyCapReached after the edit',
      (s) => cond(s, 'Remediating') === 'False/HourlyCapReached',
    );
    expect(capped.evictions?.map((e) => e.pod)).toEqual(evicted);
    // A new leader: the operator restarts and reads the history from status alone.
    const acceptedBefore = eviction.accepted.length;
    await operator.shutdown();
    await startController();
    await waitFor(
      'the new leader probing',
      () => (controller.runtime(`${NS}/l-history`)?.statusWrites ?? 0) > 0 || undefined,
      { timeoutMs: 30_000 },
    );
    await waitFor(
      'HourlyCapReached from the new leader',
      () =>
        controller
          .runtime(`${NS}/l-history`)
          ?.engine.last?.targets.some(
            (t) => t.identity.pod === hung!.podName && t.state === 'Failing',
          )
          ? true
          : undefined,
      { timeoutMs: 30_000 },
    );
    await new Promise((r) => setTimeout(r, 3000));
    const after = await status('l-history');
    console.log(
      `(l) after a spec edit and a restart: ${after?.conditions?.find((c) => c.type === 'Remediating')?.message}`,
    );
    expect(cond(after, 'Remediating')).toBe('False/HourlyCapReached');
    expect(eviction.accepted.length).toBe(acceptedBefore);
    expect(dns.pods().some((p) => p.podName === hung!.podName)).toBe(true);
  } finally {
    hung?.resume();
    await deleteProbe('l-history');
  }
});
