/**
 * `npm run bench -- vs-external-dns` (optional: only when named; never part of `npm test`).
 *
 * external-dns and dnsop side by side on one real API server (envtest, with kube-controller-manager
 * running only the EndpointSlice controller, which external-dns's headless-Service source needs),
 * each writing to its own moto through a recording proxy, both fed the same Services and Pods:
 *  1. headless-Service label flip (a new pod gets role=primary, the old one loses it) -> the
 *     Route 53 change that publishes only the new primary, accepted by moto: p50/p99 per tool;
 *  2. a burst (every Service flipped at once): provider calls and time until each zone is right;
 *  3. idle CPU and RSS of both processes;
 *  4. a record-by-record diff of the two zones.
 * Phase A runs external-dns at its most aggressive flags, phase B at its defaults (no --events,
 * --interval=1m), where flips are staggered across a minute since each waits for the next loop.
 * external-dns is built once from the Go module proxy into <tools>/external-dns/<version>/bin
 * (never committed). Every endpoint is loopback; record data uses TEST-NET addresses.
 * Env: BENCH_FLIPS (default 50), BENCH_IDLE_S (default 60).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateHostedZoneCommand,
  Route53Client,
  type ResourceRecordSet,
} from '@aws-sdk/client-route-53';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { kubeRequest, MERGE_PATCH } from '../../operator/runtime/kube-http';
import { unescapeRoute53Name } from '../../operator/records/providers/route53-records';
import { applyObjects, readManifests } from '../envtest/apply';
import { ControlPlane } from '../envtest/control-plane';
import { MotoServer } from '../envtest/moto';
import { freeTcpPort } from '../envtest/net';
import { ManagedProcess } from '../envtest/process';
import { repoRoot, toolsDir } from '../envtest/tools';
import { waitFor } from '../envtest/wait';
import { isChangeBatch, Route53Proxy } from '../fakes/route53-proxy';
import { listRecordSets } from '../support/route53-zone';
import { imageNodeFlags } from './image-node-flags';

/**
 * The newest external-dns the Go module proxy serves that builds with this machine's Go 1.26:
 * v0.23.0 needs Go 1.27, and v0.22.0 needs module versions the proxy does not serve
 * (github.com/exoscale/egoscale/v3 v3.1.44, an openshift/api pseudo-version).
 */
export const EXTERNAL_DNS_VERSION = 'v0.21.0';
const NS = 'bench';
const DOMAIN = 'bench.example.com';
const FLIPS = Number(process.env['BENCH_FLIPS'] ?? 50);
const IDLE_S = Number(process.env['BENCH_IDLE_S'] ?? 60);
const SERVICES = FLIPS;
const NODE = 'bench-node';

/** external-dns's flags in each phase (read from its pkg/apis/externaldns/types.go). */
const EXTERNAL_DNS_AGGRESSIVE = ['--interval=0s', '--min-event-sync-interval=0s', '--events'];
const EXTERNAL_DNS_DEFAULTS: string[] = []; // --interval=1m, --min-event-sync-interval=5s, no --events

const podIp = (svc: number, pod: 'a' | 'b'): string =>
  `${pod === 'a' ? '192.0.2' : '198.51.100'}.${svc + 1}`;
const pgName = (i: number): string => `pg-${i}.${DOMAIN}`;

// ---- tools ------------------------------------------------------------------------------------

/** The external-dns binary, built with `go install` from the module proxy on first use. */
function externalDnsBinary(): string {
  const dir = join(toolsDir(), 'external-dns', EXTERNAL_DNS_VERSION, 'bin');
  const binary = join(dir, 'external-dns');
  if (existsSync(binary)) return binary;
  console.log(
    `building external-dns ${EXTERNAL_DNS_VERSION} from the Go module proxy into ${dir} (once)`,
  );
  mkdirSync(dir, { recursive: true });
  execFileSync(
    'nice',
    [
      '-n',
      '10',
      'go',
      'install',
      '-p',
      '2',
      '-trimpath',
      '-ldflags=-s -w',
      `sigs.k8s.io/external-dns@${EXTERNAL_DNS_VERSION}`,
    ],
    {
      stdio: 'inherit',
      env: {
        ...process.env,
        GOBIN: dir,
        GOTOOLCHAIN: 'local',
        CGO_ENABLED: '0',
        GOFLAGS: '-buildvcs=false',
      },
    },
  );
  return binary;
}

