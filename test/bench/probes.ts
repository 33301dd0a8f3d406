/**
 * Probe engine bench: throughput and CPU cost against a loopback DNS server, UDP socket strategy
 * compared, and detection latency for a hung server.
 *
 * The server is a real CoreDNS (.tools/bin/coredns, `template` plugin) in its own process, so
 * process.cpuUsage() here is the prober's cost only; without CoreDNS it falls back to the
 * in-process test server (and says so: the CPU figure then includes the server).
 */
import { spawn } from 'node:child_process';
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
import { evictionLatency } from './probes-eviction';

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

interface Detection {
  /** Hang -> Failing, ms, one per trial. */
  readonly latencies: number[];
  /** SIGCONT -> no longer Failing, ms. */
  readonly recoveries: number[];
}

/** p-quantile (nearest rank) of xs. */
function quantile(xs: readonly number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

function describeDetection(label: string, d: Detection, goal: string): string {
  const q = (p: number): string => quantile(d.latencies, p).toFixed(0).padStart(4);
  return (
    `  ${label.padEnd(44)} ${String(d.latencies.length).padStart(3)} hangs: p50 ${q(0.5)} ms  p99 ${q(0.99)} ms  ` +
    `max ${Math.max(...d.latencies)
      .toFixed(0)
      .padStart(4)} ms  (${goal}); out of Failing after SIGCONT p50 ` +
    `${quantile(d.recoveries, 0.5).toFixed(0)} ms`
  );
}

/** Time from SIGSTOP of the server to the target's Failing state (in-process engine), `trials` times. */
async function detection(
  server: Server,
  spec: { queries: number; adaptiveTimeout: boolean },
  trials: number,
): Promise<Detection> {
  const settings = probeSettings({
    queries: Array.from({ length: spec.queries }, (_, i) => ({ name: `d${i}.bench.test` })),
    adaptiveTimeout: spec.adaptiveTimeout,
  });
  const lag = new LoopLagMonitor();
  let waiter:
    { match: (from: string, to: string) => boolean; resolve: (at: number) => void } | undefined;
  const engine = new ProbeEngine({
    settings,
    lag,
    onAssessment: (_a, changes) => {
      for (const c of changes) {
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
  try {
    return await hangTrials(server, trials, until, leaving);
  } finally {
    engine.stop();
    lag.stop();
  }
}

/**
 * `trials` hangs of the server once the prober (`until` a state, `leaving` one) says Healthy: at
 * a random phase against the probe schedule SIGSTOP, time until Failing, hold it hung for longer
 * than the timeout, SIGCONT, time until it leaves Failing.
 */
async function hangTrials(
  server: Server,
  trials: number,
  until: (state: string) => Promise<number>,
  leaving: (state: string) => Promise<number>,
): Promise<Detection> {
  const latencies: number[] = [];
  const recoveries: number[] = [];
  await until('Healthy');
  await new Promise((r) => setTimeout(r, 2000)); // a few RTTs for the adaptive deadline
  for (let i = 0; i < trials; i++) {
    await new Promise((r) => setTimeout(r, 300 + Math.random() * 200));
    const failing = until('Failing');
    const t0 = performance.now();
    server.pause();
    latencies.push((await failing) - t0);
    await new Promise((r) => setTimeout(r, 150));
    const back = leaving('Failing');
    const t1 = performance.now();
    server.resume();
    recoveries.push((await back) - t1);
  }
  return { latencies, recoveries };
}

/**
 * The same, seen from outside as a script would: `dnsop probe -o json` in its own process, the
 * time from SIGSTOP to its Failing line on stdout.
 */
async function cliDetection(server: Server, trials: number): Promise<Detection> {
  const root = join(__dirname, '..', '..');
  const child = spawn(
    process.execPath,
    [
      '-e',
      "require('ts-node').register({ transpileOnly: true });" +
        "require('./operator/main').main(process.argv).then((c) => { process.exitCode = c; });",
      // process.argv of `node -e`: [node, ...args]; main() wants [node, script, ...args].
      'dnsop',
      'probe',
      '--server',
      `${server.addresses[0]}:${server.port}`,
      '--query',
      'cli.bench.test',
      '--duration',
      '1h',
      '-o',
      'json',
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let buffer = '';
  let waiter: { state: string; leaving: boolean; resolve: (at: number) => void } | undefined;
  child.stdout.on('data', (chunk: Buffer) => {
    const at = performance.now();
    buffer += chunk.toString();
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      const state = (JSON.parse(line) as { state?: string }).state;
      if (waiter === undefined || state === undefined) continue;
      if (waiter.leaving ? state !== waiter.state : state === waiter.state) {
        waiter.resolve(at);
        waiter = undefined;
      }
    }
  });
  const until = (state: string, leaving = false): Promise<number> =>
    new Promise((resolve) => (waiter = { state, leaving, resolve }));
  try {
    return await hangTrials(server, trials, until, (state) => until(state, true));
  } finally {
    child.kill('SIGINT');
    await new Promise((r) => child.once('exit', r));
  }
}

/** Trials of each detection run (the goals are stated over 200). */
const TRIALS = Number(process.env['PROBES_BENCH_TRIALS'] ?? 200);

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
      'hang (SIGSTOP) -> Failing, default spec (interval 100 ms, timeout 100 ms, threshold 3), one query:',
    );
    const before = await detection(server, { queries: 1, adaptiveTimeout: false }, TRIALS);
    console.log(
      describeDetection(
        'before: a 100 ms deadline, no confirmations',
        before,
        'adaptiveTimeout: false, the schedule before issue 12',
      ),
    );
    const adaptive = await detection(server, { queries: 1, adaptiveTimeout: true }, TRIALS);
    console.log(
      describeDetection(
        'adaptive deadlines + confirmation probes',
        adaptive,
        'goal p50 <= 100, p99 <= 150',
      ),
    );
    const cli = await cliDetection(server, Math.min(TRIALS, 100));
    console.log(
      describeDetection(
        '`dnsop probe -o json`, seen on its stdout',
        cli,
        'the same engine, from outside',
      ),
    );
    const three = await detection(
      server,
      { queries: 3, adaptiveTimeout: true },
      Math.min(TRIALS, 50),
    );
    console.log(describeDetection('adaptive, three queries', three, 'for comparison'));
  } finally {
    await server.stop();
  }
  await evictionLatency(Number(process.env['PROBES_BENCH_EVICTIONS'] ?? 30));
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
