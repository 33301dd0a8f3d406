import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { CliIO } from '../cli-io';
import {
  parseQuery,
  parseServer,
  runProbeCommand,
  type ProbeCommandOptions,
} from './probe-command';
import { DnsTestServer } from '../../test/fakes/dns-test-server';

function capture(): CliIO & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (t) => out.push(t), stderr: (t) => err.push(t) };
}

const BASE: ProbeCommandOptions = {
  servers: ['127.0.0.1:53'],
  queries: ['kubernetes.default.svc.cluster.local'],
  interval: '100ms',
  timeout: '100ms',
  transport: 'udp',
  duration: '30s',
  output: 'text',
};

describe('dnsop probe: arguments', () => {
  it.each([
    [{ servers: [] }, /--server: at least one/],
    [{ queries: [] }, /--query: at least one/],
    [
      { servers: ['kube-dns.kube-system'] },
      /--server "kube-dns.kube-system": expected an IP address/,
    ],
    [{ servers: ['10.0.0.1:99999'] }, /port must be from 1 to 65535/],
    [{ queries: ['a.example/ANY'] }, /--query "a.example\/ANY": type must be one of/],
    [{ queries: ['bad..name/A'] }, /--query "bad..name\/A": invalid query name/],
    [{ interval: 'fast' }, /--interval: invalid duration "fast"/],
    [{ interval: '1ms' }, /--interval: must be at least 10ms/],
    [{ timeout: '0s' }, /--timeout: must be greater than zero/],
    [{ duration: 'forever' }, /--duration: invalid duration/],
    [{ transport: 'quic' }, /--transport: must be udp or tcp/],
    [{ output: 'yaml' }, /-o: must be text or json/],
  ])('%j exits 2 with a clear message', async (override, message) => {
    const io = capture();
    expect(await runProbeCommand({ ...BASE, ...override }, io)).toBe(2);
    expect(io.err.join('')).toMatch(message);
    expect(io.err.join('')).toMatch(/^dnsop probe: /);
    expect(io.out).toEqual([]);
  });

  it.each([
    ['10.96.0.10', '10.96.0.10:53'],
    ['10.96.0.10:5353', '10.96.0.10:5353'],
    ['[fd00::a]:53', '[fd00::a]:53'],
    ['fd00::a', '[fd00::a]:53'],
    ['[::1]', '[::1]:53'],
  ])('parses server %s', (text, key) => {
    expect(parseServer(text).key).toBe(key);
  });

  it('parses name[/TYPE] queries', () => {
    expect(parseQuery('a.example')).toEqual({ name: 'a.example', type: 'A' });
    expect(parseQuery('_dns._udp.kube-dns.kube-system.svc.cluster.local/srv')).toEqual({
      name: '_dns._udp.kube-dns.kube-system.svc.cluster.local',
      type: 'SRV',
    });
  });
});

describe('dnsop probe: against a loopback server', () => {
  let good: DnsTestServer;
  let bad: DnsTestServer;
  beforeEach(async () => {
    good = await DnsTestServer.start();
    bad = await DnsTestServer.start();
    bad.set({ kind: 'drop' });
  });
  afterEach(async () => {
    await good.close();
    await bad.close();
  });

  it('prints a JSON line per state change, then the summary, and exits 1 (a target ended Failing)', async () => {
    const io = capture();
    const code = await runProbeCommand(
      {
        ...BASE,
        servers: [`127.0.0.1:${good.port}`, `127.0.0.1:${bad.port}`],
        queries: ['a.example', 'b.example/SRV'],
        interval: '50ms',
        timeout: '50ms',
        duration: '1s',
        output: 'json',
      },
      io,
    );
    expect(code).toBe(1);
    const lines = io.out
      .join('')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const summary = lines.at(-1) as { summary: { targets: Record<string, unknown>[] } };
    const changes = lines.slice(0, -1);
    expect(changes).toContainEqual(
      expect.objectContaining({
        target: `127.0.0.1:${bad.port}`,
        state: 'Failing',
        signal: 'ConsecutiveFailures',
      }),
    );
    expect(changes).toContainEqual(
      expect.objectContaining({ target: `127.0.0.1:${good.port}`, state: 'Healthy' }),
    );
    for (const c of changes) {
      expect(Object.keys(c).sort()).toEqual(
        'signal' in c
          ? ['signal', 'state', 'target', 'time', 'value']
          : ['state', 'target', 'time'],
      );
      expect(new Date(c['time'] as string).toISOString()).toBe(c['time']);
    }
    const [g, b] = summary.summary.targets;
    expect(Object.keys(summary)).toEqual(['summary']);
    expect(g).toMatchObject({ target: `127.0.0.1:${good.port}`, successRatio: 1 });
    expect(Object.keys(g!)).toEqual(['target', 'probes', 'successRatio', 'p50Ms', 'p99Ms']);
    expect(g!['probes']).toBeGreaterThan(10);
    expect(b).toMatchObject({ target: `127.0.0.1:${bad.port}`, successRatio: 0 });
  });

  it('exits 1 when a server that answered goes silent, after a Failing line', async () => {
    const io = capture();
    setTimeout(() => good.set({ kind: 'drop' }), 600);
    const code = await runProbeCommand(
      { ...BASE, servers: [`127.0.0.1:${good.port}`], duration: '2s' },
      io,
    );
    expect(code).toBe(1);
    const text = io.out.join('');
    expect(text).toMatch(new RegExp(`127\\.0\\.0\\.1:${good.port} Unknown -> Healthy\\n`));
    expect(text).toMatch(new RegExp(`127\\.0\\.0\\.1:${good.port} Healthy -> Failing`));
  });

  it('prints text lines and a table, stops early on abort, and exits 0 (every target Healthy)', async () => {
    const io = capture();
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 500);
    const code = await runProbeCommand(
      { ...BASE, servers: [`127.0.0.1:${good.port}`], duration: '1h', interval: '50ms' },
      io,
      abort.signal,
    );
    expect(code).toBe(0);
    const text = io.out.join('');
    expect(text).toMatch(new RegExp(`Z 127\\.0\\.0\\.1:${good.port} Unknown -> Healthy\\n`));
    expect(text).toMatch(/TARGET\s+PROBES\s+SUCCESS\s+P50\(ms\)\s+P99\(ms\)\s+STATE/);
    expect(text).toMatch(new RegExp(`127\\.0\\.0\\.1:${good.port}\\s+\\d+\\s+100\\.00%.*Healthy`));
  });
});

describe('dnsop probe: start-up', () => {
  /** Every package the module loads at run time, following relative imports (type-only ones excluded). */
  function runtimePackages(entry: string): Set<string> {
    const seen = new Set<string>();
    const packages = new Set<string>();
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/^(?:import|export)\s+(?!type\b)[^;]*?from\s+'([^']+)';/gms)) {
        const spec = m[1]!;
        if (spec.startsWith('.')) visit(join(dirname(file), `${spec}.ts`));
        else packages.add(spec);
      }
    };
    visit(entry);
    return packages;
  }

  it('loads no operator framework, Kubernetes client or cloud SDK (first probe within 300 ms of launch)', () => {
    const packages = [...runtimePackages(join(__dirname, 'probe-command.ts'))];
    expect(packages.filter((p) => !p.startsWith('node:')).sort()).toEqual(['dns-packet']);
  });
});
