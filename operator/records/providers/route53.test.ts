import type { Change } from '@aws-sdk/client-route-53';
import { awsError, FakeRoute53 } from '../../../test/fakes/route53-api';
import { Registry } from 'prom-client';
import { describeError, PermanentError, TransientError } from '../../runtime/errors';
import { createMetrics } from '../../runtime/metrics';
import type { Changes, Endpoint } from '../endpoint';
import { NO_CHANGES } from '../endpoint';
import { costOf, ROUTE53_LIMITS } from './route53-batch';
import type { Route53ProviderOptions } from './route53';
import { Route53Provider } from './route53';
import type { RateLimiter } from './rate-limit';

const FAST_RETRY = { maxAttempts: 4, baseMs: 1, maxMs: 2 };

function provider(
  api: FakeRoute53,
  overrides: Partial<Route53ProviderOptions> = {},
): Route53Provider {
  return new Route53Provider({
    api,
    spec: { zoneType: 'any', aliasMode: 'Auto' },
    domains: ['example.com'],
    retry: FAST_RETRY,
    ...overrides,
  });
}

const a = (name: string, ip: string, ttl = 300): Endpoint => ({
  name,
  type: 'A',
  targets: [ip],
  ttl,
});
const owner = (ep: Endpoint): Endpoint => ({
  name: `a-${ep.name}`,
  type: 'TXT',
  targets: ['"heritage=dnsop,dnsop/owner=shop/public"'],
  ttl: ep.ttl,
  ownerOf: `${ep.name}/${ep.type}`,
});
const creating = (...eps: Endpoint[]): Changes => ({ ...NO_CHANGES, create: eps });
/** A record put into the zone by someone else. */
const putA = (api: FakeRoute53, zone: string, name: string, ip: string, ttl = 300): void =>
  api.put(zone, { Name: name, Type: 'A', TTL: ttl, ResourceRecords: [{ Value: ip }] });
const changeCalls = (api: FakeRoute53) =>
  api.calls.filter((c) => c.op === 'changeResourceRecordSets');
const listCalls = (api: FakeRoute53) => api.calls.filter((c) => c.op === 'listResourceRecordSets');

describe('Route53Provider zones', () => {
  it('discovers zones across pages and routes a name to the most specific zone', async () => {
    const api = new FakeRoute53();
    api.zonePageSize = 1;
    api.addZone('other.org');
    const parent = api.addZone('example.com');
    const child = api.addZone('dev.example.com');
    const p = provider(api);
    const result = await p.applyChanges(
      creating(a('app.dev.example.com', '192.0.2.1'), a('www.example.com', '192.0.2.2')),
    );
    expect(result).toEqual({ applied: 2, failed: [] });
    expect(api.recordSets(child).map((r) => r.Name)).toEqual(['app.dev.example.com.']);
    expect(api.recordSets(parent).map((r) => r.Name)).toEqual(['www.example.com.']);
  });

  it.each([
    ['public', ['ZPUB']],
    ['private', ['ZPRIV']],
    ['any', ['ZPRIV', 'ZPUB']],
  ] as const)('with zoneType %s writes only to %j', async (zoneType, expected) => {
    const api = new FakeRoute53();
    api.addZone('example.com', { id: 'ZPUB' });
    api.addZone('example.com', { id: 'ZPRIV', private: true });
    const p = provider(api, { spec: { zoneType, aliasMode: 'Auto' } });
    await p.applyChanges(creating(a('app.example.com', '192.0.2.1')));
    const written = ['ZPUB', 'ZPRIV'].filter((id) => api.recordSets(id).length > 0).sort();
    expect(written).toEqual([...expected]);
  });

  it('restricts itself to hostedZoneIds when given', async () => {
    const api = new FakeRoute53();
    api.addZone('example.com', { id: 'ZONE1' });
    api.addZone('example.com', { id: 'ZONE2' });
    const p = provider(api, {
      spec: { zoneType: 'any', aliasMode: 'Auto', hostedZoneIds: ['/hostedzone/ZONE2'] },
    });
    await p.applyChanges(creating(a('app.example.com', '192.0.2.1')));
    expect(api.recordSets('ZONE1')).toEqual([]);
    expect(api.recordSets('ZONE2')).toHaveLength(1);
  });

  it('reuses the zone list for the configured time only', async () => {
    const api = new FakeRoute53();
    api.addZone('example.com');
    let now = 0;
    const p = provider(api, { zoneCacheTtlMs: 1000, now: () => now });
    await p.records();
    await p.records();
    now = 1500;
    await p.records();
    expect(api.calls.filter((c) => c.op === 'listHostedZones')).toHaveLength(2);
  });

  it('reports a record outside every zone as a failed group', async () => {
    const api = new FakeRoute53();
    api.addZone('example.com');
    const p = provider(api, { domains: ['example.com', 'example.net'] });
    const result = await p.applyChanges(creating(a('app.example.net', '192.0.2.1')));
    expect(result.applied).toBe(0);
    expect(result.failed).toEqual([
      {
        group: 'app.example.net/A',
        message: expect.stringContaining('none of the policy'),
        permanent: true,
      },
    ]);
  });
});

