/**
 * The per-DNSProbe runtime with real sockets on loopback: three "pods" (test DNS servers on
 * 127.0.0.2-4 with a /ready HTTP endpoint each), a fake Eviction API, an in-memory status and
 * Events. Assertions wait for outcomes with generous deadlines; no timing claims here.
 */
import http from 'node:http';
import { Writable } from 'node:stream';
import pino from 'pino';
import { Registry } from 'prom-client';
import type { DNSProbe, DNSProbeStatus } from '../api/types';
import { MemoryEventSink } from '../runtime/events';
import { createMetrics, type Metrics } from '../runtime/metrics';
import { NO_LAG } from './loop-lag';
import { ProbeRuntime, type ProbeRuntimeOptions } from './probe-runtime';
import { STATUS_BURST } from './status-writer';
import type { EvictionApi, EvictionResult, PodFacts } from './remediation';
import { makeTarget } from './resolver';
import { probeSettings, type PartialSpec } from './settings';
import { DnsTestServer } from '../../test/fakes/dns-test-server';
import type { DiscoveredTarget } from './targets';

jest.setTimeout(20_000);

const HOSTS = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];

interface Pod {
  readonly name: string;
  readonly dns: DnsTestServer;
  readonly ready: http.Server;
  healthy: boolean;
}

async function listenAll(
  port: number,
  handler: http.RequestListener,
): Promise<http.Server[] | undefined> {
  const servers: http.Server[] = [];
  for (const host of HOSTS) {
    const s = http.createServer(handler);
    const ok = await new Promise<boolean>((resolve) => {
      s.once('error', () => resolve(false));
      s.listen(port, host, () => resolve(true));
    });
    if (!ok) {
      await Promise.all(servers.map((x) => new Promise((r) => x.close(r))));
      return undefined;
    }
    servers.push(s);
  }
  return servers;
}

async function startPods(): Promise<{ pods: Pod[]; readyPort: number }> {
  const pods: Pod[] = [];
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 40_000);
    const byHost = new Map<string, Pod>();
    const servers = await listenAll(port, (req, res) => {
      const pod = byHost.get(req.socket.localAddress ?? '');
      res.statusCode = pod?.healthy === false ? 503 : 200;
      res.end(res.statusCode === 200 ? 'OK' : 'not ready');
    });
    if (servers === undefined) continue;
    for (let i = 0; i < HOSTS.length; i++) {
      const dns = await DnsTestServer.start({ host: HOSTS[i]! });
      const pod: Pod = { name: `coredns-${'abc'[i]}`, dns, ready: servers[i]!, healthy: true };
      byHost.set(HOSTS[i]!, pod);
      pods.push(pod);
    }
    return { pods, readyPort: port };
  }
  throw new Error('no free port for the readiness servers');
}

class FakeEviction implements EvictionApi {
  readonly calls: PodFacts[] = [];
  answer: EvictionResult = { kind: 'evicted' };
  evict(pod: PodFacts): Promise<EvictionResult> {
    this.calls.push(pod);
    return Promise.resolve(this.answer);
  }
}

