import type { ResourceRecordSet } from '@aws-sdk/client-route-53';
import type { Changes, Endpoint } from '../endpoint';
import { NO_CHANGES } from '../endpoint';
import {
  costOf,
  costVector,
  describeCostVector,
  limitVector,
  ROUTE53_LIMITS,
  route53Changes,
} from './route53-batch';
import { groupIntents, packGroups, resolveIntent } from './zone-changes';

/** What the provider does: group, resolve against an empty zone, pack with Route 53's costs. */
function batchSizes(changes: Changes): { requests: number[]; oversized: number } {
  const groups = groupIntents(changes, () => ['Z1']).intents.map((intent) =>
    resolveIntent<ResourceRecordSet>(intent, () => undefined),
  );
  const { batches, oversized } = packGroups(
    groups,
    (g) => costVector(costOf(route53Changes(g))),
    limitVector(ROUTE53_LIMITS),
  );
  return {
    requests: batches.map((b) => b.reduce((n, g) => n + route53Changes(g).length, 0)),
    oversized: oversized.length,
  };
}

const hosts = (
  n: number,
  values = 1,
  value = (i: number, v: number) => `10.${v}.${i >> 8}.${i & 255}`,
): Endpoint[] =>
  Array.from({ length: n }, (_, i) => ({
    name: `h${i}.example.com`,
    type: 'A',
    targets: Array.from({ length: values }, (_v, v) => value(i, v)),
    ttl: 300,
  }));
const txts = (n: number, chars: number): Endpoint[] =>
  Array.from({ length: n }, (_, i) => ({
    name: `t${i}.example.com`,
    type: 'TXT',
    targets: [`"${String(i).padStart(chars - 2, 'x')}"`],
    ttl: 300,
  }));
const creating = (eps: Endpoint[]): Changes => ({ ...NO_CHANGES, create: eps });
/** Updates of records with the same key: each an UPSERT. */
const upserting = (eps: Endpoint[]): Changes => ({
  ...NO_CHANGES,
  updateOld: eps,
  updateNew: eps.map((ep) => ({ ...ep, ttl: 60 })),
});

describe("Route 53's 1,000 ResourceRecords per request", () => {
  it.each([
    ['1,000 CREATEs: one request', creating(hosts(1000)), [1000]],
    ['1,001 CREATEs: two', creating(hosts(1001)), [1000, 1]],
    ['500 UPSERTs count 1,000: one request', upserting(hosts(500)), [500]],
    ['501 UPSERTs count 1,002: two', upserting(hosts(501)), [500, 1]],
    ['250 sets of 4 values are 1,000 records: one request', creating(hosts(250, 4)), [250]],
    ['251 sets of 4 values: two', creating(hosts(251, 4)), [250, 1]],
    ['125 UPSERTs of 4 values count 1,000: one request', upserting(hosts(125, 4)), [125]],
    ['126 UPSERTs of 4 values: two', upserting(hosts(126, 4)), [125, 1]],
  ])('%s', (_what, changes, expected) => {
    expect(batchSizes(changes)).toEqual({ requests: expected, oversized: 0 });
  });

  it('counts one record over 1,000 as over, although the changes are far fewer', () => {
    const sets = [...hosts(249, 4), { ...hosts(250, 5)[249]!, name: 'five.example.com' }];
    // 249 x 4 + 5 = 1,001 records in 250 changes.
    expect(batchSizes(creating(sets)).requests).toEqual([249, 1]);
    expect(batchSizes(creating(sets.slice(0, 249).concat(hosts(250, 4)[249]!))).requests).toEqual([
      250,
    ]);
  });

  it('never splits a record from its ownership TXT at the boundary', () => {
    const records = hosts(501);
    const withOwners = records.flatMap((ep) => [
      ep,
      {
        name: `_dnsop-a.${ep.name}`,
        type: 'TXT' as const,
        targets: ['"heritage=dnsop"'],
        ttl: 300,
        ownerOf: `${ep.name}/A`,
      },
    ]);
    // 500 pairs fill 1,000 exactly; the 501st pair goes whole into the next request.
    expect(batchSizes(creating(withOwners)).requests).toEqual([1000, 2]);
  });
});

