/**
 * Provider bench (`npm run bench -- providers`):
 * - Route 53 (moto): a cold-start sync of 10,000 records, each with its ownership TXT, then a
 *   one-record change into that zone, compared with the same change into a 1,000-record zone
 *   (the event-driven path should be flat in zone size: no re-listing, one request); with the
 *   requests each sent.
 * - Cloud DNS (loopback fake of the REST API, real client library): the same figures.
 * - A policy naming a hosted zone that does not exist, through the DNSPolicy controller, for a
 *   minute (DNSOP_BENCH_WINDOW_S): the requests it costs and the errors it counts.
 * - 20 policies of one AWS account syncing at once, through the controller, against a proxy that
 *   throttles like Route 53 (5 requests/s per account): requests per second, throttled answers
 *   and the time until every policy is in sync.
 * Every provider gets its account's limiter, as in the operator.
 */
import { CreateHostedZoneCommand, Route53Client } from '@aws-sdk/client-route-53';
import { OAuth2Client } from 'google-auth-library';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Changes, Endpoint } from '../../operator/records/endpoint';
import { NO_CHANGES } from '../../operator/records/endpoint';
import {
  CloudAccounts,
  cloudDnsAccount,
  route53Account,
} from '../../operator/records/providers/accounts';
import { CloudDnsProvider } from '../../operator/records/providers/clouddns';
import { cloudDnsApiFromClient } from '../../operator/records/providers/clouddns-api';
import type { Provider } from '../../operator/records/providers/provider';
import { Route53Provider } from '../../operator/records/providers/route53';
import { route53ApiFromSdk } from '../../operator/records/providers/route53-api';
import { MotoServer } from '../envtest/moto';
import { FakeCloudDns } from '../fakes/clouddns-server';
import { isChangeBatch, isListRecordSets, Route53Proxy } from '../fakes/route53-proxy';
import type { ProxiedRequest } from '../fakes/route53-proxy';
import { startControllerHarness } from '../support/records-controller-harness';
import { namespace, policy, service } from '../support/records-fixtures';

const BIG = 10_000;
const SMALL = 1_000;
const WINDOW_S = Number(process.env['DNSOP_BENCH_WINDOW_S'] ?? '60');
const SHARED_POLICIES = 20;

function desired(prefix: string, count: number): Changes {
  const create: Endpoint[] = [];
  for (let i = 0; i < count; i++) {
    const ep: Endpoint = {
      name: `${prefix}-${i}.example.com`,
      type: 'A',
      targets: [`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`],
      ttl: 300,
    };
    create.push(ep, {
      name: `a-${ep.name}`,
      type: 'TXT',
      targets: ['"heritage=dnsop,dnsop/owner=bench/policy"'],
      ttl: 300,
      ownerOf: `${ep.name}/A`,
    });
  }
  return { ...NO_CHANGES, create };
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const value = await fn();
  return [value, performance.now() - start];
}

const ms = (n: number): string => `${n.toFixed(0)} ms`;
const sleep = (msecs: number): Promise<void> => new Promise((r) => setTimeout(r, msecs));

/** Cold sync of `count` records, then one more record; returns the two timings. */
async function coldThenOne(
  make: () => Provider,
  count: number,
  label: string,
  afterCold: () => void = () => undefined,
): Promise<{ coldMs: number; oneMs: number }> {
  const provider = make();
  const [result, coldMs] = await timed(async () => {
    await provider.records({ refresh: true });
    return provider.applyChanges(desired(label, count));
  });
  if (result.failed.length > 0) throw new Error(`${label}: ${result.failed.length} groups failed`);
  afterCold();
  const [, oneMs] = await timed(() => provider.applyChanges(desired(`${label}-extra`, 1)));
  return { coldMs, oneMs };
}

/** "3 ListHostedZones, 34 ListResourceRecordSets, ..." from what the proxy saw. */
function requestCounts(requests: readonly ProxiedRequest[]): string {
  const counts = new Map<string, number>();
  for (const r of requests) {
    const op = isChangeBatch(r.method, r.path, r.body)
      ? 'ChangeResourceRecordSets'
      : isListRecordSets(r.method, r.path, r.body)
        ? 'ListResourceRecordSets'
        : /\/hostedzone\/[^/]+$/.test(r.path)
          ? 'GetHostedZone'
          : /\/hostedzone\/?(\?|$)/.test(r.path)
            ? 'ListHostedZones'
            : `${r.method} ${r.path}`;
    counts.set(op, (counts.get(op) ?? 0) + 1);
  }
  return [...counts].map(([op, n]) => `${n} ${op}`).join(', ');
}