async function until<T>(
  what: string,
  fn: () => T | undefined | false,
  timeoutMs = 8000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('ProbeRuntime on loopback', () => {
  let pods: Pod[];
  let readyPort: number;
  let runtime: ProbeRuntime | undefined;
  let events: MemoryEventSink;
  let eviction: FakeEviction;
  let metrics: Metrics;
  let logLines: Record<string, unknown>[];
  let live: DNSProbe;

  beforeEach(async () => {
    ({ pods, readyPort } = await startPods());
    events = new MemoryEventSink();
    eviction = new FakeEviction();
    metrics = createMetrics(new Registry(), { processMetrics: false });
    logLines = [];
    live = {
      apiVersion: 'dnsop.io/v1alpha1',
      kind: 'DNSProbe',
      metadata: { name: 'cluster-dns', namespace: 'kube-system', generation: 1 },
      spec: {} as DNSProbe['spec'],
    };
  });

  afterEach(async () => {
    runtime?.stop(true);
    runtime = undefined;
    for (const p of pods) {
      await p.dns.close();
      await new Promise((r) => p.ready.close(r));
    }
  });

  function start(spec: PartialSpec = {}, extra: Partial<ProbeRuntimeOptions> = {}): ProbeRuntime {
    const logger = pino(
      { level: 'info' },
      new Writable({
        write(chunk: Buffer, _enc, cb): void {
          logLines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
          cb();
        },
      }),
    );
    const settings = probeSettings({
      queries: [{ name: 'kubernetes.default.svc.cluster.local' }],
      interval: '50ms',
      timeout: '50ms',
      readiness: { port: readyPort, path: '/ready' },
      remediation: { mode: 'Evict', cooldown: '1m', maxEvictionsPerHour: 3, minReadyPods: 1 },
      ...spec,
    });
    runtime = new ProbeRuntime({
      key: 'kube-system/cluster-dns',
      regarding: {
        apiVersion: 'dnsop.io/v1alpha1',
        kind: 'DNSProbe',
        namespace: 'kube-system',
        name: 'cluster-dns',
      },
      generation: 1,
      settings,
      lag: NO_LAG,
      metrics,
      events,
      logger,
      identity: 'dnsop-test-0',
      eviction,
      writeStatus: (compute) => {
        const status: DNSProbeStatus | undefined = compute(live);
        if (status !== undefined) live = { ...live, status: { ...live.status, ...status } };
        return Promise.resolve();
      },
      podFacts: (name) => ({
        name,
        namespace: 'kube-system',
        uid: `uid-${name}`,
        controller: { kind: 'ReplicaSet', name: 'coredns-5d78c' },
        deleting: false,
      }),
      statusPeriodMs: 500,
      ...extra,
    });
    const targets: DiscoveredTarget[] = pods.map((p) => {
      const target = makeTarget(p.dns.host, p.dns.port);
      return {
        target,
        identity: { key: target.key, address: target.address, kind: 'Pod', pod: p.name },
        podUid: `uid-${p.name}`,
        endpointReady: true,
      };
    });
    runtime.setTargets({ targets, problems: [] });
    runtime.start();
    return runtime;
  }

  const condition = (type: string): string | undefined => {
    const c = live.status?.conditions?.find((x) => x.type === type);
    return c === undefined ? undefined : `${c.status}/${c.reason}`;
  };

  it('evicts a hung pod once (failing + not ready), then waits for it; status, Event, metric, audit line', async () => {
    start();
    await until('Healthy status', () => condition('Healthy') === 'True/AllTargetsHealthy');
    pods[2]!.dns.set({ kind: 'drop' });
    pods[2]!.healthy = false;
    await until('an eviction', () => eviction.calls.length > 0);
    expect(eviction.calls[0]).toMatchObject({ name: 'coredns-c', uid: 'uid-coredns-c' });
    await until('Remediating status', () => condition('Remediating') === 'True/Evicting');
    expect(live.status?.lastRemediation).toMatchObject({
      pod: 'coredns-c',
      reason: expect.stringMatching(/consecutive probe failures/),
    });
    expect(events.events.map((e) => e.reason)).toEqual(
      expect.arrayContaining(['TargetFailing', 'Evicted']),
    );
    const audit = logLines.find(
      (l) => (l['audit'] as { what?: string } | undefined)?.what === 'evict',
    );
    expect(audit?.['audit']).toMatchObject({
      who: 'dnsop-test-0',
      probe: 'kube-system/cluster-dns',
      pod: 'coredns-c',
    });
    expect((audit?.['audit'] as { evidence: { ready: boolean } }).evidence.ready).toBe(false);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(
      /dnsop_remediations_total\{probe="kube-system\/cluster-dns",outcome="evicted"\} 1/,
    );
    expect(text).toMatch(
      /dnsop_probe_total\{probe="kube-system\/cluster-dns",target="127.0.0.4",result="timeout"\} [1-9]/,
    );
    expect(text).toMatch(
      /dnsop_probe_anomaly\{probe="kube-system\/cluster-dns",target="127.0.0.4",signal="ConsecutiveFailures"\} 1/,
    );
    expect(text).toMatch(
      /dnsop_probe_anomalies_total\{probe="kube-system\/cluster-dns",target="127.0.0.4",signal="ConsecutiveFailures"\} [1-9]/,
    );
    // The pod still exists (fake): no second eviction, one at a time.
    await new Promise((r) => setTimeout(r, 500));
    expect(eviction.calls).toHaveLength(1);
    expect(events.events.map((e) => e.reason)).toContain('RemediationEvictionInProgress');
  });

  it('evicts the moment the failure has settled, not at the next periodic assessment', async () => {
    // No periodic assessment at all: what triggers one is a state change, a readiness change, a
    // pod answering since another began failing, and a candidate's failure having settled. Here
    // the last is the settling (a 300 ms timeout; the ready endpoint says 503 at once).
    start({ timeout: '300ms' }, { assessEveryMs: 3_600_000 });
    await until('Healthy status', () => condition('Healthy') === 'True/AllTargetsHealthy');
    pods[2]!.healthy = false;
    pods[2]!.dns.set({ kind: 'drop' });
    await until('an eviction', () => eviction.calls.length > 0);
    expect(eviction.calls[0]).toMatchObject({ name: 'coredns-c' });
  });

  it('reports a PDB refusal (429) in status and Events, and does not hammer the API', async () => {
    eviction.answer = {
      kind: 'blocked',
      message: "Cannot evict pod as it would violate the pod's disruption budget.",
    };
    start();
    await until('Healthy', () => condition('Healthy') === 'True/AllTargetsHealthy');
    pods[0]!.dns.set({ kind: 'drop' });
    pods[0]!.healthy = false;
    await until(
      'EvictionBlocked status',
      () => condition('Remediating') === 'False/EvictionBlocked',
    );
    const message = live.status?.conditions?.find((c) => c.type === 'Remediating')?.message;
    expect(message).toMatch(/refused by a PodDisruptionBudget: Cannot evict pod/);
    expect(events.events.find((e) => e.reason === 'EvictionBlocked')?.type).toBe('Warning');
    expect(await metrics.registry.metrics()).toMatch(/outcome="blocked_pdb"\} 1/);
    await new Promise((r) => setTimeout(r, 500));
    expect(eviction.calls).toHaveLength(1);
  });

  it('never evicts when every server SERVFAILs (UpstreamFailure)', async () => {
    start();
    await until('Healthy', () => condition('Healthy') === 'True/AllTargetsHealthy');
    for (const p of pods) {
      p.dns.set({ kind: 'answer', rcode: 'SERVFAIL' });
      p.healthy = false;
    }
    await until('UpstreamFailure', () => condition('DNSUnavailable') === 'True/UpstreamFailure');
    await new Promise((r) => setTimeout(r, 300));
    expect(eviction.calls).toEqual([]);
    expect(events.events.map((e) => e.reason)).toContain('RemediationUpstreamFailure');
    expect(await metrics.registry.metrics()).toMatch(
      /dnsop_dns_unavailable\{probe="kube-system\/cluster-dns"\} 1/,
    );
  });

  it('DryRun reports what it would evict and evicts nothing', async () => {
    start({ remediation: { mode: 'DryRun' } });
    await until('Healthy', () => condition('Healthy') === 'True/AllTargetsHealthy');
    pods[1]!.dns.set({ kind: 'drop' });
    pods[1]!.healthy = false;
    await until('DryRun status', () => condition('Remediating') === 'False/DryRun');
    expect(events.events.find((e) => e.reason === 'DryRunEviction')?.note).toMatch(
      /would evict pod coredns-b/,
    );
    expect(eviction.calls).toEqual([]);
  });
});

