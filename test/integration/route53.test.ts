/**
 * The Route 53 provider against moto (a Route 53 emulator) through the real AWS SDK, with a
 * recording proxy in between that shows exactly what was sent and can inject throttling.
 */
import {
  ChangeResourceRecordSetsCommand,
  CreateHostedZoneCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import type { ResourceRecordSet } from '@aws-sdk/client-route-53';
import type { Changes, Endpoint } from '../../operator/records/endpoint';
import { NO_CHANGES } from '../../operator/records/endpoint';
import { Route53Provider } from '../../operator/records/providers/route53';
import { route53ApiFromSdk } from '../../operator/records/providers/route53-api';
import { ROUTE53_LIMITS } from '../../operator/records/providers/route53-batch';
import { MotoServer } from '../envtest/moto';
import { isChangeBatch, isListRecordSets, Route53Proxy } from '../fakes/route53-proxy';

jest.setTimeout(120_000);

let moto: MotoServer;
let proxy: Route53Proxy;
let admin: Route53Client;

beforeAll(async () => {
  moto = await MotoServer.start();
  proxy = await Route53Proxy.start(moto.endpoint);
  admin = new Route53Client({
    region: moto.region,
    endpoint: moto.endpoint,
    credentials: moto.credentials,
  });
});

afterAll(async () => {
  admin?.destroy();
  await proxy?.stop();
  await moto?.stop();
});

beforeEach(async () => {
  await moto.reset();
  proxy.reset();
});

async function createZone(name: string): Promise<string> {
  const out = await admin.send(
    new CreateHostedZoneCommand({
      Name: name,
      CallerReference: `${name}-${Date.now()}-${Math.random()}`,
    }),
  );
  return (out.HostedZone?.Id ?? '').replace('/hostedzone/', '');
}

async function listAll(zoneId: string): Promise<ResourceRecordSet[]> {
  const out: ResourceRecordSet[] = [];
  let start: { name?: string; type?: string } = {};
  for (;;) {
    const page = await admin.send(
      new ListResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        ...(start.name
          ? { StartRecordName: start.name, StartRecordType: start.type as never }
          : {}),
      }),
    );
    out.push(...(page.ResourceRecordSets ?? []));
    if (!page.IsTruncated) return out;
    start = { name: page.NextRecordName, type: page.NextRecordType };
  }
}

function newProvider(aliasMode: 'Auto' | 'Never' = 'Auto'): Route53Provider {
  return new Route53Provider({
    api: route53ApiFromSdk({
      region: moto.region,
      endpoint: proxy.endpoint,
      credentials: moto.credentials,
    }),
    spec: { zoneType: 'any', aliasMode },
    domains: ['example.com'],
    retry: { maxAttempts: 6, baseMs: 10, maxMs: 100 },
  });
}

const owner = (ep: Endpoint): Endpoint => ({
  name: `a-${ep.name}`,
  type: 'TXT',
  targets: ['"heritage=dnsop,dnsop/owner=shop/public,dnsop/resource=service/shop/app"'],
  ttl: ep.ttl,
  ownerOf: `${ep.name}/${ep.type}`,
});

/** What the DNSPolicy reconciler does: shape for Route 53, then apply with ownership records. */
async function sync(provider: Route53Provider, desired: Endpoint[]): Promise<void> {
  const shaped = provider.adjustEndpoints(desired).endpoints;
  const changes: Changes = { ...NO_CHANGES, create: shaped.flatMap((ep) => [ep, owner(ep)]) };
  const result = await provider.applyChanges(changes);
  expect(result.failed).toEqual([]);
}

const fromService = (targets: string[], alias?: boolean): Endpoint => ({
  name: 'app.example.com',
  type: targets.every((t) => /^[\d.]+$/.test(t)) ? 'A' : 'CNAME',
  targets,
  ttl: 300,
  source: 'Service/shop/app',
  ...(alias === undefined ? {} : { providerSpecific: { alias } }),
});