/** The most requests that arrived within any window of `perMs`. */
function peakIn(requests: readonly ProxiedRequest[], perMs = 1_000): number {
  const at = requests.map((r) => r.at).sort((a, b) => a - b);
  let peak = 0;
  for (let i = 0, j = 0; i < at.length; i++) {
    while (at[i]! - at[j]! >= perMs) j++;
    peak = Math.max(peak, i - j + 1);
  }
  return peak;
}

async function benchRoute53(
  moto: MotoServer,
  proxy: Route53Proxy,
  admin: Route53Client,
): Promise<void> {
  for (const size of [SMALL, BIG]) {
    await moto.reset();
    proxy.reset();
    await admin.send(
      new CreateHostedZoneCommand({
        Name: 'example.com',
        CallerReference: `bench-${size}-${Date.now()}`,
      }),
    );
    const accounts = new CloudAccounts();
    let coldRequests: ProxiedRequest[] = [];
    const make = (): Route53Provider =>
      new Route53Provider({
        api: route53ApiFromSdk({
          region: moto.region,
          endpoint: proxy.endpoint,
          credentials: moto.credentials,
        }),
        spec: { zoneType: 'any', aliasMode: 'Auto' },
        domains: ['example.com'],
        // moto takes minutes over a 10,000-record cold sync, longer than the zone list's 60 s:
        // the one-record change after it would list the zones again, which is not what it times.
        zoneCacheTtlMs: 3_600_000,
        limiter: accounts.limiter(
          route53Account(proxy.endpoint, { kind: 'static', credentials: moto.credentials }),
        ),
      });
    const { coldMs, oneMs } = await coldThenOne(make, size, `r53-${size}`, () => {
      coldRequests = [...proxy.requests];
    });
    const batches = coldRequests.filter((r) => isChangeBatch(r.method, r.path, r.body));
    const upstream = (r: { upstreamMs?: number } | undefined): number => r?.upstreamMs ?? 0;
    const coldUpstream = batches.reduce((n, r) => n + upstream(r), 0);
    const after = proxy.requests.slice(coldRequests.length);
    const last = after[after.length - 1];
    console.log(
      `route53 (moto), ${size} records + ${size} ownership TXT: cold sync ${ms(coldMs)}, ` +
        `${coldRequests.length} requests (${requestCounts(coldRequests)}; moto's own time ` +
        `${ms(coldUpstream)}); then a one-record change ${ms(oneMs)} in ${after.length} ` +
        `request (${requestCounts(after)}; moto ${ms(upstream(last))}, dnsop ` +
        `${ms(oneMs - upstream(last))})`,
    );
  }
}

async function benchCloudDns(): Promise<void> {
  const fake = await FakeCloudDns.start({ token: 'bench-token', project: 'dnsop-bench' });
  try {
    for (const size of [SMALL, BIG]) {
      fake.reset();
      fake.addZone('example', 'example.com');
      const auth = new OAuth2Client();
      auth.setCredentials({ access_token: fake.token, expiry_date: Date.now() + 3_600_000 });
      const accounts = new CloudAccounts();
      const make = (): CloudDnsProvider =>
        new CloudDnsProvider({
          api: cloudDnsApiFromClient({
            project: 'dnsop-bench',
            endpoint: fake.endpoint,
            authClient: auth,
          }),
          spec: {},
          domains: ['example.com'],
          pollIntervalMs: 20,
          limiter: accounts.limiter(
            cloudDnsAccount(fake.endpoint, 'dnsop-bench', { kind: 'ambient' }),
          ),
        });
      let cold = 0;
      const { coldMs, oneMs } = await coldThenOne(make, size, `gcp-${size}`, () => {
        cold = fake.requests.length;
      });
      const count = (method: string, path: RegExp, from = 0, to = fake.requests.length): number =>
        fake.requests.slice(from, to).filter((r) => r.method === method && path.test(r.path))
          .length;
      console.log(
        `cloudDNS (fake API) zone of ${size} records (+${size} ownership TXT): cold sync ` +
          `${ms(coldMs)}, ${cold} requests (${count('GET', /\/managedZones$/, 0, cold)} ` +
          `managedZones.list, ${count('GET', /\/rrsets$/, 0, cold)} rrsets.list, ` +
          `${count('POST', /\/changes$/, 0, cold)} changes.create, ` +
          `${count('GET', /\/changes\/[^/]+$/, 0, cold)} changes.get); one-record change ` +
          `${ms(oneMs)} in ${fake.requests.length - cold} requests ` +
          `(${count('POST', /\/changes$/, cold)} changes.create, ` +
          `${count('GET', /\/changes\/[^/]+$/, cold)} changes.get, ` +
          `${count('GET', /\/rrsets$/, cold)} rrsets.list)`,
      );
    }
  } finally {
    await fake.stop();
  }
}

