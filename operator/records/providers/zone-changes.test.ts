import fc from 'fast-check';
import type { Changes, Endpoint } from '../endpoint';
import { batchGroupKey, NO_CHANGES } from '../endpoint';
import { groupIntents, packGroups, resolveIntent } from './zone-changes';

const a = (name: string, ip: string, ttl = 300): Endpoint => ({
  name,
  type: 'A',
  targets: [ip],
  ttl,
});
const ownerTxt = (ep: Endpoint, name = `_dnsop-a.${ep.name}`): Endpoint => ({
  name,
  type: 'TXT',
  targets: ['"heritage=dnsop,dnsop/owner=shop/public"'],
  ttl: ep.ttl,
  ownerOf: `${ep.name}/${ep.type}`,
});
const oneZone = (): string[] => ['Z1'];

describe('groupIntents', () => {
  it('keeps a record and its ownership TXT in one group, another name in another', () => {
    const app = a('app.example.com', '192.0.2.1');
    const { intents } = groupIntents(
      { ...NO_CHANGES, create: [app, ownerTxt(app), a('b.example.com', '192.0.2.2')] },
      oneZone,
    );
    expect(intents.map((i) => i.groupKeys)).toEqual([['app.example.com/A'], ['b.example.com/A']]);
    expect(intents[0]!.creates).toHaveLength(2);
  });

  it('puts every change sharing a batchGroupKey in one group: creates, updates and deletes alike', () => {
    // Adoption from external-dns: dnsop's TXT is created and external-dns's deleted in the same
    // atomic change as the record is updated; three names, one group.
    const old = a('app.example.com', '192.0.2.1');
    const next = a('app.example.com', '192.0.2.9');
    const theirs = ownerTxt(old, 'a-app.example.com');
    const ours = ownerTxt(next);
    const changes: Changes = {
      create: [ours],
      updateOld: [old],
      updateNew: [next],
      delete: [theirs],
    };
    const { intents } = groupIntents(changes, oneZone);
    expect(intents).toHaveLength(1);
    expect(new Set([ours, next, theirs].map(batchGroupKey))).toEqual(
      new Set(intents[0]!.groupKeys),
    );
    expect(intents[0]).toMatchObject({
      creates: [ours],
      deletes: [theirs],
      updates: [[old, next]],
    });
  });

  it('keeps both halves of a type change together although their keys differ', () => {
    const cname: Endpoint = { name: 'app.example.com', type: 'CNAME', targets: ['x.net'], ttl: 60 };
    const { intents } = groupIntents(
      { ...NO_CHANGES, updateOld: [cname], updateNew: [a('app.example.com', '192.0.2.1')] },
      oneZone,
    );
    expect(intents).toHaveLength(1);
    expect(intents[0]!.groupKeys).toEqual(['app.example.com/A']);
  });

  it('sends a name to every zone it routes to (split horizon) and reports names in none', () => {
    const { intents, unroutable } = groupIntents(
      { ...NO_CHANGES, create: [a('app.example.com', '192.0.2.1'), a('x.other.org', '192.0.2.2')] },
      (name) => (name.endsWith('example.com') ? ['ZPUB', 'ZPRIV'] : []),
    );
    expect(intents.map((i) => i.zoneId)).toEqual(['ZPUB', 'ZPRIV']);
    expect(unroutable.map((ep) => ep.name)).toEqual(['x.other.org']);
  });

  it('pairs updates by key when the planner gives old and new lists of different lengths', () => {
    const old = a('b.example.com', '192.0.2.1');
    const next = { ...old, targets: ['192.0.2.2'] };
    const { intents } = groupIntents(
      { ...NO_CHANGES, updateOld: [a('c.example.com', '192.0.2.3'), old], updateNew: [next] },
      oneZone,
    );
    expect(intents[0]!.updates).toEqual([[old, next]]);
  });
});

