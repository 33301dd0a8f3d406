/**
 * Probe engine bench: throughput and CPU cost against a loopback DNS server, UDP socket strategy
 * compared, and detection latency for a hung server.
 *
 * The server is a real CoreDNS (.tools/bin/coredns, `template` plugin) in its own process, so
 * process.cpuUsage() here is the prober's cost only; without CoreDNS it falls back to the
 * in-process test server (and says so: the CPU figure then includes the server).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreDnsServer } from '../envtest/coredns-server';
import { LoopbackBlock, freeDualPort } from '../envtest/net';
import { toolsDir } from '../envtest/tools';
import type { TargetIdentity } from '../../operator/probes/detector';
import { ProbeEngine, type EngineTarget, type ProbeObserver } from '../../operator/probes/engine';
import { LoopLagMonitor } from '../../operator/probes/loop-lag';
import { Resolver, makeTarget, type ResolverOptions } from '../../operator/probes/resolver';
import { probeSettings } from '../../operator/probes/settings';
import { LogHistogram } from '../../operator/probes/stats';
import { DnsTestServer } from '../fakes/dns-test-server';

interface Server {
  readonly kind: string;
  readonly addresses: readonly string[];
  readonly port: number;
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

/** One CoreDNS bound to `count` loopback addresses (one target each), answering every A query. */
async function startServer(count: number): Promise<Server> {
  const binary = join(toolsDir(), 'bin', 'coredns');
  if (existsSync(binary)) {
    const block = new LoopbackBlock();
    const addresses = Array.from({ length: count }, (_, i) => block.address(i + 2));
    const port = await freeDualPort(addresses[0]);
    const workDir = mkdtempSync(join(tmpdir(), 'dnsop-bench-'));
    const corefile = [
      `.:${port} {`,
      `    bind ${addresses.join(' ')}`,
      '    template IN A bench.test {',
      '        answer "{{ .Name }} 60 IN A 10.0.0.1"',
      '    }',
      '}',
      '',
    ].join('\n');
    const server = await CoreDnsServer.start({ binary, name: 'coredns-bench', workDir, corefile });
    return {
      kind: `CoreDNS (${binary}), separate process`,
      addresses,
      port,
      pause: () => server.pause(),
      resume: () => server.resume(),
      stop: async () => {
        await server.stop();
        rmSync(workDir, { recursive: true, force: true });
      },
    };
  }
  const servers = await Promise.all(Array.from({ length: count }, () => DnsTestServer.start()));
  let paused = false;
  for (const s of servers) s.behavior = () => (paused ? { kind: 'drop' } : { kind: 'answer' });
  return {
    kind: 'in-process test server (no .tools/bin/coredns: CPU includes the server)',
    addresses: servers.map(() => '127.0.0.1'),
    port: servers[0]!.port,
    pause: () => (paused = true),
    resume: () => (paused = false),
    stop: async () => {
      await Promise.all(servers.map((s) => s.close()));
    },
  };
}

function targets(server: Server): EngineTarget[] {
  return server.addresses.map((address) => {
    const target = makeTarget(address, server.port);
    const identity: TargetIdentity = { key: target.key, address: target.key, kind: 'Address' };
    return { target, identity };
  });
}

const pct = (h: LogHistogram, q: number): string => (h.quantile(q) ?? NaN).toFixed(3);

/** Runs 1,000 probes/s (10 targets x 10 queries every 100 ms) for `seconds`; prints cost. */
async function throughput(
  server: Server,
  label: string,
  resolver: ResolverOptions,
  seconds: number,
): Promise<number> {
  const rtt = new LogHistogram();
  const results = new Map<string, number>();
  const observer: ProbeObserver = {
    onProbe: (_e, _q, r) => {
      results.set(r.outcome, (results.get(r.outcome) ?? 0) + 1);
      if (r.outcome === 'success') rtt.add(r.rttMs);
    },
  };
  const settings = probeSettings({
    queries: Array.from({ length: 10 }, (_, i) => ({ name: `q${i}.bench.test` })),
    interval: '100ms',
    timeout: '100ms',
    maxQPS: 10_000,
  });
  const lag = new LoopLagMonitor();
  let sockets = 0;
  const engine = new ProbeEngine({
    settings,
    lag,
    observer,
    onAssessment: () => undefined,
    sender: (onResult) => {
      const r = new Resolver(onResult, resolver);
      const close = r.close.bind(r);
      return {
        query: r.query.bind(r),
        close: () => {
          sockets = r.stats.socketsOpened;
          close();
        },
      };
    },
  });
  engine.setTargets(targets(server).slice(0, 10));
  lag.start();
  engine.start();
  await new Promise((r) => setTimeout(r, 1000)); // warm-up
  global.gc?.();
  const probesBefore = [...results.values()].reduce((a, b) => a + b, 0);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const cpu = process.cpuUsage(cpu0);
  const elapsed = (performance.now() - t0) / 1000;
  const probes = [...results.values()].reduce((a, b) => a + b, 0) - probesBefore;
  engine.stop();
  lag.stop();
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const rate = probes / elapsed;
  console.log(
    `  ${label.padEnd(34)} ${rate.toFixed(0).padStart(5)} probes/s  ` +
      `CPU ${((cpuMs / probes) * 1000).toFixed(1).padStart(5)} ms per 1,000 probes ` +
      `= ${((cpuMs / (elapsed * 1000)) * 100).toFixed(1).padStart(4)}% of one core ` +
      `(user ${(cpu.user / 1000 / elapsed / 10).toFixed(1)}%, system ${(cpu.system / 1000 / elapsed / 10).toFixed(1)}%)  ` +
      `RTT p50 ${pct(rtt, 0.5)} ms p99 ${pct(rtt, 0.99)} ms  ` +
      `results ${JSON.stringify(Object.fromEntries(results))}  UDP sockets opened ${sockets}`,
  );
  return (cpuMs / probes) * 1000;
}