/**
 * dnsop as users run it: the compiled CLI (dist/ rebuilt from the current sources), with the node
 * flags of the image.
 */
function dnsopCommand(): string[] {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: repoRoot, stdio: 'inherit' });
  return [process.execPath, ...imageNodeFlags(repoRoot), join(repoRoot, 'bin', 'dnsop.js')];
}

// ---- one tool writing to its own moto ---------------------------------------------------------

export interface Sink {
  readonly moto: MotoServer;
  readonly proxy: Route53Proxy;
  readonly admin: Route53Client;
  readonly zoneId: string;
}

export async function startSink(): Promise<Sink> {
  const moto = await MotoServer.start();
  const proxy = await Route53Proxy.start(moto.endpoint);
  const admin = new Route53Client({
    region: moto.region,
    endpoint: moto.endpoint,
    credentials: moto.credentials,
  });
  const zone = await admin.send(
    new CreateHostedZoneCommand({ Name: 'example.com', CallerReference: `bench-${Date.now()}` }),
  );
  return { moto, proxy, admin, zoneId: (zone.HostedZone?.Id ?? '').replace('/hostedzone/', '') };
}

export async function stopSink(sink: Sink): Promise<void> {
  sink.admin.destroy();
  await sink.proxy.stop();
  await sink.moto.stop();
}

interface Record53 {
  readonly name: string;
  readonly type: string;
  readonly value: string;
}

async function zoneOf(sink: Sink): Promise<Record53[]> {
  return (await listRecordSets(sink.admin, sink.zoneId)).map(toRecord);
}

function toRecord(rrs: ResourceRecordSet): Record53 {
  const value = rrs.AliasTarget
    ? `alias ${(rrs.AliasTarget.DNSName ?? '').toLowerCase().replace(/\.$/, '')} (${rrs.AliasTarget.HostedZoneId ?? ''})`
    : `${(rrs.ResourceRecords ?? [])
        .map((r) => r.Value ?? '')
        .sort()
        .join(',')} ttl ${rrs.TTL ?? 0}`;
  return { name: unescapeRoute53Name(rrs.Name ?? ''), type: rrs.Type ?? '', value };
}

/** Accepted A-record changes of pg-* names: [time accepted, name, values]. */
function acceptedPgChanges(sink: Sink, from = 0): { at: number; name: string; values: string }[] {
  const out: { at: number; name: string; values: string }[] = [];
  for (const r of sink.proxy.requests.slice(from)) {
    if (!isChangeBatch(r.method, r.path, r.body) || r.status !== 200 || r.answeredAt === undefined)
      continue;
    for (const m of r.body.matchAll(/<Change>([\s\S]*?)<\/Change>/g)) {
      const change = m[1] ?? '';
      const name = unescapeRoute53Name(/<Name>([^<]*)<\/Name>/.exec(change)?.[1] ?? '');
      if (!/^pg-\d+\./.test(name) || !/<Type>A<\/Type>/.test(change)) continue;
      if (/<Action>DELETE<\/Action>/.test(change)) continue;
      const values = [...change.matchAll(/<Value>([^<]*)<\/Value>/g)]
        .map((v) => v[1] ?? '')
        .sort()
        .join(',');
      out.push({ at: r.answeredAt, name, values });
    }
  }
  return out;
}

// ---- processes ----------------------------------------------------------------------------------

interface Tool {
  readonly name: string;
  readonly process: ManagedProcess;
  readonly sink: Sink;
}

async function startDnsop(
  plane: ControlPlane,
  sink: Sink,
  command: string[],
  workDir: string,
): Promise<Tool> {
  const process_ = await ManagedProcess.start({
    name: 'dnsop',
    command: command[0]!,
    args: [
      ...command.slice(1),
      'run',
      `--kubeconfig=${plane.kubeconfigPath}`,
      `--metrics-addr=127.0.0.1:${await freeTcpPort()}`,
      '--controllers=dnspolicy',
      '--leader-elect=false',
      `--trusted-namespaces=${NS}`,
      '--log-level=warn',
    ],
    logFile: join(workDir, 'dnsop.log'),
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: workDir, NODE_ENV: 'production' },
  });
  await applyObjects(plane.kubeConfig, [
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'aws', namespace: NS },
      stringData: {
        AWS_ACCESS_KEY_ID: sink.moto.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: sink.moto.credentials.secretAccessKey,
      },
    } as KubernetesObject,
    {
      apiVersion: 'dnsop.io/v1alpha1',
      kind: 'DNSPolicy',
      metadata: { name: 'bench', namespace: NS },
      spec: {
        sources: [{ kind: 'Service' }],
        domains: ['example.com'],
        provider: {
          route53: {
            region: sink.moto.region,
            endpoint: sink.proxy.endpoint,
            credentialsSecretRef: { name: 'aws' },
          },
        },
      },
    } as KubernetesObject,
  ]);
  return { name: 'dnsop', process: process_, sink };
}

