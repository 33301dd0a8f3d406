/**
 * No false positives (issue 12): the operator's DNSProbe runtime at 1,000 probes/s against healthy
 * CoreDNS for 10 minutes while a busy loop runs on every core and a load generator keeps CoreDNS's
 * garbage collector busy (large answers, GOGC=10). Every probe a healthy server answers must stay
 * Healthy: 0 Failing, 0 evictions. `npm run bench -- probes-soak` (PROBES_SOAK_SECONDS to shorten).
 *
 * Four CoreDNS "pods" (one process each, own loopback address, `ready` and `prometheus` plugins)
 * are the targets, 25 queries each every 100 ms; remediation Evict through a fake Eviction API
 * that counts calls, readiness asked of each pod's real ready endpoint. The figures printed are
 * what the deadline floor is chosen from (ADR 0005).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Registry } from 'prom-client';
import type { DNSProbe, DNSProbeStatus } from '../../operator/api/types';
import { DEADLINE_LIMITS } from '../../operator/probes/deadline';
import type { ProbeObserver, TargetEntry } from '../../operator/probes/engine';
import { LoopLagMonitor } from '../../operator/probes/loop-lag';
import { ProbeRuntime } from '../../operator/probes/probe-runtime';
import type { PreparedQuery } from '../../operator/probes/query';
import type { EvictionApi, EvictionResult } from '../../operator/probes/remediation';
import { makeTarget, type ProbeResult } from '../../operator/probes/resolver';
import { probeSettings } from '../../operator/probes/settings';
import { LogHistogram } from '../../operator/probes/stats';
import { MemoryEventSink } from '../../operator/runtime/events';
import { silentLogger } from '../../operator/runtime/logger';
import { createMetrics } from '../../operator/runtime/metrics';
import { CoreDnsServer } from '../envtest/coredns-server';
import { LoopbackBlock, freeDualPort } from '../envtest/net';
import { locateTools } from '../envtest/tools';

const PODS = 4;
const QUERIES = 25;
const READY_PORT = 8181;
const METRICS_PORT = 9153;
/** Queries per second of the GC-heavy load, over all pods. */
const GC_LOAD_QPS = Number(process.env['PROBES_SOAK_GC_QPS'] ?? 1000);

/** A TXT answer of ~3 KB per query (EDNS): every query allocates, GOGC=10 collects often. */
function corefile(ip: string, port: number): string {
  const chunk = 'x'.repeat(250);
  const txt = Array.from({ length: 12 }, () => `\\"${chunk}\\"`).join(' ');
  return [
    `.:${port} {`,
    `    bind ${ip}`,
    `    ready ${ip}:${READY_PORT}`,
    `    prometheus ${ip}:${METRICS_PORT}`,
    '    template IN A soak.test {',
    '        answer "{{ .Name }} 60 IN A 10.0.0.1"',
    '    }',
    '    template IN TXT gc.test {',
    `        answer "{{ .Name }} 60 IN TXT ${txt}"`,
    '    }',
    '}',
    '',
  ].join('\n');
}

/** The load generator (its own process): random-name TXT queries with EDNS at `qps` in total. */
const LOADGEN = `
const dgram = require('node:dgram');
const packet = require('dns-packet');
const [targets, qps] = [JSON.parse(process.argv[1]), Number(process.argv[2])];
const socks = targets.map(() => dgram.createSocket('udp4'));
let sent = 0, answered = 0;
socks.forEach((s) => s.on('message', () => answered++));
const perTick = Math.max(1, Math.round(qps / 100));
setInterval(() => {
  for (let i = 0; i < perTick; i++) {
    const t = sent % targets.length;
    const q = packet.encode({ type: 'query', id: sent & 0xffff, flags: packet.RECURSION_DESIRED,
      questions: [{ type: 'TXT', name: 'r' + Math.random().toString(36).slice(2) + '.gc.test' }],
      additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 4096 }] });
    socks[t].send(q, targets[t].port, targets[t].ip);
    sent++;
  }
}, 10);
setInterval(() => process.stdout.write(JSON.stringify({ sent, answered }) + '\\n'), 1000);
`;