/** Route 53 through the DNSPolicy controller, with the operator's ambient AWS identity. */
function route53Policy(
  name: string,
  ns: string,
  route53: Record<string, unknown>,
  domain: string,
): KubernetesObject {
  return policy(
    name,
    {
      sources: [{ kind: 'Service' }],
      domains: [domain],
      interval: '60s',
      provider: { route53: { region: 'us-east-1', ...route53 } as never },
    },
    ns,
  );
}

async function benchMissingZone(proxy: Route53Proxy): Promise<void> {
  proxy.reset();
  const harness = await startControllerHarness({ trustedNamespaces: 'shop' });
  try {
    harness.apply(namespace('shop'));
    harness.apply(
      service('web', {
        type: 'LoadBalancer',
        hostname: 'web.example.com',
        ingress: [{ ip: '192.0.2.1' }],
      }),
    );
    harness.apply(
      route53Policy(
        'missing',
        'shop',
        { endpoint: proxy.endpoint, hostedZoneIds: ['Z0000MISSING'] },
        'example.com',
      ),
    );
    await sleep(WINDOW_S * 1000);
    const errors = (await harness.metrics.syncErrors.get()).values.reduce((n, v) => n + v.value, 0);
    const synced = harness.status('shop', 'missing')?.conditions?.find((c) => c.type === 'Synced');
    console.log(
      `a policy naming a missing hosted zone, ${WINDOW_S} s through the controller: ` +
        `${proxy.requests.length} requests (${requestCounts(proxy.requests)}), ` +
        `dnsop_sync_errors_total ${errors}; Synced=${synced?.status ?? '?'} ` +
        `${synced?.reason ?? ''}: ${synced?.message ?? ''}`,
    );
  } finally {
    await harness.stop();
  }
}

async function benchSharedAccount(
  moto: MotoServer,
  proxy: Route53Proxy,
  admin: Route53Client,
): Promise<void> {
  await moto.reset();
  proxy.reset();
  const teams = Array.from({ length: SHARED_POLICIES }, (_, i) => `team${i}`);
  for (const team of teams) {
    await admin.send(
      new CreateHostedZoneCommand({
        Name: `${team}.example.com`,
        CallerReference: `${team}-${Date.now()}`,
      }),
    );
  }
  proxy.reset();
  proxy.throttleAbove = { requests: 5, perMs: 1_000 };
  const harness = await startControllerHarness({ trustedNamespaces: teams.join(',') });
  try {
    const started = performance.now();
    for (const team of teams) {
      harness.apply(namespace(team));
      for (let s = 0; s < 5; s++) {
        harness.apply(
          service(`svc-${s}`, {
            namespace: team,
            type: 'LoadBalancer',
            hostname: `svc-${s}.${team}.example.com`,
            ingress: [{ ip: `192.0.2.${s + 1}` }],
          }),
        );
      }
      harness.apply(
        route53Policy('public', team, { endpoint: proxy.endpoint }, `${team}.example.com`),
      );
    }
    const deadline = performance.now() + 300_000;
    while (proxy.acceptedChangeBatches().length < teams.length && performance.now() < deadline) {
      await sleep(100);
    }
    const seconds = (performance.now() - started) / 1000;
    const throttled = proxy.requests.filter((r) => r.injected).length;
    const metric = (await harness.metrics.providerThrottled.get()).values.reduce(
      (n, v) => n + v.value,
      0,
    );
    console.log(
      `${teams.length} policies of one AWS account (proxy throttling like Route 53 at 5/s): all ` +
        `in sync after ${seconds.toFixed(1)} s; ${proxy.requests.length} requests ` +
        `(${requestCounts(proxy.requests)}), peak ${peakIn(proxy.requests)} in any 1 s, mean ` +
        `${(proxy.requests.length / seconds).toFixed(1)}/s; ${throttled} answered Throttling ` +
        `(dnsop_provider_throttled_total ${metric})`,
    );
  } finally {
    await harness.stop();
  }
}

export async function benchProviders(): Promise<void> {
  // The controller scenarios use the operator's ambient identity (a trusted namespace).
  process.env['AWS_ACCESS_KEY_ID'] ??= 'bench-access-key';
  process.env['AWS_SECRET_ACCESS_KEY'] ??= 'bench-secret-key';
  const moto = await MotoServer.start();
  const proxy = await Route53Proxy.start(moto.endpoint);
  const admin = new Route53Client({
    region: moto.region,
    endpoint: moto.endpoint,
    credentials: moto.credentials,
  });
  try {
    await benchRoute53(moto, proxy, admin);
    await benchCloudDns();
    await benchSharedAccount(moto, proxy, admin);
    await benchMissingZone(proxy);
  } finally {
    admin.destroy();
    await proxy.stop();
    await moto.stop();
  }
}