describe("Route 53's 32,000 value characters per request", () => {
  it.each([
    ['128 TXT of 250 characters (32,000): one request', creating(txts(128, 250)), [128]],
    ['129 (32,250): two', creating(txts(129, 250)), [128, 1]],
    ['64 UPSERTs of 250 count 32,000: one request', upserting(txts(64, 250)), [64]],
    ['65 UPSERTs of 250 count 32,500: two', upserting(txts(65, 250)), [64, 1]],
  ])('%s', (_what, changes, expected) => {
    expect(batchSizes(changes)).toEqual({ requests: expected, oversized: 0 });
  });

  it('counts one character over the limit as over', () => {
    const exact = txts(128, 250);
    const over = [...exact.slice(0, 127), { ...exact[127]!, targets: [`"${'y'.repeat(249)}"`] }];
    expect(batchSizes(creating(over)).requests).toEqual([127, 1]);
  });

  it('reports a set that alone exceeds the limits instead of sending it', () => {
    const huge: Endpoint = {
      name: 'huge.example.com',
      type: 'TXT',
      targets: Array.from({ length: 100 }, (_, i) => `"${String(i).padStart(330, 'z')}"`),
      ttl: 300,
    };
    expect(batchSizes(creating([huge, ...hosts(2)]))).toEqual({ requests: [2], oversized: 1 });
    // What the policy's error says about it: the set's cost in Route 53's terms.
    const [group] = groupIntents(creating([huge]), () => ['Z1']).intents.map((intent) =>
      resolveIntent<ResourceRecordSet>(intent, () => undefined),
    );
    expect(describeCostVector(costVector(costOf(route53Changes(group!))))).toBe(
      '1 changes, 100 records, 33200 value characters, UPSERT counted twice',
    );
  });
});

describe('route53Changes', () => {
  it('deletes the old set before creating the new one when a name changes type', () => {
    // Route 53 refuses a CNAME next to any other set of the same name: the A must go first.
    const a: ResourceRecordSet = {
      Name: 'www.example.com.',
      Type: 'A',
      TTL: 300,
      ResourceRecords: [{ Value: '192.0.2.1' }],
    };
    const old: Endpoint = { name: 'www.example.com', type: 'A', targets: ['192.0.2.1'], ttl: 300 };
    const next: Endpoint = {
      name: 'www.example.com',
      type: 'CNAME',
      targets: ['lb.example.net'],
      ttl: 300,
    };
    const other: Endpoint = { name: 'www.example.com', type: 'TXT', targets: ['"v=1"'], ttl: 300 };
    const changes: Changes = {
      ...NO_CHANGES,
      create: [other],
      updateOld: [old],
      updateNew: [next],
    };
    const groups = groupIntents(changes, () => ['Z1']).intents.map((intent) =>
      resolveIntent<ResourceRecordSet>(intent, (key) => (key.endsWith('/A') ? a : undefined)),
    );
    expect(
      groups.flatMap(route53Changes).map((c) => [c.Action, c.ResourceRecordSet?.Type]),
    ).toEqual([
      ['DELETE', 'A'],
      ['CREATE', 'CNAME'],
      ['CREATE', 'TXT'],
    ]);
  });
});

describe('costOf', () => {
  it('counts an UPSERT twice in changes, records and characters', () => {
    const rrs = {
      Name: 'a.example.com',
      Type: 'A' as const,
      TTL: 60,
      ResourceRecords: [{ Value: '192.0.2.1' }, { Value: '192.0.2.22' }],
    };
    expect(costOf([{ Action: 'CREATE', ResourceRecordSet: rrs }])).toEqual({
      changes: 1,
      records: 2,
      chars: 19,
    });
    expect(costOf([{ Action: 'DELETE', ResourceRecordSet: rrs }])).toEqual({
      changes: 1,
      records: 2,
      chars: 19,
    });
    expect(costOf([{ Action: 'UPSERT', ResourceRecordSet: rrs }])).toEqual({
      changes: 2,
      records: 4,
      chars: 38,
    });
  });

  it('counts an alias as one record and its DNS name as its characters', () => {
    const alias = {
      Name: 'a.example.com',
      Type: 'A' as const,
      AliasTarget: {
        DNSName: 'lb.elb.amazonaws.com',
        HostedZoneId: 'Z35SXDOTRQ7X7K',
        EvaluateTargetHealth: false,
      },
    };
    expect(costOf([{ Action: 'UPSERT', ResourceRecordSet: alias }])).toEqual({
      changes: 2,
      records: 2,
      chars: 40,
    });
  });
});