describe('ProbeRuntime status, history and Events', () => {
  // Reuses the loopback pods of the suite above through a small local copy of its setup.
  let pods: Pod[];
  let readyPort: number;
  let runtime: ProbeRuntime | undefined;
  let events: MemoryEventSink;
  let eviction: FakeEviction;
  let metrics: Metrics;
  let live: DNSProbe;
  let writes: number[];

  beforeEach(async () => {
    ({ pods, readyPort } = await startPods());
    events = new MemoryEventSink();
    eviction = new FakeEviction();
    metrics = createMetrics(new Registry(), { processMetrics: false });
    writes = [];
    live = {
      apiVersion: 'dnsop.io/v1alpha1',
      kind: 'DNSProbe',
      metadata: { name: 'cluster-dns', namespace: 'kube-system', generation: 1 },
      spec: {} as DNSProbe['spec'],
    };
  });

  afterEach(async () => {
    runtime?.stop(true);
    runtime = undefined;
    for (const p of pods) {
      await p.dns.close();
      await new Promise((r) => p.ready.close(r));
    }
  });

  function make(
    spec: PartialSpec,
    extra: Partial<ProbeRuntimeOptions> = {},
    targets: DiscoveredTarget[] | undefined = undefined,
    problems: { reason: string; message: string }[] = [],
  ): ProbeRuntime {
    const settings = probeSettings({
      queries: [{ name: 'kubernetes.default.svc.cluster.local' }],
      interval: '50ms',
      timeout: '50ms',
      readiness: { port: readyPort, path: '/ready' },
      ...spec,
    });
    runtime = new ProbeRuntime({
      key: 'kube-system/cluster-dns',
      regarding: {
        apiVersion: 'dnsop.io/v1alpha1',
        kind: 'DNSProbe',
        namespace: 'kube-system',
        name: 'cluster-dns',
      },
      generation: 1,
      settings,
      lag: NO_LAG,
      metrics,
      events,
      logger: pino({ level: 'silent' }),
      identity: 'dnsop-test-0',
      eviction,
      writeStatus: (compute) => {
        writes.push(Date.now());
        const status: DNSProbeStatus | undefined = compute(live);
        if (status !== undefined) live = { ...live, status: { ...live.status, ...status } };
        return Promise.resolve();
      },
      podFacts: (name) => ({
        name,
        namespace: 'kube-system',
        uid: `uid-${name}`,
        controller: { kind: 'ReplicaSet', name: 'coredns-5d78c' },
        deleting: false,
      }),
      ...extra,
    });
    runtime.setTargets({
      targets:
        targets ??
        pods.map((p) => {
          const target = makeTarget(p.dns.host, p.dns.port);
          return {
            target,
            identity: { key: target.key, address: target.address, kind: 'Pod', pod: p.name },
            podUid: `uid-${p.name}`,
            endpointReady: true,
          };
        }),
      problems,
    });
    runtime.start();
    return runtime;
  }

  const condition = (type: string): string | undefined => {
    const c = live.status?.conditions?.find((x) => x.type === type);
    return c === undefined ? undefined : `${c.status}/${c.reason}`;
  };

  it('bounds status writes while a target flaps: state changes within a small budget, numbers every period', async () => {
    make(
      { remediation: { mode: 'Off' }, thresholds: { recoverySuccesses: 1 } },
      { statusPeriodMs: 10_000 },
    );
    await until('Healthy', () => condition('Healthy') === 'True/AllTargetsHealthy');
    const before = writes.length;
    // Flap pod c between answering and dropping every 150 ms for 3 s: dozens of state changes.
    const flapUntil = Date.now() + 3000;
    let drop = false;
    while (Date.now() < flapUntil) {
      drop = !drop;
      pods[2]!.dns.set(drop ? { kind: 'drop' } : { kind: 'answer' });
      await new Promise((r) => setTimeout(r, 150));
    }
    // Burst, then one per 2 s: at most STATUS_BURST + 2 in 3 s (no periodic write: 10 s period).
    expect(writes.length - before).toBeLessThanOrEqual(STATUS_BURST + 2);
    expect(writes.length - before).toBeGreaterThanOrEqual(1);
  });

  it('a missing Service: DNSUnavailable/ServiceNotFound in status and metrics, and an Event', async () => {
    make(
      {},
      {},
      [],
      [
        {
          reason: 'ServiceNotFound',
          message: 'Service kube-system/kube-dnss not found: create it',
        },
      ],
    );
    await until('ServiceNotFound', () => condition('DNSUnavailable') === 'True/ServiceNotFound');
    expect(condition('Stalled')).toBe('True/ServiceNotFound');
    expect(events.events.find((e) => e.reason === 'ServiceNotFound')).toMatchObject({
      type: 'Warning',
      note: 'Service kube-system/kube-dnss not found: create it',
    });
    expect(await metrics.registry.metrics()).toMatch(
      /dnsop_dns_unavailable\{probe="kube-system\/cluster-dns"\} 1/,
    );
  });

  it('counts the evictions in status towards the hourly cap (a new leader, a spec edit)', async () => {
    const tenMinutesAgo = new Date(Date.now() - 600_000).toISOString();
    const fiveMinutesAgo = new Date(Date.now() - 300_000).toISOString();
    make(
      { remediation: { mode: 'Evict', cooldown: '1s', maxEvictionsPerHour: 2, minReadyPods: 1 } },
      {
        initialStatus: {
          evictions: [
            { pod: 'coredns-x', time: tenMinutesAgo },
            { pod: 'coredns-y', time: fiveMinutesAgo },
          ],
          lastRemediation: { pod: 'coredns-y', time: fiveMinutesAgo, reason: 'r' },
        },
      },
    );
    await until('Healthy', () => condition('Healthy') === 'True/AllTargetsHealthy');
    pods[0]!.dns.set({ kind: 'drop' });
    pods[0]!.healthy = false;
    await until('HourlyCapReached', () => condition('Remediating') === 'False/HourlyCapReached');
    expect(eviction.calls).toEqual([]);
    expect(live.status?.evictions?.map((e) => e.pod)).toEqual(['coredns-x', 'coredns-y']);
  });

  it('hands its evictions to the runtime that replaces it, before status has them', async () => {
    const first = make({
      remediation: { mode: 'Evict', cooldown: '1s', maxEvictionsPerHour: 1, minReadyPods: 1 },
    });
    await until('Healthy', () => condition('Healthy') === 'True/AllTargetsHealthy');
    pods[1]!.dns.set({ kind: 'drop' });
    pods[1]!.healthy = false;
    await until('an eviction', () => eviction.calls.length === 1);
    await until('history', () => first.evictions.length === 1);
    const handed = first.evictions;
    first.stop(false);
    // A spec edit: a new runtime with a status that does not show the eviction yet.
    live = { ...live, status: {} };
    make(
      { remediation: { mode: 'Evict', cooldown: '1s', maxEvictionsPerHour: 1, minReadyPods: 1 } },
      { evictions: handed },
    );
    await until('HourlyCapReached', () => condition('Remediating') === 'False/HourlyCapReached');
    expect(eviction.calls).toHaveLength(1);
    expect(live.status?.evictions?.map((e) => e.pod)).toEqual(['coredns-b']);
  });

  it('emits target Events with a stable note per target and state, so the recorder can aggregate them', async () => {
    make({ remediation: { mode: 'Off' }, thresholds: { recoverySuccesses: 1 } });
    await until('Healthy', () => condition('Healthy') === 'True/AllTargetsHealthy');
    for (let i = 0; i < 3; i++) {
      pods[2]!.dns.set({ kind: 'drop' });
      await until(
        'Failing',
        () => events.events.filter((e) => e.reason === 'TargetFailing').length > i,
      );
      pods[2]!.dns.set({ kind: 'answer' });
      await until(
        'recovered',
        () => events.events.filter((e) => e.reason === 'TargetRecovered').length > i,
      );
    }
    const notes = new Set(
      events.events.filter((e) => e.reason === 'TargetFailing').map((e) => e.note),
    );
    const series = new Set(
      events.events.filter((e) => e.reason === 'TargetFailing').map((e) => e.aggregateBy),
    );
    expect([...series]).toEqual(['127.0.0.4']);
    expect([...notes]).toEqual([
      `pod coredns-c (127.0.0.4) Failing: ConsecutiveFailures; last error timeout`,
    ]);
  });
});