class CountingEviction implements EvictionApi {
  calls = 0;
  evict(): Promise<EvictionResult> {
    this.calls++;
    return Promise.resolve({ kind: 'evicted' });
  }
}

/**
 * Datagrams the kernel dropped because a CoreDNS socket's receive buffer was full, summed over the
 * UDP sockets bound to `ips`:`port` (/proc/net/udp, last column). Non-zero means the server was
 * overloaded (queries arrived faster than it read them): its timeouts were real, not noise.
 */
function udpDrops(ips: readonly string[], port: number): number {
  const hex = (ip: string): string =>
    ip
      .split('.')
      .reverse()
      .map((b) => Number(b).toString(16).padStart(2, '0'))
      .join('')
      .toUpperCase();
  const wanted = new Set(
    ips.map((ip) => `${hex(ip)}:${port.toString(16).toUpperCase().padStart(4, '0')}`),
  );
  let drops = 0;
  for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length > 12 && wanted.has(cols[1]!)) drops += Number(cols.at(-1));
  }
  return drops;
}

async function goGcCount(ip: string): Promise<number> {
  const text = await (await fetch(`http://${ip}:${METRICS_PORT}/metrics`)).text();
  const m = /^go_gc_duration_seconds_count (\S+)$/m.exec(text);
  return m === null ? NaN : Number(m[1]);
}

function kill(children: readonly ChildProcess[]): void {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
}