describe('Route53Provider records', () => {
  it('lists every page and understands alias, multi-value, wildcard and foreign records', async () => {
    const api = new FakeRoute53();
    const zone = api.addZone('example.com');
    api.put(zone, {
      Name: 'example.com',
      Type: 'NS',
      TTL: 172800,
      ResourceRecords: [{ Value: 'ns-1.awsdns.com.' }],
    });
    api.put(zone, {
      Name: 'multi.example.com',
      Type: 'A',
      TTL: 120,
      ResourceRecords: [{ Value: '192.0.2.2' }, { Value: '192.0.2.1' }],
    });
    api.put(zone, {
      Name: 'lb.example.com',
      Type: 'A',
      AliasTarget: {
        DNSName: 'my-lb-1.us-east-1.elb.amazonaws.com.',
        HostedZoneId: 'Z35SXDOTRQ7X7K',
        EvaluateTargetHealth: true,
      },
    });
    api.put(zone, {
      Name: '\\052.example.com',
      Type: 'CNAME',
      TTL: 60,
      ResourceRecords: [{ Value: 'Target.Example.NET.' }],
    });
    for (let i = 0; i < 5; i++)
      api.put(zone, {
        Name: `r${i}.example.com`,
        Type: 'A',
        TTL: 300,
        ResourceRecords: [{ Value: `192.0.2.${10 + i}` }],
      });
    const p = provider(api, { pageSize: 2 });
    const records = await p.records();
    expect(listCalls(api).length).toBeGreaterThanOrEqual(5);
    expect(records).toHaveLength(8);
    expect(records.find((r) => r.name === 'multi.example.com')).toEqual({
      name: 'multi.example.com',
      type: 'A',
      targets: ['192.0.2.1', '192.0.2.2'],
      ttl: 120,
    });
    expect(records.find((r) => r.name === 'lb.example.com')).toMatchObject({
      type: 'A',
      targets: ['my-lb-1.us-east-1.elb.amazonaws.com'],
      providerSpecific: {
        alias: true,
        aliasHostedZoneId: 'Z35SXDOTRQ7X7K',
        evaluateTargetHealth: true,
      },
    });
    expect(records.find((r) => r.name === '*.example.com')).toMatchObject({
      type: 'CNAME',
      targets: ['target.example.net'],
    });
    expect(records.some((r) => r.type === ('NS' as Endpoint['type']))).toBe(false);
  });

  it('reads back an alias exactly as adjustEndpoints shapes it, so a sync converges', async () => {
    const api = new FakeRoute53();
    api.addZone('example.com');
    const p = provider(api);
    const desired = p.adjustEndpoints([
      {
        name: 'app.example.com',
        type: 'CNAME',
        targets: ['my-lb-1.us-east-1.elb.amazonaws.com'],
        ttl: 300,
      },
    ]).endpoints;
    await p.applyChanges(creating(...desired));
    expect(await p.records({ refresh: true })).toEqual(desired);
  });

  it('serves records from its cached view and keeps it current with its own changes', async () => {
    const api = new FakeRoute53();
    api.addZone('example.com');
    const p = provider(api);
    await p.records();
    const listsBefore = listCalls(api).length;
    await p.applyChanges(creating(a('one.example.com', '192.0.2.1')));
    const after = await p.records();
    expect(listCalls(api).length).toBe(listsBefore);
    expect(changeCalls(api)).toHaveLength(1);
    expect(after.map((r) => r.name)).toEqual(['one.example.com']);
    await p.records({ refresh: true });
    expect(listCalls(api).length).toBe(listsBefore + 1);
  });

  it('re-lists a zone after a failed change instead of trusting its cache', async () => {
    const api = new FakeRoute53();
    const zone = api.addZone('example.com');
    const p = provider(api);
    await p.records();
    putA(api, zone, 'taken.example.com', '198.51.100.1');
    const result = await p.applyChanges(creating(a('taken.example.com', '192.0.2.1')));
    expect(result.failed.map((f) => f.group)).toEqual(['taken.example.com/A']);
    const records = await p.records();
    expect(records).toEqual([a('taken.example.com', '198.51.100.1')]);
  });
});