describe('ProbeRuntime readiness', () => {
  it("asks a pod's ready endpoint at its first failure, before it is Failing", async () => {
    const dns = await DnsTestServer.start({ host: '127.0.0.2' });
    const asked: { url: string; at: number }[] = [];
    const failingAt: number[] = [];
    let hung = false;
    const events = new MemoryEventSink();
    const emit = events.emit.bind(events);
    events.emit = (e) => {
      if (e.reason === 'TargetFailing') failingAt.push(performance.now());
      emit(e);
    };
    const target = makeTarget(dns.host, dns.port);
    const runtime = new ProbeRuntime({
      key: 'kube-system/ready',
      regarding: {
        apiVersion: 'dnsop.io/v1alpha1',
        kind: 'DNSProbe',
        namespace: 'kube-system',
        name: 'ready',
      },
      generation: 1,
      settings: probeSettings({
        queries: [{ name: 'kubernetes.default.svc.cluster.local' }],
        remediation: { mode: 'Off' },
      }),
      lag: NO_LAG,
      metrics: createMetrics(new Registry(), { processMetrics: false }),
      events,
      logger: pino({ level: 'silent' }),
      identity: 'test',
      eviction: new FakeEviction(),
      writeStatus: () => Promise.resolve(),
      podFacts: () => undefined,
      readinessCheck: (url, timeoutMs) => {
        asked.push({ url, at: performance.now() });
        // A hung pod never answers: "not ready" at the check's timeout.
        return hung
          ? new Promise((r) => setTimeout(() => r(false), timeoutMs))
          : Promise.resolve(true);
      },
    });
    try {
      runtime.setTargets({
        targets: [
          {
            target,
            identity: { key: target.key, address: target.address, kind: 'Pod', pod: 'coredns-a' },
            endpointReady: true,
          },
        ],
        problems: [],
      });
      runtime.start();
      await until('an answer', () => runtime.engine.last?.targets[0]?.state === 'Healthy');
      await new Promise((r) => setTimeout(r, 500));
      const hungAt = performance.now();
      hung = true;
      dns.set({ kind: 'drop' });
      await until('Failing', () => failingAt.length > 0);
      // At the first failure: two confirmation deadlines (>= 2 x 12 ms) before Failing, not at it.
      const before = asked.filter((a) => a.at >= hungAt && a.at <= failingAt[0]! - 20);
      expect(before.map((a) => a.url)).toContain(`http://127.0.0.2:8181/ready`);
    } finally {
      runtime.stop(true);
      await dns.close();
    }
  });
});