async function startExternalDns(
  plane: ControlPlane,
  sink: Sink,
  binary: string,
  flags: readonly string[],
  workDir: string,
  label: string,
): Promise<Tool> {
  const process_ = await ManagedProcess.start({
    name: `external-dns-${label}`,
    command: binary,
    args: [
      '--source=service',
      '--provider=aws',
      '--registry=txt',
      '--txt-owner-id=bench',
      '--domain-filter=example.com',
      `--namespace=${NS}`,
      `--kubeconfig=${plane.kubeconfigPath}`,
      `--metrics-address=127.0.0.1:${await freeTcpPort()}`,
      '--log-level=info',
      ...flags,
    ],
    logFile: join(workDir, `external-dns-${label}.log`),
    // Only loopback: the proxy in front of moto, no instance metadata, no shared config files.
    env: {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: workDir,
      AWS_REGION: sink.moto.region,
      AWS_ACCESS_KEY_ID: sink.moto.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: sink.moto.credentials.secretAccessKey,
      AWS_ENDPOINT_URL: sink.proxy.endpoint,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONFIG_FILE: join(workDir, 'none'),
      AWS_SHARED_CREDENTIALS_FILE: join(workDir, 'none'),
    },
  });
  return { name: `external-dns (${label})`, process: process_, sink };
}

/** CPU seconds (user + system) and RSS of a process, from /proc. */
export function usage(pid: number): { cpuS: number; rssMB: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return { cpuS: ticks / 100, rssMB: Number(rss ?? 0) / 1024 };
}

// ---- objects ----------------------------------------------------------------------------------

function headlessObjects(): KubernetesObject[] {
  const out: KubernetesObject[] = [];
  for (let i = 0; i < SERVICES; i++) {
    out.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: `pg-${i}`,
        namespace: NS,
        annotations: { 'external-dns.alpha.kubernetes.io/hostname': pgName(i) },
      },
      spec: {
        clusterIP: 'None',
        selector: { app: `pg-${i}`, role: 'primary' },
        ports: [{ port: 5432 }],
      },
    } as KubernetesObject);
    for (const p of ['a', 'b'] as const) {
      out.push({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: `pg-${i}-${p}`,
          namespace: NS,
          labels: { app: `pg-${i}`, role: p === 'a' ? 'primary' : 'replica' },
        },
        spec: { nodeName: NODE, containers: [{ name: 'pg', image: 'postgres' }] },
      } as KubernetesObject);
    }
  }
  return out;
}

/** Other shapes both tools publish, for the zone diff. */
const OTHER_SERVICES: { name: string; hostname: string; spec: object; ingress?: object }[] = [
  {
    name: 'lb-ip',
    hostname: `app.${DOMAIN}`,
    spec: { type: 'LoadBalancer', ports: [{ port: 80 }] },
    ingress: { ip: '203.0.113.10' },
  },
  {
    name: 'lb-elb',
    hostname: `api.${DOMAIN}`,
    spec: { type: 'LoadBalancer', ports: [{ port: 443 }] },
    ingress: { hostname: 'my-lb-1234.us-east-1.elb.amazonaws.com' },
  },
  {
    name: 'lb-other',
    hostname: `www.${DOMAIN}`,
    spec: { type: 'LoadBalancer', ports: [{ port: 80 }] },
    ingress: { hostname: 'lb.example.net' },
  },
  {
    name: 'external',
    hostname: `docs.${DOMAIN}`,
    spec: { type: 'ExternalName', externalName: 'docs.example.org' },
  },
  {
    name: 'internal',
    hostname: `internal.${DOMAIN}`,
    spec: { type: 'ClusterIP', ports: [{ port: 80 }] },
  },
];

