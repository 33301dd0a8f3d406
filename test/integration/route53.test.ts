/**
 * The Route 53 provider against moto (a Route 53 emulator) through the real AWS SDK, with a
 * recording proxy in between that shows exactly what was sent and can inject throttling.
 */
import {
  ChangeResourceRecordSetsCommand,
  CreateHostedZoneCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import type { ResourceRecordSet } from '@aws-sdk/client-route-53';
import type { Changes, Endpoint } from '../../operator/records/endpoint';
import { batchGroupKey, NO_CHANGES } from '../../operator/records/endpoint';
import { CloudAccounts, route53Account } from '../../operator/records/providers/accounts';
import { PermanentError } from '../../operator/runtime/errors';
import type { Route53ProviderOptions } from '../../operator/records/providers/route53';
import { Route53Provider } from '../../operator/records/providers/route53';
import { route53ApiFromSdk } from '../../operator/records/providers/route53-api';
import { ROUTE53_LIMITS } from '../../operator/records/providers/route53-batch';
import { MotoServer } from '../envtest/moto';
import { isChangeBatch, isListRecordSets, Route53Proxy } from '../fakes/route53-proxy';
import { listRecordSets } from '../support/route53-zone';

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

const listAll = (zoneId: string): Promise<ResourceRecordSet[]> => listRecordSets(admin, zoneId);

function newProvider(
  aliasMode: 'Auto' | 'Never' = 'Auto',
  options: Partial<Route53ProviderOptions> = {},
): Route53Provider {
  return new Route53Provider({
    api: route53ApiFromSdk({
      region: moto.region,
      endpoint: proxy.endpoint,
      credentials: moto.credentials,
    }),
    spec: { zoneType: 'any', aliasMode },
    domains: ['example.com'],
    retry: { maxAttempts: 6, baseMs: 10, maxMs: 100 },
    ...options,
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

  it('isolates the group Route 53 refuses (its InvalidChangeBatch document) and applies the rest', async () => {
    const zone = await createZone('example.com');
    // Route 53 refuses a whole batch when one change is invalid, in its own InvalidChangeBatch
    // document (which the SDK cannot parse by itself); moto does not check conflicts, so the
    // proxy plays Route 53 for any batch that touches the conflicting name.
    proxy.failNext(
      10,
      'InvalidChangeBatch',
      (method, path, body) =>
        isChangeBatch(method, path, body) && body.includes('taken.example.com'),
      "Tried to create resource record set [name='taken.example.com.', type='A'] but it already exists",
      'InvalidChangeBatch',
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
      {
        group: 'taken.example.com/A',
        message: expect.stringMatching(
          /^InvalidChangeBatch: Tried to create resource record set \[name='taken\.example\.com\.', type='A'\] but it already exists \(route53 ChangeResourceRecordSets, hosted zone \w+\)$/,
        ),
        permanent: false,
      },
    ]);
    expect(result.applied).toBe(4);
    // The batch; after one re-read of the zone the batch again; then halves down to the refused
    // group: 1 + 1 + 2 * ceil(log2 3) requests at most, never a loop.
    expect(proxy.count(isChangeBatch)).toBeLessThanOrEqual(6);
    expect(proxy.count(isListRecordSets)).toBe(2);
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

/** Endpoints for `count` names, each with its ownership TXT. */
function owned(
  prefix: string,
  count: number,
  make: (i: number) => Partial<Endpoint> = () => ({}),
): Endpoint[] {
  return Array.from({ length: count }, (_, i): Endpoint => ({
    name: `${prefix}-${i}.example.com`,
    type: 'A',
    targets: [`10.9.${i >> 8}.${i & 255}`],
    ttl: 300,
    ...make(i),
  })).flatMap((ep) => [ep, owner(ep)]);
}

describe("Route 53's per-request limits, with the proxy refusing what Route 53 would refuse", () => {
  beforeEach(() => {
    proxy.enforceLimits = true;
  });

  it('creates, then UPSERTs (counted twice) 600 records with their TXT without one refused request', async () => {
    const zone = await createZone('example.com');
    const provider = newProvider();
    const records = owned('r', 600);
    expect(await provider.applyChanges({ ...NO_CHANGES, create: records })).toEqual({
      applied: 1200,
      failed: [],
    });
    // 1,200 ResourceRecords: two requests are the fewest Route 53 allows.
    expect(proxy.acceptedChangeBatches()).toHaveLength(2);
    const plain = records.filter((ep) => ep.ownerOf === undefined);
    proxy.reset();
    proxy.enforceLimits = true;
    const result = await provider.applyChanges({
      ...NO_CHANGES,
      updateOld: plain,
      updateNew: plain.map((ep) => ({ ...ep, ttl: 60 })),
    });
    expect(result).toEqual({ applied: 600, failed: [] });
    // 600 UPSERTs count 1,200: two requests again, none refused.
    const batches = proxy.acceptedChangeBatches();
    expect(batches).toHaveLength(2);
    for (const batch of batches) expect(batch.weightedRecords).toBeLessThanOrEqual(1000);
    expect(proxy.refusedChangeBatches()).toEqual([]);
    const held = await listAll(zone);
    expect(held.filter((r) => r.Type === 'A' && r.TTL === 60)).toHaveLength(600);
  });

  it('splits long TXT values at 32,000 characters, UPSERT counted twice, without one refused request', async () => {
    const zone = await createZone('example.com');
    const provider = newProvider();
    const long = Array.from({ length: 130 }, (_, i): Endpoint => ({
      name: `t-${i}.example.com`,
      type: 'TXT',
      targets: [`"${String(i).padStart(248, 'v')}"`],
      ttl: 300,
    }));
    await provider.applyChanges({ ...NO_CHANGES, create: long });
    // 130 x 250 = 32,500 characters: two requests.
    expect(proxy.acceptedChangeBatches().map((b) => b.valueChars)).toEqual([32_000, 500]);
    proxy.reset();
    proxy.enforceLimits = true;
    const result = await provider.applyChanges({
      ...NO_CHANGES,
      updateOld: long,
      updateNew: long.map((ep) => ({ ...ep, ttl: 120 })),
    });
    expect(result).toEqual({ applied: 130, failed: [] });
    // 65,000 counted characters: three requests, each within 32,000.
    expect(proxy.acceptedChangeBatches().map((b) => b.valueChars)).toEqual([32_000, 32_000, 1_000]);
    expect(proxy.refusedChangeBatches()).toEqual([]);
    expect((await listAll(zone)).filter((r) => r.Type === 'TXT' && r.TTL === 120)).toHaveLength(
      130,
    );
  });

  it('keeps every change sharing a batchGroupKey in one request: creates, updates, deletes and TXT swaps', async () => {
    const zone = await createZone('example.com');
    const provider = newProvider();
    // external-dns's ownership TXT beside each of 400 records (what adoption will replace).
    const theirs = (ep: Endpoint): Endpoint => ({
      name: `ext-a-${ep.name}`,
      type: 'TXT',
      targets: ['"heritage=external-dns,external-dns/owner=default"'],
      ttl: 300,
      ownerOf: `${ep.name}/A`,
    });
    const base = owned('g', 400).filter((ep) => ep.ownerOf === undefined);
    await provider.applyChanges({ ...NO_CHANGES, create: [...base, ...base.map(theirs)] });
    proxy.reset();
    proxy.enforceLimits = true;
    // In one sync: per name, update the record, create dnsop's TXT, delete external-dns's;
    // plus 200 new names with their TXT and 100 deletions with their TXT.
    const kept = base.slice(0, 300);
    const dropped = base.slice(300);
    const changes: Changes = {
      create: [...kept.map(owner), ...owned('n', 200)],
      updateOld: kept,
      updateNew: kept.map((ep) => ({ ...ep, targets: ['192.0.2.77'] })),
      delete: [...kept.map(theirs), ...dropped, ...dropped.map(theirs)],
    };
    const result = await provider.applyChanges(changes);
    expect(result.failed).toEqual([]);
    const groupOf = new Map<string, string>();
    for (const ep of [...changes.create, ...changes.updateNew, ...changes.delete]) {
      groupOf.set(`${ep.name}.`, batchGroupKey(ep).replace(/\/[A-Z]+$/, ''));
    }
    const batchesOf = new Map<string, Set<number>>();
    proxy.acceptedChangeBatches().forEach((batch, i) => {
      for (const name of batch.names) {
        const group = groupOf.get(name.endsWith('.') ? name : `${name}.`)!;
        batchesOf.set(group, (batchesOf.get(group) ?? new Set()).add(i));
      }
    });
    expect(proxy.acceptedChangeBatches().length).toBeGreaterThan(1);
    expect(batchesOf.size).toBe(600);
    for (const [group, batches] of batchesOf) expect([group, batches.size]).toEqual([group, 1]);
    expect(proxy.refusedChangeBatches()).toEqual([]);
    const names = new Set((await listAll(zone)).map((r) => r.Name));
    expect(names.has('ext-a-g-0.example.com.')).toBe(false);
    expect(names.has('a-g-0.example.com.')).toBe(true);
    expect(names.has('g-399.example.com.')).toBe(false);
  });
});

describe('Route 53 errors and the account limiter, against moto', () => {
  it('answers a hosted zone id that does not exist with one request and a permanent error in Route 53 words', async () => {
    await createZone('example.com');
    const provider = newProvider('Auto', {
      spec: { zoneType: 'any', aliasMode: 'Auto', hostedZoneIds: ['Z0000NOPE'] },
    });
    const err: unknown = await provider.records({ refresh: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentError);
    expect(err).toMatchObject({ reason: 'HostedZoneNotFound' });
    expect((err as Error).message).toMatch(
      /^NoSuchHostedZone: No hosted zone found with ID: Z0000NOPE \(route53 GetHostedZone, hosted zone Z0000NOPE\)/,
    );
    expect(proxy.requests).toHaveLength(1);
  });

  it('keeps two policies of one account within 5 requests a second together', async () => {
    await createZone('example.com');
    const accounts = new CloudAccounts();
    const limiter = accounts.limiter(
      route53Account(proxy.endpoint, { kind: 'static', credentials: moto.credentials }),
    );
    const policies = [newProvider('Auto', { limiter }), newProvider('Auto', { limiter })];
    const started = performance.now();
    await Promise.all(
      policies.map(async (provider, p) => {
        for (let i = 0; i < 6; i++) {
          await provider.applyChanges({
            ...NO_CHANGES,
            create: [{ ...fromService([`192.0.2.${i + 1}`]), name: `p${p}-${i}.example.com` }],
          });
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const sent = proxy.requests.map((r) => r.at);
    // 2 x (1 ListHostedZones + 1 ListResourceRecordSets + 6 changes) = 16 requests.
    expect(sent).toHaveLength(16);
    // No six within a second (a margin for delivery: unlimited, all 16 arrive within ~0.2 s).
    for (let i = 5; i < sent.length; i++) {
      expect(sent[i]! - sent[i - 5]!).toBeGreaterThanOrEqual(800);
    }
    expect(seconds).toBeGreaterThanOrEqual(2.9);
  });
});