describe('resolveIntent', () => {
  const held = { name: 'app.example.com', ttl: 30 };
  const zoneHolding =
    (...keys: string[]) =>
    (key: string) =>
      keys.includes(key) ? { ...held, key } : undefined;
  const intentOf = (changes: Changes) => groupIntents(changes, oneZone).intents[0]!;

  it('deletes with what the zone holds, and drops the deletion of what is gone', () => {
    const r = resolveIntent(
      intentOf({
        ...NO_CHANGES,
        delete: [a('app.example.com', '192.0.2.1'), ownerTxt(a('app.example.com', '1.1.1.1'))],
      }),
      zoneHolding('app.example.com/A'),
    );
    expect(r.removals).toEqual([{ ...held, key: 'app.example.com/A' }]);
    expect(r.conflict).toBeUndefined();
  });

  it('refuses to create over an existing set instead of overwriting it', () => {
    const r = resolveIntent(
      intentOf({ ...NO_CHANGES, create: [a('app.example.com', '192.0.2.1')] }),
      zoneHolding('app.example.com/A'),
    );
    expect(r.conflict).toMatch(/app\.example\.com \(A\) already exists in zone Z1/);
  });

  it('replaces a set of the same key, held or not', () => {
    const old = a('app.example.com', '192.0.2.1');
    const next = a('app.example.com', '192.0.2.2');
    const held1 = resolveIntent(
      intentOf({ ...NO_CHANGES, updateOld: [old], updateNew: [next] }),
      zoneHolding('app.example.com/A'),
    );
    expect(held1.replacements).toEqual([[{ ...held, key: 'app.example.com/A' }, next]]);
    const gone = resolveIntent(
      intentOf({ ...NO_CHANGES, updateOld: [old], updateNew: [next] }),
      zoneHolding(),
    );
    expect(gone.replacements).toEqual([[undefined, next]]);
  });

  it('turns a type change into the removal of the old set and the creation of the new', () => {
    const cname: Endpoint = { name: 'app.example.com', type: 'CNAME', targets: ['x.net'], ttl: 60 };
    const next = a('app.example.com', '192.0.2.1');
    const r = resolveIntent(
      intentOf({ ...NO_CHANGES, updateOld: [cname], updateNew: [next] }),
      zoneHolding('app.example.com/CNAME'),
    );
    expect(r.removals).toEqual([{ ...held, key: 'app.example.com/CNAME' }]);
    expect(r.creations).toEqual([next]);
    expect(r.conflict).toBeUndefined();
  });
});

describe('packGroups', () => {
  const limits = [10, 100];
  const pack = (costs: number[][]) =>
    packGroups(
      costs.map((cost, id) => ({ id, cost })),
      (g) => g.cost,
      limits,
    );
  const ids = (batches: { id: number }[][]) => batches.map((b) => b.map((g) => g.id));

  it.each([
    ['exactly at the limit: one request', [[4], [6]], [[0, 1]]],
    ['one over: two requests', [[4], [7]], [[0], [1]]],
    [
      'a second dimension binds too',
      [
        [1, 60],
        [1, 40],
        [1, 1],
      ],
      [[0, 1], [2]],
    ],
  ])('%s', (_what, costs, expected) => {
    expect(ids(pack(costs).batches)).toEqual(expected);
  });

  it('never sends a group over the limits on its own, and keeps packing the others', () => {
    const { batches, oversized } = pack([[3], [11], [3]]);
    expect(ids(batches)).toEqual([[0, 2]]);
    expect(oversized.map((g) => g.id)).toEqual([1]);
  });

  it('keeps every group whole, once, in order, each request within the limits (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0, max: 120 }))),
        (costs) => {
          const { batches, oversized } = pack(costs);
          const sent = batches.flat().map((g) => g.id);
          const all = [...sent, ...oversized.map((g) => g.id)].sort((x, y) => x - y);
          expect(all).toEqual(costs.map((_, i) => i));
          expect(sent).toEqual([...sent].sort((x, y) => x - y));
          for (const batch of batches) {
            expect(batch.length).toBeGreaterThan(0);
            for (const [i, limit] of limits.entries()) {
              expect(batch.reduce((n, g) => n + (g.cost[i] ?? 0), 0)).toBeLessThanOrEqual(limit);
            }
          }
          for (const g of oversized) expect(g.cost.some((c, i) => c > limits[i]!)).toBe(true);
        },
      ),
    );
  });
});
