/**
 * Provider bench:
 * - Route 53 (moto): a cold-start sync of 10,000 records, each with its ownership TXT, then a
 *   one-record change into that zone, compared with the same change into a 1,000-record zone
 *   (the event-driven path should be flat in zone size: no re-listing, one request).
 * - Cloud DNS (loopback fake of the REST API, real client library): the same two figures.
 */
import { CreateHostedZoneCommand, Route53Client } from '@aws-sdk/client-route-53';
import { OAuth2Client } from 'google-auth-library';
import type { Changes, Endpoint } from '../../operator/records/endpoint';
import { NO_CHANGES } from '../../operator/records/endpoint';
import { CloudDnsProvider } from '../../operator/records/providers/clouddns';
import { cloudDnsApiFromClient } from '../../operator/records/providers/clouddns-api';
import type { Provider } from '../../operator/records/providers/provider';
import { Route53Provider } from '../../operator/records/providers/route53';
import { route53ApiFromSdk } from '../../operator/records/providers/route53-api';
import { MotoServer } from '../envtest/moto';
import { FakeCloudDns } from '../fakes/clouddns-server';
import { isChangeBatch, isListRecordSets, Route53Proxy } from '../fakes/route53-proxy';

const BIG = 10_000;
const SMALL = 1_000;

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

async function benchRoute53(): Promise<void> {
  const moto = await MotoServer.start();
  const proxy = await Route53Proxy.start(moto.endpoint);
  const admin = new Route53Client({
    region: moto.region,
    endpoint: moto.endpoint,
    credentials: moto.credentials,
  });
  try {
    for (const size of [SMALL, BIG]) {
      await moto.reset();
      proxy.reset();
      await admin.send(
        new CreateHostedZoneCommand({
          Name: 'example.com',
          CallerReference: `bench-${size}-${Date.now()}`,
        }),
      );
      let listsAtCold = 0;
      const make = (): Route53Provider =>
        new Route53Provider({
          api: route53ApiFromSdk({
            region: moto.region,
            endpoint: proxy.endpoint,
            credentials: moto.credentials,
          }),
          spec: { zoneType: 'any', aliasMode: 'Auto' },
          domains: ['example.com'],
        });
      const { coldMs, oneMs } = await coldThenOne(make, size, `r53-${size}`, () => {
        listsAtCold = proxy.count(isListRecordSets);
      });
      const batches = proxy.requests.filter((r) => isChangeBatch(r.method, r.path, r.body));
      const upstream = (r: { upstreamMs?: number } | undefined): number => r?.upstreamMs ?? 0;
      const coldUpstream = batches.slice(0, -1).reduce((n, r) => n + upstream(r), 0);
      const last = batches[batches.length - 1];
      console.log(
        `route53 (moto), ${size} records + ${size} ownership TXT: cold sync ${ms(coldMs)} in ` +
          `${batches.length - 1} batches (moto's own time ${ms(coldUpstream)}, first batch ` +
          `${ms(upstream(batches[0]))}, last ${ms(upstream(batches[batches.length - 2]))}); ` +
          `then a one-record change ${ms(oneMs)} (1 request, moto ${ms(upstream(last))}, ` +
          `dnsop ${ms(oneMs - upstream(last))}; ListResourceRecordSets calls after the cold start: ` +
          `${proxy.count(isListRecordSets) - listsAtCold})`,
      );
    }
  } finally {
    admin.destroy();
    await proxy.stop();
    await moto.stop();
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
        });
      const { coldMs, oneMs } = await coldThenOne(make, size, `gcp-${size}`);
      console.log(
        `cloudDNS (fake API) zone of ${size} records (+${size} ownership TXT): cold sync ${ms(coldMs)} ` +
          `in ${fake.acceptedChanges('example').length - 1} changes; one-record change ${ms(oneMs)} ` +
          `(${fake.count('GET', /\/rrsets$/)} rrsets.list pages all from the cold start)`,
      );
    }
  } finally {
    await fake.stop();
  }
}

export async function benchProviders(): Promise<void> {
  await benchRoute53();
  await benchCloudDns();
}