async function patchStatus(kc: KubeConfig, path: string, status: object): Promise<void> {
  await kubeRequest(kc, {
    method: 'PATCH',
    path: `${path}/status`,
    contentType: MERGE_PATCH,
    body: { status },
  });
}

async function createObjects(plane: ControlPlane): Promise<void> {
  const kc = plane.kubeConfig;
  const crds = readManifests(join(repoRoot, 'crds')).filter(
    (o) => o.kind === 'CustomResourceDefinition',
  );
  await applyObjects(kc, [
    ...crds,
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
    // The EndpointSlice controller skips pods whose node it cannot find.
    { apiVersion: 'v1', kind: 'Node', metadata: { name: NODE } },
  ]);
  await applyObjects(kc, [
    ...headlessObjects(),
    ...OTHER_SERVICES.map(
      (s) =>
        ({
          apiVersion: 'v1',
          kind: 'Service',
          metadata: {
            name: s.name,
            namespace: NS,
            annotations: { 'external-dns.alpha.kubernetes.io/hostname': s.hostname },
          },
          spec: s.spec,
        }) as KubernetesObject,
    ),
  ]);
  for (const s of OTHER_SERVICES) {
    if (s.ingress)
      await patchStatus(kc, `/api/v1/namespaces/${NS}/services/${s.name}`, {
        loadBalancer: { ingress: [s.ingress] },
      });
  }
  // No kubelet: each pod is made Running and Ready with its address by hand.
  for (let i = 0; i < SERVICES; i++) {
    for (const p of ['a', 'b'] as const) {
      await patchStatus(kc, `/api/v1/namespaces/${NS}/pods/pg-${i}-${p}`, {
        phase: 'Running',
        podIP: podIp(i, p),
        podIPs: [{ ip: podIp(i, p) }],
        conditions: [{ type: 'Ready', status: 'True' }],
      });
    }
  }
}

/** Which pod of each Service is primary now. */
const primary: ('a' | 'b')[] = Array.from({ length: SERVICES }, () => 'a');

async function flip(kc: KubeConfig, i: number): Promise<string> {
  const from = primary[i]!;
  const to = from === 'a' ? 'b' : 'a';
  const label = async (pod: string, role: string): Promise<void> => {
    await kubeRequest(kc, {
      method: 'PATCH',
      path: `/api/v1/namespaces/${NS}/pods/${pod}`,
      contentType: MERGE_PATCH,
      body: { metadata: { labels: { role } } },
    });
  };
  await label(`pg-${i}-${to}`, 'primary');
  await label(`pg-${i}-${from}`, 'replica');
  primary[i] = to;
  return podIp(i, to);
}

const wanted = (i: number): string => podIp(i, primary[i]!);

async function zoneRight(sink: Sink): Promise<boolean> {
  const zone = await zoneOf(sink);
  return Array.from({ length: SERVICES }, (_, i) => i).every((i) =>
    zone.some((r) => r.name === pgName(i) && r.type === 'A' && r.value === `${wanted(i)} ttl 300`),
  );
}

// ---- measurements -----------------------------------------------------------------------------

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

interface Latencies {
  readonly ms: number[];
  readonly missed: number;
}

/** Flips Service i at starts[i] (ms from now) and waits for each tool's change; latency per flip. */
async function measureFlips(
  kc: KubeConfig,
  tools: readonly Tool[],
  gapMs: number,
  timeoutMs: number,
  sequential: boolean,
): Promise<Map<string, Latencies>> {
  const marks = tools.map((t) => t.sink.proxy.requests.length);
  const flips: { i: number; at: number; ip: string }[] = [];
  const started = performance.now();
  for (let i = 0; i < FLIPS; i++) {
    const due = started + i * gapMs;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const at = performance.now();
    flips.push({ i, at, ip: await flip(kc, i) });
    if (sequential) {
      await waitFor(
        'both tools to publish the flip',
        () => {
          const done = tools.every((t, k) =>
            acceptedPgChanges(t.sink, marks[k]).some(
              (c) => c.name === pgName(i) && c.values === podIp(i, primary[i]!) && c.at >= at,
            ),
          );
          return done ? true : undefined;
        },
        { timeoutMs, intervalMs: 20 },
      ).catch(() => undefined);
    }
  }
  const deadline = performance.now() + timeoutMs;
  const result = new Map<string, Latencies>();
  for (const [k, tool] of tools.entries()) {
    for (;;) {
      const changes = acceptedPgChanges(tool.sink, marks[k]);
      const ms: number[] = [];
      for (const f of flips) {
        const hit = changes.find(
          (c) => c.name === pgName(f.i) && c.values === f.ip && c.at >= f.at,
        );
        if (hit) ms.push(hit.at - f.at);
      }
      if (ms.length === flips.length || performance.now() > deadline) {
        result.set(tool.name, { ms, missed: flips.length - ms.length });
        break;
      }
      await sleep(200);
    }
  }
  return result;
}