/** Time from SIGSTOP of the server to the target's Failing state, over `trials` faults. */
async function detection(server: Server, queries: number, trials: number): Promise<void> {
  const settings = probeSettings({
    queries: Array.from({ length: queries }, (_, i) => ({ name: `d${i}.bench.test` })),
  });
  const lag = new LoopLagMonitor();
  let waiter:
    { match: (from: string, to: string) => boolean; resolve: (at: number) => void } | undefined;
  let leftFailing: number | undefined;
  const engine = new ProbeEngine({
    settings,
    lag,
    onAssessment: (_a, changes) => {
      for (const c of changes) {
        if (c.from === 'Failing') leftFailing ??= performance.now();
        if (waiter !== undefined && waiter.match(c.from, c.to)) {
          waiter.resolve(performance.now());
          waiter = undefined;
        }
      }
    },
  });
  const until = (state: string): Promise<number> =>
    new Promise((resolve) => (waiter = { match: (_f, to) => to === state, resolve }));
  const leaving = (state: string): Promise<number> =>
    new Promise((resolve) => (waiter = { match: (from) => from === state, resolve }));
  engine.setTargets(targets(server).slice(0, 1));
  lag.start();
  engine.start();
  const latencies: number[] = [];
  const recoveries: number[] = [];
  const unfailed: number[] = [];
  await until('Healthy');
  for (let i = 0; i < trials; i++) {
    // A random phase against the probe schedule, then hang the server.
    await new Promise((r) => setTimeout(r, 300 + Math.random() * 200));
    const failing = until('Failing');
    const t0 = performance.now();
    server.pause();
    latencies.push((await failing) - t0);
    await new Promise((r) => setTimeout(r, 100));
    // Back to Healthy takes the short window (LowSuccessRatio); measured on the first trial only.
    const back = i === 0 ? until('Healthy') : leaving('Failing');
    leftFailing = undefined;
    const t1 = performance.now();
    server.resume();
    const at = await back;
    if (i === 0) recoveries.push(at - t1);
    unfailed.push((leftFailing ?? at) - t1);
  }
  engine.stop();
  lag.stop();
  const sorted = [...latencies].sort((a, b) => a - b);
  const q = (p: number): string =>
    sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!.toFixed(0);
  const median = (xs: number[]): string =>
    [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!.toFixed(0);
  console.log(
    `  ${queries} ${queries === 1 ? 'query ' : 'queries'} x ${trials} hangs: detection p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, ` +
      `max ${sorted.at(-1)!.toFixed(0)} ms (target < 400 ms p99); after SIGCONT: no longer Failing p50 ${median(unfailed)} ms, ` +
      `Healthy after ${median(recoveries)} ms (once: the 5 s window must clear LowSuccessRatio)`,
  );
}

export async function benchProbes(): Promise<void> {
  const server = await startServer(10);
  try {
    console.log(`server: ${server.kind}`);
    console.log(
      'throughput and cost (10 targets x 10 queries every 100 ms, UDP, 6 s per run, the two UDP socket strategies interleaved):',
    );
    const pool: number[] = [];
    const perProbe: number[] = [];
    for (let round = 0; round < 3; round++) {
      pool.push(await throughput(server, 'socket pool (4, rotate/1024 q)', {}, 6));
      perProbe.push(
        await throughput(
          server,
          'socket per probe',
          { socketsPerFamily: 1, queriesPerSocket: 1 },
          6,
        ),
      );
    }
    const median = (xs: number[]): string => [...xs].sort((a, b) => a - b)[1]!.toFixed(1);
    console.log(
      `  median CPU per 1,000 probes: socket pool ${median(pool)} ms, socket per probe ${median(perProbe)} ms`,
    );
    console.log(
      'detection of a hung server (SIGSTOP), interval 100 ms, timeout 100 ms, threshold 3:',
    );
    await detection(server, 1, 40);
    await detection(server, 3, 20);
  } finally {
    await server.stop();
  }
}

if (require.main === module) {
  benchProbes().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