describe('Route53Provider changes', () => {
  it('splits 2,500 records and their ownership TXT into batches within the limits, each pair together', async () => {
    const api = new FakeRoute53();
    api.addZone('example.com');
    const p = provider(api);
    const eps = Array.from({ length: 2500 }, (_, i) =>
      a(`host-${i}.example.com`, `10.0.${i >> 8}.${i & 255}`),
    );
    const result = await p.applyChanges(creating(...eps.flatMap((ep) => [ep, owner(ep)])));
    expect(result).toEqual({ applied: 5000, failed: [] });
    const batches = changeCalls(api);
    expect(batches.length).toBeGreaterThanOrEqual(5);
    for (const call of batches) {
      const cost = costOf(call.changes!);
      expect(cost.changes).toBeLessThanOrEqual(ROUTE53_LIMITS.maxChanges);
      expect(cost.chars).toBeLessThanOrEqual(ROUTE53_LIMITS.maxValueChars);
      const names = new Set(call.changes!.map((c) => c.ResourceRecordSet!.Name));
      for (const name of names) {
        if (name!.startsWith('a-')) expect(names.has(name!.slice(2))).toBe(true);
      }
    }
  });

  it('counts UPSERT twice against the limits', async () => {
    const api = new FakeRoute53();
    const zone = api.addZone('example.com');
    const old = Array.from({ length: 600 }, (_, i) => a(`u${i}.example.com`, '192.0.2.1'));
    for (const ep of old)
      api.put(zone, {
        Name: ep.name,
        Type: 'A',
        TTL: 300,
        ResourceRecords: [{ Value: '192.0.2.1' }],
      });
    const p = provider(api);
    const result = await p.applyChanges({
      ...NO_CHANGES,
      updateOld: old,
      updateNew: old.map((ep) => ({ ...ep, targets: ['192.0.2.9'] })),
    });
    expect(result.applied).toBe(600);
    const sizes = changeCalls(api).map((c) => c.changes!.length);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(500);
  });

  it('reports a create over a record it knows of without sending it, and applies the rest', async () => {
    const api = new FakeRoute53();
    const zone = api.addZone('example.com');
    putA(api, zone, 'taken.example.com', '198.51.100.1');
    const p = provider(api);
    const eps = [
      a('ok1.example.com', '192.0.2.1'),
      a('taken.example.com', '192.0.2.2'),
      a('ok2.example.com', '192.0.2.3'),
    ];
    const result = await p.applyChanges(creating(...eps.flatMap((ep) => [ep, owner(ep)])));
    expect(result.applied).toBe(4);
    expect(result.failed).toEqual([
      {
        group: 'taken.example.com/A',
        message: expect.stringContaining('already exists'),
        permanent: false,
      },
    ]);
    expect(changeCalls(api)).toHaveLength(1);
    expect(
      api.recordSets(zone).find((r) => r.Name === 'taken.example.com.')?.ResourceRecords,
    ).toEqual([{ Value: '198.51.100.1' }]);
    expect(api.recordSets(zone).some((r) => r.Name === 'a-taken.example.com.')).toBe(false);
  });

  it('when Route 53 refuses a batch because the zone moved, re-reads it once and applies the rest', async () => {
    const api = new FakeRoute53();
    const zone = api.addZone('example.com');
    const p = provider(api);
    await p.records();
    // Created by someone else after the provider read the zone.
    putA(api, zone, 'taken.example.com', '198.51.100.1');
    const lists = listCalls(api).length;
    const eps = [
      a('ok1.example.com', '192.0.2.1'),
      a('taken.example.com', '192.0.2.2'),
      a('ok2.example.com', '192.0.2.3'),
    ];
    const result = await p.applyChanges(creating(...eps.flatMap((ep) => [ep, owner(ep)])));
    expect(result).toEqual({
      applied: 4,
      failed: [
        {
          group: 'taken.example.com/A',
          message: expect.stringContaining('already exists'),
          permanent: false,
        },
      ],
    });
    // The refused batch, one re-read of the zone, the two other groups together: no loop.
    expect(changeCalls(api).map((c) => c.outcome)).toEqual(['InvalidChangeBatch', 'ok']);
    expect(listCalls(api).length - lists).toBe(1);
  });

  it('isolates a group Route 53 refuses as invalid by halving, in O(log n) requests', async () => {
    const api = new FakeRoute53();
    const zone = api.addZone('example.com');
    const p = provider(api);
    const eps = Array.from({ length: 8 }, (_, i) => a(`h${i}.example.com`, `192.0.2.${i + 1}`));
    // An alias to an IP: Route 53 refuses it (the seed-004 failure), and no re-read can help.
    eps[5] = {
      ...eps[5]!,
      providerSpecific: { alias: true, aliasHostedZoneId: 'Z35SXDOTRQ7X7K' },
    };
    const result = await p.applyChanges(creating(...eps.flatMap((ep) => [ep, owner(ep)])));
    expect(result.applied).toBe(14);
    expect(result.failed).toEqual([
      {
        group: 'h5.example.com/A',
        message: expect.stringMatching(
          /^InvalidChangeBatch: .*alias.*\(route53 ChangeResourceRecordSets, hosted zone ZFAKE\d+\)/,
        ),
        permanent: true,
      },
    ]);
    // 8 groups: the batch, then halves 4+4, 2+2, 1+1 down to the refused group.
    expect(changeCalls(api)).toHaveLength(7);
    expect(listCalls(api)).toHaveLength(1);
    expect(api.recordSets(zone).filter((r) => r.Type === 'A')).toHaveLength(7);
  });

  it('turns a CNAME into an alias A with a delete and a create in one batch', async () => {
    const api = new FakeRoute53();
    const zone = api.addZone('example.com');
    const cname: Endpoint = {
      name: 'app.example.com',
      type: 'CNAME',
      targets: ['my-lb-1.us-east-1.elb.amazonaws.com'],
      ttl: 300,
    };
    api.put(zone, {
      Name: cname.name,
      Type: 'CNAME',
      TTL: 300,
      ResourceRecords: [{ Value: cname.targets[0] }],
    });
    const p = provider(api);
    const [alias] = p.adjustEndpoints([cname]).endpoints;
    const result = await p.applyChanges({ ...NO_CHANGES, updateOld: [cname], updateNew: [alias!] });
    expect(result).toEqual({ applied: 1, failed: [] });
    expect(changeCalls(api)).toHaveLength(1);
    expect(changeCalls(api)[0]!.changes!.map((c: Change) => c.Action)).toEqual([
      'DELETE',
      'CREATE',
    ]);
    expect(api.recordSets(zone)).toEqual([
      expect.objectContaining({
        Type: 'A',
        AliasTarget: expect.objectContaining({ HostedZoneId: 'Z35SXDOTRQ7X7K' }),
      }),
    ]);
  });

  it('deletes with the exact values Route 53 holds', async () => {
    const api = new FakeRoute53();
    const zone = api.addZone('example.com');
    api.put(zone, {
      Name: 'old.example.com',
      Type: 'A',
      TTL: 60,
      ResourceRecords: [{ Value: '192.0.2.1' }],
    });
    const p = provider(api);
    const result = await p.applyChanges({
      ...NO_CHANGES,
      delete: [a('old.example.com', '192.0.2.1', 300)],
    });
    expect(result).toEqual({ applied: 1, failed: [] });
    expect(api.recordSets(zone)).toEqual([]);
  });

  it.each(['Throttling', 'PriorRequestNotComplete'])(
    'retries %s with backoff and completes',
    async (name) => {
      const api = new FakeRoute53();
      api.addZone('example.com');
      api.failNext('changeResourceRecordSets', 3, () => awsError(name, 'Rate exceeded'));
      const p = provider(api);
      const result = await p.applyChanges(creating(a('app.example.com', '192.0.2.1')));
      expect(result).toEqual({ applied: 1, failed: [] });
      expect(changeCalls(api).map((c) => c.outcome)).toEqual([name, name, name, 'ok']);
    },
  );

  it('gives up after a bounded number of throttled attempts with a transient error carrying the message', async () => {
    const api = new FakeRoute53();
    api.addZone('example.com');
    api.failNext('changeResourceRecordSets', 100, () => awsError('Throttling', 'Rate exceeded'));
    const p = provider(api);
    const attempt = p.applyChanges(creating(a('app.example.com', '192.0.2.1')));
    await expect(attempt).rejects.toBeInstanceOf(TransientError);
    await expect(attempt).rejects.toThrow(/Rate exceeded/);
    expect(changeCalls(api)).toHaveLength(FAST_RETRY.maxAttempts);
  });

  it('reports bad credentials as a permanent error with the provider message', async () => {
    const api = new FakeRoute53();
    api.addZone('example.com');
    api.failNext('listHostedZones', 1, () =>
      awsError(
        'InvalidClientTokenId',
        'The security token included in the request is invalid.',
        403,
      ),
    );
    const attempt = provider(api).records();
    await expect(attempt).rejects.toBeInstanceOf(PermanentError);
    await expect(attempt).rejects.toThrow(/security token included in the request is invalid/);
  });
});