async function measureBurst(
  kc: KubeConfig,
  tools: readonly Tool[],
  timeoutMs: number,
): Promise<Map<string, { calls: number; ms: number }>> {
  const marks = tools.map((t) => t.sink.proxy.requests.length);
  const t0 = performance.now();
  const all = Array.from({ length: SERVICES }, (_, i) => i);
  for (let k = 0; k < all.length; k += 10)
    await Promise.all(all.slice(k, k + 10).map((i) => flip(kc, i)));
  const out = new Map<string, { calls: number; ms: number }>();
  await Promise.all(
    tools.map(async (tool, k) => {
      await waitFor(
        `${tool.name} zone right after the burst`,
        async () => ((await zoneRight(tool.sink)) ? true : undefined),
        { timeoutMs, intervalMs: 50 },
      ).catch(() => undefined);
      const ms = performance.now() - t0;
      const calls = tool.sink.proxy.requests
        .slice(marks[k])
        .filter((r) => isChangeBatch(r.method, r.path, r.body)).length;
      out.set(tool.name, { calls, ms });
    }),
  );
  return out;
}

async function measureIdle(
  tools: readonly Tool[],
): Promise<Map<string, { cpuPct: number; rssMB: number }>> {
  const before = tools.map((t) => usage(t.process.pid));
  const t0 = performance.now();
  await sleep(IDLE_S * 1000);
  const wallS = (performance.now() - t0) / 1000;
  return new Map(
    tools.map((t, k) => {
      const after = usage(t.process.pid);
      return [
        t.name,
        { cpuPct: ((after.cpuS - before[k]!.cpuS) / wallS) * 100, rssMB: after.rssMB },
      ];
    }),
  );
}

/** Record-by-record comparison of the two zones; ownership TXT records are compared by count. */
async function zoneDiff(a: Tool, b: Tool): Promise<string[]> {
  const isOwnership = (r: Record53): boolean => r.type === 'TXT' && /heritage=/.test(r.value);
  const [za, zb] = await Promise.all([zoneOf(a.sink), zoneOf(b.sink)]);
  const keyed = (z: Record53[]): Map<string, string> =>
    new Map(
      z
        .filter((r) => !isOwnership(r) && r.type !== 'SOA' && r.type !== 'NS')
        .map((r) => [`${r.name} ${r.type}`, r.value]),
    );
  const ma = keyed(za);
  const mb = keyed(zb);
  const lines: string[] = [];
  let samePg = 0;
  for (const key of [...new Set([...ma.keys(), ...mb.keys()])].sort()) {
    const va = ma.get(key);
    const vb = mb.get(key);
    const mark = va === vb ? '=' : va === undefined ? '+' : vb === undefined ? '-' : '~';
    // The headless Services' records are many and alike: identical ones are counted, not listed.
    if (mark === '=' && /^pg-\d+\./.test(key)) samePg++;
    else {
      lines.push(
        `  ${mark} ${key.padEnd(34)} ${a.name}: ${va ?? '(none)'}   ${b.name}: ${vb ?? '(none)'}`,
      );
    }
  }
  lines.push(`  = pg-0..pg-${SERVICES - 1}: ${samePg} of ${SERVICES} A records identical`);
  lines.push(
    `  ownership TXT records: ${a.name} ${za.filter(isOwnership).length}, ${b.name} ${zb.filter(isOwnership).length}`,
  );
  return lines;
}

const f0 = (n: number): string => (Number.isFinite(n) ? n.toFixed(0) : 'n/a');
const ratio = (x: number, y: number): string =>
  y > 0 && Number.isFinite(x) ? `${(x / y).toFixed(1)}x` : 'n/a';