describe('Route 53 provider against moto', () => {
  it('publishes a LoadBalancer IP as a plain A record, never an alias (seed 004)', async () => {
    const zone = await createZone('example.com');
    const provider = newProvider();
    // Even with dnsop.io/alias: "true" the IP stays a plain record.
    await sync(provider, [fromService(['34.120.10.1'], true)]);
    const batches = proxy.acceptedChangeBatches();
    expect(batches).toHaveLength(1);
    expect(batches[0]!.hasAliasTarget).toBe(false);
    const a = (await listAll(zone)).find((r) => r.Name === 'app.example.com.' && r.Type === 'A');
    expect(a?.AliasTarget).toBeUndefined();
    expect(a?.ResourceRecords).toEqual([{ Value: '34.120.10.1' }]);
  });

  it('publishes an ELB hostname as an alias A to its canonical hosted zone', async () => {
    const zone = await createZone('example.com');
    await sync(newProvider(), [fromService(['my-lb-1234.us-east-1.elb.amazonaws.com'])]);
    expect(proxy.acceptedChangeBatches()[0]!.hasAliasTarget).toBe(true);
    const a = (await listAll(zone)).find((r) => r.Name === 'app.example.com.' && r.Type === 'A');
    expect(a?.AliasTarget).toMatchObject({
      HostedZoneId: 'Z35SXDOTRQ7X7K',
      DNSName: expect.stringMatching(/^my-lb-1234\.us-east-1\.elb\.amazonaws\.com\.?$/),
    });
  });

  it('publishes a non-AWS hostname as a CNAME', async () => {
    const zone = await createZone('example.com');
    await sync(newProvider(), [fromService(['lb.example.net'])]);
    const records = await listAll(zone);
    const cname = records.find((r) => r.Name === 'app.example.com.');
    expect(cname).toMatchObject({ Type: 'CNAME', ResourceRecords: [{ Value: 'lb.example.net' }] });
    expect(records.some((r) => r.AliasTarget)).toBe(false);
  });

  it('syncs 2,500 records with their ownership records in batches that each respect the limits', async () => {
    const zone = await createZone('example.com');
    const desired = Array.from({ length: 2500 }, (_, i) =>
      fromService([`10.1.${i >> 8}.${i & 255}`]),
    ).map((ep, i) => ({ ...ep, name: `svc-${i}.example.com` }));
    await sync(newProvider(), desired);
    const batches = proxy.acceptedChangeBatches();
    expect(batches.length).toBeGreaterThanOrEqual(5);
    for (const batch of batches) {
      expect(batch.weightedChanges).toBeLessThanOrEqual(ROUTE53_LIMITS.maxChanges);
      expect(batch.valueChars).toBeLessThanOrEqual(ROUTE53_LIMITS.maxValueChars);
      const names = new Set(batch.names);
      for (const name of names)
        if (name.startsWith('a-')) expect(names.has(name.slice(2))).toBe(true);
    }
    expect(batches.reduce((n, b) => n + b.changes, 0)).toBe(5000);
    const records = await listAll(zone);
    expect(records.filter((r) => r.Type === 'A')).toHaveLength(2500);
    expect(records.filter((r) => r.Type === 'TXT')).toHaveLength(2500);
  });

  it('leaves a record owned by someone else untouched while syncing its own', async () => {
    const zone = await createZone('example.com');
    await admin.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zone,
        ChangeBatch: {
          Changes: [
            {
              Action: 'CREATE',
              ResourceRecordSet: {
                Name: 'legacy.example.com',
                Type: 'A',
                TTL: 60,
                ResourceRecords: [{ Value: '198.51.100.7' }],
              },
            },
          ],
        },
      }),
    );
    const provider = newProvider();
    const current = await provider.records({ refresh: true });
    // The planner sees the foreign record without any ownership data and so never changes it.
    expect(current).toEqual([
      { name: 'legacy.example.com', type: 'A', targets: ['198.51.100.7'], ttl: 60 },
    ]);
    await sync(provider, [{ ...fromService(['192.0.2.2']), name: 'mine.example.com' }]);
    const legacy = (await listAll(zone)).find((r) => r.Name === 'legacy.example.com.');
    expect(legacy).toMatchObject({
      Type: 'A',
      TTL: 60,
      ResourceRecords: [{ Value: '198.51.100.7' }],
    });
    for (const batch of proxy.acceptedChangeBatches()) {
      expect(batch.names).not.toContain('legacy.example.com');
    }
  });

  it('retries a rejected batch group by group and reports only the refused group', async () => {
    const zone = await createZone('example.com');
    // Route 53 refuses a whole batch when one change is invalid; moto does not check conflicts,
    // so the proxy plays Route 53 for any batch that touches the conflicting name.
    proxy.failNext(
      10,
      'InvalidChangeBatch',
      (method, path, body) =>
        isChangeBatch(method, path, body) && body.includes('taken.example.com'),
      "[Tried to create resource record set [name='taken.example.com.', type='A'] but it already exists]",
    );
    const desired = ['ok-1', 'taken', 'ok-2'].map((n, i) => ({
      ...fromService([`192.0.2.${i + 1}`]),
      name: `${n}.example.com`,
    }));
    const provider = newProvider();
    const shaped = provider.adjustEndpoints(desired).endpoints;
    const result = await provider.applyChanges({
      ...NO_CHANGES,
      create: shaped.flatMap((ep) => [ep, owner(ep)]),
    });
    expect(result.failed).toEqual([
      { group: 'taken.example.com/A', message: expect.stringMatching(/already exists/) },
    ]);
    expect(result.applied).toBe(4);
    // The batch, then each of its three groups exactly once: no loop.
    expect(proxy.count(isChangeBatch)).toBe(4);
    const names = (await listAll(zone)).map((r) => r.Name);
    expect(names).toEqual(
      expect.arrayContaining(['ok-1.example.com.', 'a-ok-1.example.com.', 'ok-2.example.com.']),
    );
    expect(names).not.toContain('taken.example.com.');
  });

  it('retries injected Throttling responses and completes the sync', async () => {
    const zone = await createZone('example.com');
    proxy.failNext(3, 'Throttling');
    await sync(newProvider(), [fromService(['192.0.2.10'])]);
    expect(proxy.requests.filter((r) => r.injected)).toHaveLength(3);
    expect(proxy.count(isChangeBatch)).toBe(4);
    expect((await listAll(zone)).some((r) => r.Name === 'app.example.com.')).toBe(true);
  });

  it('applies an event-driven change from its cached view without listing the zone again', async () => {
    await createZone('example.com');
    const provider = newProvider();
    await provider.records({ refresh: true });
    const lists = proxy.count(isListRecordSets);
    await sync(provider, [fromService(['192.0.2.20'])]);
    await sync(provider, [{ ...fromService(['192.0.2.21']), name: 'second.example.com' }]);
    expect(proxy.count(isListRecordSets)).toBe(lists);
    expect((await provider.records()).map((r) => r.name)).toEqual(
      expect.arrayContaining(['app.example.com', 'second.example.com']),
    );
  });
});