describe('Route53Provider errors', () => {
  it('reports a hosted zone id that does not exist as permanent, after one request, in Route 53 words', async () => {
    const api = new FakeRoute53();
    api.addZone('example.com');
    const p = provider(api, {
      spec: { zoneType: 'any', aliasMode: 'Auto', hostedZoneIds: ['ZNOPE'] },
    });
    const err: unknown = await p.records().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentError);
    expect(err).toMatchObject({ reason: 'HostedZoneNotFound' });
    expect((err as Error).message).toMatch(
      /^NoSuchHostedZone: No hosted zone found with ID: ZNOPE \(route53 GetHostedZone, hosted zone ZNOPE\); check spec\.provider\.route53\.hostedZoneIds/,
    );
    // Printed once, although the SDK's error is kept as the cause.
    expect(describeError(err).match(/No hosted zone found/g)).toHaveLength(1);
    expect(api.calls).toEqual([
      { op: 'getHostedZone', zoneId: 'ZNOPE', outcome: 'NoSuchHostedZone' },
    ]);
  });

  it('reports a hosted zone id that cannot serve the policy', async () => {
    const api = new FakeRoute53();
    api.addZone('example.com', { id: 'ZPRIV', private: true });
    const p = provider(api, {
      spec: { zoneType: 'public', aliasMode: 'Auto', hostedZoneIds: ['ZPRIV'] },
    });
    await expect(p.records()).rejects.toMatchObject({
      reason: 'HostedZoneNotFound',
      message: expect.stringMatching(
        /^HostedZoneNotForPolicy: example\.com is a private zone and spec\.provider\.route53\.zoneType is public \(route53 GetHostedZone, hosted zone ZPRIV\)/,
      ),
    });
  });

  it('reports domains that no listed zone serves as permanent', async () => {
    const api = new FakeRoute53();
    api.addZone('other.org');
    const err: unknown = await provider(api)
      .applyChanges(creating(a('app.example.com', '192.0.2.1')))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentError);
    expect((err as Error).message).toMatch(
      /^NoMatchingHostedZone: none of the 1 hosted zones these credentials list serves spec\.domains \(example\.com\) with zoneType any \(route53 ListHostedZones\)/,
    );
    expect(changeCalls(api)).toEqual([]);
  });

  it('counts every request by operation and code, throttling apart, through the account limiter', async () => {
    const api = new FakeRoute53();
    api.addZone('example.com');
    api.failNext('changeResourceRecordSets', 2, () => awsError('Throttling', 'Rate exceeded'));
    const metrics = createMetrics(new Registry(), { processMetrics: false });
    const limiter = new CountingLimiter();
    const p = provider(api, { metrics, limiter });
    await p.applyChanges(creating(a('app.example.com', '192.0.2.1')));
    const requests = await metrics.providerRequests.get();
    const count = (operation: string, code: string): number | undefined =>
      requests.values.find((v) => v.labels.operation === operation && v.labels.code === code)
        ?.value;
    expect(count('ListHostedZones', 'OK')).toBe(1);
    expect(count('ListResourceRecordSets', 'OK')).toBe(1);
    expect(count('ChangeResourceRecordSets', 'Throttling')).toBe(2);
    expect(count('ChangeResourceRecordSets', 'OK')).toBe(1);
    expect((await metrics.providerThrottled.get()).values).toEqual([
      expect.objectContaining({ labels: { provider: 'route53' }, value: 2 }),
    ]);
    // Every request, retries included, waited for the account's limiter; throttling slowed it.
    expect(limiter.acquired).toBe(api.calls.length);
    expect(limiter.throttles).toBe(2);
  });
});