function printLatencies(results: Map<string, Latencies>, base: string): void {
  const ref = results.get(base)!;
  for (const [name, l] of results) {
    const p50 = percentile(l.ms, 50);
    const p99 = percentile(l.ms, 99);
    const vs =
      name === base
        ? ''
        : `  (${ratio(p50, percentile(ref.ms, 50))} / ${ratio(p99, percentile(ref.ms, 99))} of dnsop's)`;
    console.log(
      `  ${name.padEnd(28)} p50 ${f0(p50)} ms, p99 ${f0(p99)} ms over ${l.ms.length} flips${l.missed ? ` (${l.missed} not seen)` : ''}${vs}`,
    );
  }
}

// ---- the bench --------------------------------------------------------------------------------

export async function benchVsExternalDns(): Promise<void> {
  const binary = externalDnsBinary();
  const dnsop = dnsopCommand();
  const workDir = mkdtempSync(join(tmpdir(), 'dnsop-vs-external-dns-'));
  writeFileSync(join(workDir, 'none'), '');
  console.log(
    `external-dns ${EXTERNAL_DNS_VERSION} vs dnsop; ${SERVICES} headless Services x 2 pods + ${OTHER_SERVICES.length} other Services; logs in ${workDir}`,
  );
  const plane = await ControlPlane.start({ controllerManager: { controllers: ['endpointslice'] } });
  const sinks: Sink[] = [];
  const tools: Tool[] = [];
  try {
    await createObjects(plane);
    const kc = plane.kubeConfig;
    const dnsopSink = await startSink();
    sinks.push(dnsopSink);
    const dnsopTool = await startDnsop(plane, dnsopSink, dnsop, workDir);
    tools.push(dnsopTool);
    for (const [label, flags, gapMs] of [
      ['aggressive', EXTERNAL_DNS_AGGRESSIVE, 0],
      ['defaults', EXTERNAL_DNS_DEFAULTS, 1_200],
    ] as const) {
      const sink = await startSink();
      sinks.push(sink);
      const ext = await startExternalDns(plane, sink, binary, flags, workDir, label);
      tools.push(ext);
      const pair = [dnsopTool, ext];
      await Promise.all(
        pair.map((t) =>
          waitFor(
            `${t.name}: first sync`,
            async () => ((await zoneRight(t.sink)) ? true : undefined),
            { timeoutMs: 180_000, intervalMs: 500 },
          ),
        ),
      );
      console.log(
        `\n### phase: external-dns at ${label === 'aggressive' ? `its most aggressive flags (${flags.join(' ')})` : 'its defaults (--interval=1m, --min-event-sync-interval=5s, no --events)'}`,
      );
      console.log('headless-Service label flip -> Route 53 change accepted:');
      const latencies = await measureFlips(
        kc,
        pair,
        gapMs,
        label === 'aggressive' ? 15_000 : 150_000,
        label === 'aggressive',
      );
      printLatencies(latencies, 'dnsop');
      if (label === 'aggressive') {
        console.log(
          `burst: all ${SERVICES} Services flipped at once (${SERVICES * 2} pod label changes):`,
        );
        const burst = await measureBurst(kc, pair, 120_000);
        const d = burst.get('dnsop')!;
        for (const [name, b] of burst) {
          console.log(
            `  ${name.padEnd(28)} ${b.calls} ChangeResourceRecordSets calls, zone right after ${f0(b.ms)} ms${name === 'dnsop' ? '' : `  (${ratio(b.calls, d.calls)} calls, ${ratio(b.ms, d.ms)} time of dnsop's)`}`,
          );
        }
      }
      console.log(`idle for ${IDLE_S} s:`);
      const idle = await measureIdle(pair);
      const di = idle.get('dnsop')!;
      for (const [name, u] of idle) {
        console.log(
          `  ${name.padEnd(28)} CPU ${u.cpuPct.toFixed(2)} % of a core, RSS ${f0(u.rssMB)} MB${name === 'dnsop' ? '' : `  (dnsop uses ${ratio(di.cpuPct, u.cpuPct)} the CPU and ${ratio(di.rssMB, u.rssMB)} the RSS)`}`,
        );
      }
      console.log(
        `zone diff, record by record (= same, ~ differs, - only dnsop, + only external-dns):`,
      );
      for (const line of await zoneDiff(dnsopTool, ext)) console.log(line);
      await ext.process.stop();
    }
  } finally {
    for (const t of tools) await t.process.stop().catch(() => undefined);
    for (const s of sinks) await stopSink(s).catch(() => undefined);
    await plane.stop();
  }
}
