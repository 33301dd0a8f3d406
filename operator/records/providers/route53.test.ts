import type { Change } from '@aws-sdk/client-route-53';
import { awsError, FakeRoute53 } from '../../../test/fakes/route53-api';
import { PermanentError, TransientError } from '../../runtime/errors';
import type { Changes, Endpoint } from '../endpoint';
import { NO_CHANGES } from '../endpoint';
import { costOf, ROUTE53_LIMITS } from './route53-batch';
import type { Route53ProviderOptions } from './route53';
import { Route53Provider } from './route53';

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
      { group: 'app.example.net/A', message: expect.stringContaining('none of the policy') },
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
    api.put(zone, {
      Name: 'taken.example.com',
      Type: 'A',
      TTL: 300,
      ResourceRecords: [{ Value: '198.51.100.1' }],
    });
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

  it('applies the other groups and reports the one Route 53 refuses, without looping', async () => {
    const api = new FakeRoute53();
    const zone = api.addZone('example.com');
    api.put(zone, {
      Name: 'taken.example.com',
      Type: 'A',
      TTL: 300,
      ResourceRecords: [{ Value: '198.51.100.1' }],
    });
    const p = provider(api);
    const eps = [
      a('ok1.example.com', '192.0.2.1'),
      a('taken.example.com', '192.0.2.2'),
      a('ok2.example.com', '192.0.2.3'),
    ];
    const result = await p.applyChanges(creating(...eps.flatMap((ep) => [ep, owner(ep)])));
    expect(result.applied).toBe(4);
    expect(result.failed).toEqual([
      { group: 'taken.example.com/A', message: expect.stringContaining('already exists') },
    ]);
    // One rejected batch, then each of the three groups once.
    expect(changeCalls(api)).toHaveLength(4);
    expect(
      api.recordSets(zone).find((r) => r.Name === 'taken.example.com.')?.ResourceRecords,
    ).toEqual([{ Value: '198.51.100.1' }]);
    expect(api.recordSets(zone).some((r) => r.Name === 'a-taken.example.com.')).toBe(false);
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