export async function benchProbesSoak(): Promise<void> {
  const seconds = Number(process.env['PROBES_SOAK_SECONDS'] ?? 600);
  const binary = locateTools().coreDns;
  const block = new LoopbackBlock();
  const ips = Array.from({ length: PODS }, (_, i) => block.address(i + 2));
  const port = await freeDualPort(ips[0]);
  const workDir = mkdtempSync(join(tmpdir(), 'dnsop-soak-'));
  const servers: CoreDnsServer[] = [];
  const children: ChildProcess[] = [];
  const stopChildren = (): void => kill(children);
  process.once('exit', stopChildren);
  let runtime: ProbeRuntime | undefined;
  const lag = new LoopLagMonitor();
  try {
    for (const [i, ip] of ips.entries()) {
      const server = new CoreDnsServer({
        binary,
        name: `coredns-soak-${i}`,
        workDir,
        readyUrl: `http://${ip}:${READY_PORT}/ready`,
        env: { ...process.env, GOGC: '10' },
      });
      await server.reload(corefile(ip, port));
      await server.start();
      servers.push(server);
    }
    // Measured before and after: only the probes and what they see.
    const rtt = new LogHistogram();
    const results = new Map<string, number>();
    const observer: ProbeObserver = {
      onProbe: (_e: TargetEntry, _q: PreparedQuery, r: ProbeResult, counted: boolean) => {
        const key = counted ? r.outcome : `${r.outcome}(not counted)`;
        results.set(key, (results.get(key) ?? 0) + 1);
        if (counted && r.outcome === 'success') rtt.add(r.rttMs);
      },
      onLate: (_e: TargetEntry, _q: PreparedQuery, r: ProbeResult) => {
        results.set('late answer', (results.get('late answer') ?? 0) + 1);
        rtt.add(r.rttMs);
      },
    };
    const settings = probeSettings({
      queries: Array.from({ length: QUERIES }, (_, i) => ({ name: `q${i}.soak.test` })),
      maxQPS: 2000,
      readiness: { port: READY_PORT, path: '/ready' },
      remediation: { mode: 'Evict', cooldown: '0s', maxEvictionsPerHour: 60, minReadyPods: 1 },
    });
    const events = new MemoryEventSink();
    /** When each Event was emitted (performance.now), to place the Failing ones in the soak. */
    const emittedAt: number[] = [];
    const emit = events.emit.bind(events);
    /** Per Event: how many other targets were in a failure run then, and this run's age (ms). */
    const context: string[] = [];
    events.emit = (event) => {
      emittedAt.push(performance.now());
      const entries = runtime?.engine.entries() ?? [];
      const self = entries.find((e) => e.identity.address === event.aggregateBy);
      const others = entries.filter((e) => e !== self && e.window.consecutiveFailures > 0).length;
      const age =
        self?.runFirstSentAtNs === undefined
          ? NaN
          : Number(process.hrtime.bigint() - self.runFirstSentAtNs) / 1e6;
      context.push(`${others} others in a run, run age ${age.toFixed(0)} ms`);
      emit(event);
    };
    const eviction = new CountingEviction();
    let live: DNSProbe = {
      apiVersion: 'dnsop.io/v1alpha1',
      kind: 'DNSProbe',
      metadata: { name: 'soak', namespace: 'kube-system', generation: 1 },
      spec: {} as DNSProbe['spec'],
    };
    runtime = new ProbeRuntime({
      key: 'kube-system/soak',
      regarding: {
        apiVersion: 'dnsop.io/v1alpha1',
        kind: 'DNSProbe',
        namespace: 'kube-system',
        name: 'soak',
      },
      generation: 1,
      settings,
      lag,
      metrics: createMetrics(new Registry(), { processMetrics: false }),
      events,
      logger: silentLogger(),
      identity: 'bench',
      eviction,
      writeStatus: (compute) => {
        const status: DNSProbeStatus | undefined = compute(live);
        if (status !== undefined) live = { ...live, status };
        return Promise.resolve();
      },
      podFacts: (name) => ({
        name,
        namespace: 'kube-system',
        uid: `uid-${name}`,
        controller: { kind: 'ReplicaSet', name: 'coredns' },
        deleting: false,
      }),
    });
    runtime.setTargets({
      targets: ips.map((ip, i) => {
        const target = makeTarget(ip, port);
        return {
          target,
          identity: {
            key: target.key,
            address: ip,
            kind: 'Pod' as const,
            pod: `coredns-soak-${i}`,
          },
          endpointReady: true,
        };
      }),
      problems: [],
    });
    // The engine's observer is the runtime's metrics recorder: count alongside it, unchanged.
    const engine = runtime.engine;
    const original = engine.onProbeResult.bind(engine);
    engine.onProbeResult = (slot, result, counted, stall) => {
      observer.onProbe(slot.data, slot.query, result, counted);
      return original(slot, result, counted, stall);
    };
    const originalLate = engine.onLateResult.bind(engine);
    engine.onLateResult = (slot, result, stall) => {
      observer.onLate!(slot.data, slot.query, result);
      originalLate(slot, result, stall);
    };
    lag.start();
    runtime.start();
    await new Promise((r) => setTimeout(r, 3000)); // warm-up: targets Healthy, deadlines learnt
    // The adversaries: a busy loop per core and the GC-heavy load.
    for (let i = 0; i < cpus().length; i++)
      children.push(spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
    const loadgen = spawn(
      process.execPath,
      ['-e', LOADGEN, JSON.stringify(ips.map((ip) => ({ ip, port }))), String(GC_LOAD_QPS)],
      { cwd: join(__dirname, '..', '..'), stdio: ['ignore', 'pipe', 'inherit'] },
    );
    children.push(loadgen);
    let load = { sent: 0, answered: 0 };
    loadgen.stdout.on('data', (chunk: Buffer) => {
      const lines = chunk.toString().trim().split('\n');
      load = JSON.parse(lines.at(-1)!) as typeof load;
    });
    const gcBefore = await Promise.all(ips.map(goGcCount));
    const dropsBefore = udpDrops(ips, port);
    const loadBefore = { ...load };
    const sentBefore = engine.scheduler.stats.sent;
    const statsBefore = { ...engine.scheduler.stats };
    results.clear();
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    const deadlines = new LogHistogram();
    let maxRun = 0;
    let failingSeen = 0;
    const start = performance.now();
    const eventsBefore = events.events.length;
    while (performance.now() - start < seconds * 1000) {
      await new Promise((r) => setTimeout(r, 100));
      for (const e of engine.entries()) {
        deadlines.add(e.deadline.ms);
        maxRun = Math.max(maxRun, e.window.consecutiveFailures);
        if (e.window.failing) failingSeen++;
      }
    }
    const elapsed = (performance.now() - start) / 1000;
    loopDelay.disable();
    const gcAfter = await Promise.all(ips.map(goGcCount));
    const drops = udpDrops(ips, port) - dropsBefore;
    const loadSent = load.sent - loadBefore.sent;
    const loadAnswered = load.answered - loadBefore.answered;
    kill(children);
    const stats = engine.scheduler.stats;
    const newEvents = events.events.slice(eventsBefore);
    const failingAt = newEvents
      .map((e, i) => ({
        e,
        at: (emittedAt[eventsBefore + i]! - start) / 1000,
        why: context[eventsBefore + i]!,
      }))
      .filter(({ e }) => e.reason === 'TargetFailing');
    const count = (reason: string): number => newEvents.filter((e) => e.reason === reason).length;
    const sent = stats.sent - sentBefore;
    const gcs = gcAfter.reduce((a, b) => a + b, 0) - gcBefore.reduce((a, b) => a + b, 0);
    const q = (h: LogHistogram, p: number): string => (h.quantile(p) ?? NaN).toFixed(2);
    console.log(
      `soak ${elapsed.toFixed(0)} s: ${PODS} CoreDNS pods x ${QUERIES} queries every 100 ms, busy loops on ${cpus().length} cores, ` +
        `GC load ${(loadSent / elapsed).toFixed(0)} queries/s of ~3 KB TXT answers (GOGC=10: ${(gcs / elapsed).toFixed(1)} CoreDNS GCs/s)`,
    );
    console.log(
      `  GC load answered ${loadAnswered} of ${loadSent} (${((100 * loadAnswered) / Math.max(1, loadSent)).toFixed(2)} %); ` +
        `queries the kernel dropped at CoreDNS's full receive buffers: ${drops}` +
        (drops > 0 ? ' (the servers were overloaded: their timeouts were real)' : ''),
    );
    console.log(
      `  probes sent ${sent} (${(sent / elapsed).toFixed(0)}/s); results ${JSON.stringify(Object.fromEntries(results))}`,
    );
    console.log(
      `  not counted (our own loop stalled > deadline/2) ${stats.lagExcluded - statsBefore.lagExcluded}, ` +
        `re-phased (sent too late) ${stats.lateRephased - statsBefore.lateRephased}, confirmations ${stats.confirmations - statsBefore.confirmations}, ` +
        `late answers ${stats.lateAnswers - statsBefore.lateAnswers}; longest failure run ${maxRun} (threshold 3)`,
    );
    console.log(
      `  answer RTT (counted, on time or late): p50 ${q(rtt, 0.5)} ms, p99 ${q(rtt, 0.99)}, p99.9 ${q(rtt, 0.999)}, ` +
        `p99.99 ${q(rtt, 0.9999)}, max ${q(rtt, 1)} ms; deadlines used: p50 ${q(deadlines, 0.5)} ms, ` +
        `p99 ${q(deadlines, 0.99)}, max ${q(deadlines, 1)} ms (floor ${DEADLINE_LIMITS.floorMs} ms)`,
    );
    console.log(
      `  prober event loop delay p99 ${(loopDelay.percentile(99) / 1e6).toFixed(1)} ms, max ${(loopDelay.max / 1e6).toFixed(1)} ms`,
    );
    console.log(
      `  => Failing ${count('TargetFailing')} (target-samples in Failing ${failingSeen}), evictions ${eviction.calls}, ` +
        `Degraded ${count('TargetDegraded')}, status writes ${runtime.statusWrites}`,
    );
    for (const { e, at, why } of failingAt.slice(0, 40))
      console.log(`    Failing at ${at.toFixed(2)} s: ${e.aggregateBy} (${why})`);
  } finally {
    kill(children);
    process.off('exit', stopChildren);
    runtime?.stop(true);
    lag.stop();
    for (const s of servers) await s.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  benchProbesSoak().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