describe('Route53Provider caches survive failures', () => {
  it('keeps serving its zone list while a refresh is throttled, and does not hammer', async () => {
    const api = new FakeRoute53();
    api.addZone('example.com');
    let now = 0;
    const p = provider(api, { zoneCacheTtlMs: 60_000, now: () => now });
    await p.applyChanges(creating(a('app.example.com', '192.0.2.1')));
    now = 61_000;
    api.failNext('listHostedZones', 100, () => awsError('Throttling', 'Rate exceeded'));
    const zoneLists = (): number => api.calls.filter((c) => c.op === 'listHostedZones').length;
    const before = zoneLists();
    expect((await p.records()).map((r) => r.name)).toEqual(['app.example.com']);
    expect(zoneLists() - before).toBe(FAST_RETRY.maxAttempts);
    // The next syncs within a few seconds use the kept list without asking again.
    now = 65_000;
    await p.applyChanges(creating(a('two.example.com', '192.0.2.2')));
    expect(zoneLists() - before).toBe(FAST_RETRY.maxAttempts);
    expect(listCalls(api)).toHaveLength(1);
  });

  it('keeps a zone view after a throttled change: nothing was applied', async () => {
    const api = new FakeRoute53();
    api.addZone('example.com');
    const p = provider(api);
    await p.records();
    api.failNext('changeResourceRecordSets', 100, () => awsError('Throttling', 'Rate exceeded'));
    const attempt = p.applyChanges(creating(a('one.example.com', '192.0.2.1')));
    await expect(attempt).rejects.toBeInstanceOf(TransientError);
    await expect(attempt).rejects.toThrow(
      /^Throttling: Rate exceeded \(route53 ChangeResourceRecordSets, hosted zone ZFAKE0001\)$/,
    );
    api.clearFaults();
    await p.applyChanges(creating(a('one.example.com', '192.0.2.1')));
    expect(listCalls(api)).toHaveLength(1);
  });

  it('lists a zone again after a change that got no answer: it may have been applied', async () => {
    const api = new FakeRoute53();
    api.addZone('example.com');
    const p = provider(api);
    await p.records();
    api.failNext('changeResourceRecordSets', FAST_RETRY.maxAttempts, () =>
      awsError('ServiceUnavailable', 'Service Unavailable', 503),
    );
    await expect(
      p.applyChanges(creating(a('one.example.com', '192.0.2.1'))),
    ).rejects.toBeInstanceOf(TransientError);
    await p.records();
    expect(listCalls(api)).toHaveLength(2);
  });

  it('keeps its view exactly what the zone holds after a partly refused batch', async () => {
    const api = new FakeRoute53();
    const zone = api.addZone('example.com');
    putA(api, zone, 'old.example.com', '192.0.2.50');
    const p = provider(api);
    await p.records();
    const bad: Endpoint = {
      ...a('bad.example.com', '192.0.2.9'),
      providerSpecific: { alias: true, aliasHostedZoneId: 'Z35SXDOTRQ7X7K' },
    };
    const result = await p.applyChanges({
      create: [a('new.example.com', '192.0.2.1'), bad, a('other.example.com', '192.0.2.2')],
      updateOld: [],
      updateNew: [],
      delete: [a('old.example.com', '192.0.2.50')],
    });
    expect(result.failed.map((f) => f.group)).toEqual(['bad.example.com/A']);
    const cached = await p.records();
    const listed = await provider(api).records({ refresh: true });
    expect(cached).toEqual(listed);
    expect(cached.map((r) => r.name).sort()).toEqual(['new.example.com', 'other.example.com']);
  });
});

/** A limiter that never waits and counts what it was asked. */
class CountingLimiter implements RateLimiter {
  acquired = 0;
  throttles = 0;
  acquire(): Promise<void> {
    this.acquired += 1;
    return Promise.resolve();
  }
  throttled(): void {
    this.throttles += 1;
  }
  pendingMs(): number {
    return 0;
  }
}
