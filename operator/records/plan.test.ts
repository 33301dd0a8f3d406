import fc from 'fast-check';
import type { SyncPolicy } from '../api/types';
import type { Changes, Endpoint } from './endpoint';
import { endpointKey } from './endpoint';
import { DomainFilter } from './hostname';
import { planChanges, type PlanInput } from './plan';
import { ownershipRecord, readRegistry } from './registry';

const domains = new DomainFilter(['example.com']);
const OWNER = 'shop/public';

function a(
  name: string,
  targets: string[],
  source = `Service/shop/${name.split('.')[0]}`,
  ttl = 300,
): Endpoint {
  return { name, type: 'A', targets, ttl, source };
}
function cname(
  name: string,
  target: string,
  source = `Service/shop/${name.split('.')[0]}`,
): Endpoint {
  return { name, type: 'CNAME', targets: [target], ttl: 300, source };
}
/** An alias A record at app.example.com (Route 53). */
function alias(target: string, zone = 'Z35SXDOTRQ7X7K', source?: string): Endpoint {
  return {
    ...a('app.example.com', [target], source, 60),
    providerSpecific: { alias: true, aliasHostedZoneId: zone },
  };
}
/** A record as the provider holds it, with its ownership TXT. */
function published(ep: Endpoint, owner = OWNER): Endpoint[] {
  const { source: _source, ...record } = ep;
  return [record, ownershipRecord(ep, owner)];
}

function plan(overrides: Partial<PlanInput>): ReturnType<typeof planChanges> {
  return planChanges({
    desired: [],
    current: [],
    ownerId: OWNER,
    policy: 'Sync',
    domains,
    cachesSynced: true,
    maxDeletePercent: 100,
    ...overrides,
  });
}

/** Applies changes the way a provider would: deletes and old versions out, creates and new versions in. */
function apply(current: readonly Endpoint[], changes: Changes): Endpoint[] {
  const out = new Map(current.map((e) => [endpointKey(e), e]));
  for (const e of [...changes.delete, ...changes.updateOld]) out.delete(endpointKey(e));
  for (const e of [...changes.create, ...changes.updateNew]) {
    const { source: _s, ...stored } = e;
    out.set(endpointKey(e), stored);
  }
  return [...out.values()];
}

const summary = (c: Changes): Record<string, string[]> => ({
  create: c.create.map(endpointKey),
  update: c.updateNew.map(endpointKey),
  delete: c.delete.map(endpointKey),
});

describe('planChanges', () => {
  it('creates a record with its ownership TXT, batched together', () => {
    const result = plan({ desired: [a('app.example.com', ['10.0.0.1'])] });
    expect(summary(result.changes)).toEqual({
      create: ['_dnsop-a.app.example.com/TXT', 'app.example.com/A'],
      update: [],
      delete: [],
    });
    const txt = result.changes.create.find((e) => e.type === 'TXT');
    expect(txt?.ownerOf).toBe('app.example.com/A');
    expect(txt?.targets).toEqual([
      '"heritage=dnsop,dnsop/owner=shop/public,dnsop/resource=Service/shop/app"',
    ]);
  });

  it.each<[string, Endpoint, Endpoint]>([
    ['target change', a('app.example.com', ['10.0.0.1']), a('app.example.com', ['10.0.0.2'])],
    [
      'TTL change',
      a('app.example.com', ['10.0.0.1']),
      a('app.example.com', ['10.0.0.1'], undefined, 60),
    ],
    [
      'target added',
      a('app.example.com', ['10.0.0.1']),
      a('app.example.com', ['10.0.0.1', '10.0.0.2']),
    ],
    [
      'change of one of two targets',
      a('app.example.com', ['10.0.0.1', '10.0.0.2']),
      a('app.example.com', ['10.0.0.1', '10.0.0.3']),
    ],
    [
      'change from plain A to alias',
      a('app.example.com', ['lb-1.example.net'], undefined, 60),
      alias('lb-1.example.net'),
    ],
    [
      'change from alias to plain A',
      alias('lb-1.example.net'),
      a('app.example.com', ['lb-1.example.net'], undefined, 60),
    ],
    [
      'alias hosted zone change',
      alias('lb-1.example.net'),
      alias('lb-1.example.net', 'Z2OTHERZONE'),
    ],
  ])('updates an owned record on a %s', (_name, before, after) => {
    const result = plan({ desired: [after], current: published(before) });
    expect(summary(result.changes)).toEqual({
      create: [],
      update: ['app.example.com/A'],
      delete: [],
    });
    expect(result.changes.updateNew[0]).toEqual(after);
    expect(result.recordChanges).toBe(1);
  });

  it('changes nothing when the provider already matches', () => {
    const ep = a('app.example.com', ['10.0.0.2', '10.0.0.1']);
    const result = plan({
      desired: [ep],
      current: published({ ...ep, targets: ['10.0.0.1', '10.0.0.2'] }),
    });
    expect(summary(result.changes)).toEqual({ create: [], update: [], delete: [] });
    expect(result.inSync).toBe(1);
  });

  it('updates only the ownership TXT when the source object changed', () => {
    const ep = a('app.example.com', ['10.0.0.1']);
    const result = plan({
      desired: [{ ...ep, source: 'Service/shop/app-v2' }],
      current: published(ep),
    });
    expect(summary(result.changes)).toEqual({
      create: [],
      update: ['_dnsop-a.app.example.com/TXT'],
      delete: [],
    });
  });

  it.each<[SyncPolicy, Record<string, string[]>]>([
    [
      'Sync',
      {
        create: ['_dnsop-a.new.example.com/TXT', 'new.example.com/A'],
        update: ['upd.example.com/A'],
        delete: ['_dnsop-a.old.example.com/TXT', 'old.example.com/A'],
      },
    ],
    [
      'UpsertOnly',
      {
        create: ['_dnsop-a.new.example.com/TXT', 'new.example.com/A'],
        update: ['upd.example.com/A'],
        delete: [],
      },
    ],
    [
      'CreateOnly',
      { create: ['_dnsop-a.new.example.com/TXT', 'new.example.com/A'], update: [], delete: [] },
    ],
  ])('policy %s', (policy, expected) => {
    const current = [
      ...published(a('old.example.com', ['10.0.0.9'])),
      ...published(a('upd.example.com', ['10.0.0.8'])),
    ];
    const desired = [a('new.example.com', ['10.0.0.1']), a('upd.example.com', ['10.0.0.7'])];
    expect(summary(plan({ policy, desired, current }).changes)).toEqual(expected);
  });

  it.each([
    [
      'another owner',
      published(a('app.example.com', ['10.9.9.9']), 'team-b'),
      'OwnedByAnotherOwner',
    ],
    [
      'nobody (no TXT)',
      [{ name: 'app.example.com', type: 'A' as const, targets: ['10.9.9.9'], ttl: 300 }],
      'NotOwned',
    ],
  ])('never touches a record owned by %s and reports wanting it', (_name, current, reason) => {
    const result = plan({ desired: [a('app.example.com', ['10.0.0.1'])], current });
    expect(summary(result.changes)).toEqual({ create: [], update: [], delete: [] });
    expect(result.diagnostics).toEqual([
      expect.objectContaining({ object: 'Service/shop/app', reason }),
    ]);
  });

  it('does not delete records owned by another owner or by nobody', () => {
    const current = [
      ...published(a('b.example.com', ['10.9.9.9']), 'team-b'),
      { name: 'manual.example.com', type: 'A' as const, targets: ['10.9.9.8'], ttl: 300 },
    ];
    expect(summary(plan({ current }).changes)).toEqual({ create: [], update: [], delete: [] });
  });

  it('ignores names outside the domains, desired or current', () => {
    const current = published(a('app.example.net', ['10.0.0.1']));
    const result = plan({ desired: [a('x.example.org', ['10.0.0.1'])], current });
    expect(summary(result.changes)).toEqual({ create: [], update: [], delete: [] });
  });

  it('removes an orphaned ownership TXT of its own', () => {
    const [, txt] = published(a('gone.example.com', ['10.0.0.1']));
    expect(summary(plan({ current: [txt!] }).changes).delete).toEqual([
      '_dnsop-a.gone.example.com/TXT',
    ]);
  });

  describe('conflicts are reported, not thrashed', () => {
    it('several objects wanting one A record share it: targets merged, every source named', () => {
      const desired = [
        a('app.example.com', ['1.2.3.6'], 'Service/shop/c'),
        a('app.example.com', ['1.2.3.4'], 'Service/shop/a'),
        a('app.example.com', ['1.2.3.5'], 'Service/shop/b', 60),
      ];
      const first = plan({ desired });
      const record = first.changes.create.find((e) => e.type === 'A');
      expect(record).toEqual(
        expect.objectContaining({
          targets: ['1.2.3.4', '1.2.3.5', '1.2.3.6'],
          ttl: 60,
          source: 'Service/shop/a,Service/shop/b,Service/shop/c',
        }),
      );
      expect(first.diagnostics).toEqual([]);
      const txt = first.changes.create.find((e) => e.type === 'TXT');
      expect(txt?.targets).toEqual([
        '"heritage=dnsop,dnsop/owner=shop/public,dnsop/resource=Service/shop/a;Service/shop/b;Service/shop/c"',
      ]);
      // Read back, the registry names every object again: the plan is in sync.
      const after = apply([], first.changes);
      expect(summary(plan({ desired, current: after }).changes)).toEqual({
        create: [],
        update: [],
        delete: [],
      });
      // One object leaves: its target leaves the record set, the ownership record follows.
      const two = plan({ desired: desired.slice(1), current: after });
      expect(two.changes.updateNew.map((e) => e.targets)).toEqual([
        ['"heritage=dnsop,dnsop/owner=shop/public,dnsop/resource=Service/shop/a;Service/shop/b"'],
        ['1.2.3.4', '1.2.3.5'],
      ]);
      expect(two.changes.delete).toEqual([]);
    });

    it('two objects wanting one CNAME differently: the published one stays, stable across runs', () => {
      const desired = [
        cname('app.example.com', 'z.example.net', 'Service/shop/zeta'),
        cname('app.example.com', 'a.example.net', 'Service/shop/alpha'),
      ];
      const first = plan({ desired });
      expect(first.changes.create.find((e) => e.type === 'CNAME')?.source).toBe(
        'Service/shop/alpha',
      );
      expect(first.diagnostics).toEqual([
        expect.objectContaining({ object: 'Service/shop/zeta', reason: 'RecordConflict' }),
      ]);
      const after = apply([], first.changes);
      // A new claimant that sorts first does not take the published record over.
      const again = plan({
        desired: [...desired, cname('app.example.com', 'b.example.net', 'Service/shop/aaa')],
        current: after,
      });
      expect(summary(again.changes)).toEqual({ create: [], update: [], delete: [] });
      expect(again.diagnostics.map((d) => d.object).sort()).toEqual([
        'Service/shop/aaa',
        'Service/shop/zeta',
      ]);
    });

    it('two objects wanting the same CNAME share it', () => {
      const result = plan({
        desired: [
          cname('app.example.com', 'lb.example.net', 'Ingress/shop/a'),
          cname('app.example.com', 'lb.example.net', 'Ingress/shop/b'),
        ],
      });
      expect(result.diagnostics).toEqual([]);
      expect(result.changes.create.find((e) => e.type === 'CNAME')?.source).toBe(
        'Ingress/shop/a,Ingress/shop/b',
      );
    });

    it('an alias and plain addresses at one key conflict: the first object by name wins', () => {
      const alias: Endpoint = {
        ...a('app.example.com', ['lb-1.us-east-1.elb.amazonaws.com'], 'Service/shop/lb', 60),
        providerSpecific: { alias: true, aliasHostedZoneId: 'Z35SXDOTRQ7X7K' },
      };
      const result = plan({
        desired: [alias, a('app.example.com', ['10.0.0.1'], 'Service/shop/ip')],
      });
      expect(result.changes.create.find((e) => e.type === 'A')?.source).toBe('Service/shop/ip');
      expect(result.diagnostics).toEqual([
        expect.objectContaining({ object: 'Service/shop/lb', reason: 'RecordConflict' }),
      ]);
    });

    it('a CNAME and an A at one name: A wins when nothing is published', () => {
      const result = plan({
        desired: [
          cname('app.example.com', 'lb.example.net', 'Service/shop/lb'),
          a('app.example.com', ['10.0.0.1'], 'Service/shop/ip'),
        ],
      });
      expect(summary(result.changes).create).toEqual([
        '_dnsop-a.app.example.com/TXT',
        'app.example.com/A',
      ]);
      expect(result.diagnostics).toEqual([
        expect.objectContaining({ object: 'Service/shop/lb', reason: 'RecordConflict' }),
      ]);
    });

    it('a CNAME and an A at one name: the published CNAME stays', () => {
      const current = published(cname('app.example.com', 'lb.example.net', 'Service/shop/lb'));
      const result = plan({
        desired: [
          cname('app.example.com', 'lb.example.net', 'Service/shop/lb'),
          a('app.example.com', ['10.0.0.1'], 'Service/shop/ip'),
        ],
        current,
      });
      expect(summary(result.changes)).toEqual({ create: [], update: [], delete: [] });
      expect(result.diagnostics.map((d) => d.reason)).toEqual(['RecordConflict']);
    });

    it('replaces its own CNAME with an A when the target becomes an IP', () => {
      const current = published(cname('app.example.com', 'lb.example.net', 'Service/shop/app'));
      const result = plan({
        desired: [a('app.example.com', ['10.0.0.1'])],
        current,
        maxDeletePercent: 0,
      });
      expect(summary(result.changes)).toEqual({
        create: ['_dnsop-a.app.example.com/TXT', 'app.example.com/A'],
        update: [],
        delete: ['_dnsop-cname.app.example.com/TXT', 'app.example.com/CNAME'],
      });
    });

    it('refuses to create an A beside a foreign CNAME', () => {
      const current = published(cname('app.example.com', 'lb.example.net'), 'team-b');
      const result = plan({ desired: [a('app.example.com', ['10.0.0.1'])], current });
      expect(summary(result.changes)).toEqual({ create: [], update: [], delete: [] });
      expect(result.diagnostics).toEqual([
        expect.objectContaining({
          reason: 'RecordConflict',
          message: expect.stringContaining('owner "team-b"'),
        }),
      ]);
    });
  });

  describe('held sources (HTTPRoute status lagging)', () => {
    const route = 'HTTPRoute/shop/checkout';
    it('keeps the published record unchanged and deletes nothing', () => {
      const current = published(a('checkout.example.com', ['203.0.113.10'], route));
      const result = plan({ current, held: [route] });
      expect(summary(result.changes)).toEqual({ create: [], update: [], delete: [] });
    });
    it('does not let another object take the held name', () => {
      const current = published(a('checkout.example.com', ['203.0.113.10'], route));
      const result = plan({
        current,
        held: [route],
        desired: [a('checkout.example.com', ['10.0.0.1'], 'Service/shop/other')],
      });
      expect(summary(result.changes)).toEqual({ create: [], update: [], delete: [] });
      expect(result.diagnostics.map((d) => d.reason)).toEqual(['RecordConflict']);
    });
  });

  describe('held source kinds (an API that is not served, e.g. a CRD being reinstalled)', () => {
    const routeRecords = [
      ...published(a('checkout.example.com', ['203.0.113.10'], 'HTTPRoute/shop/checkout')),
      ...published(a('cart.example.com', ['203.0.113.11'], 'HTTPRoute/shop/cart')),
    ];
    const serviceRecord = published(a('app.example.com', ['10.0.0.1']));
    it('keeps every record made from that kind and still syncs the other kinds', () => {
      const result = plan({
        current: [...routeRecords, ...serviceRecord],
        heldKinds: ['HTTPRoute'],
        desired: [a('app.example.com', ['10.0.0.2'])],
      });
      expect(summary(result.changes)).toEqual({
        create: [],
        update: ['app.example.com/A'],
        delete: [],
      });
    });
    it('without the hold, the same input deletes them', () => {
      const result = plan({ current: [...routeRecords, ...serviceRecord] });
      expect(result.changes.delete.filter((e) => e.type === 'A')).toHaveLength(3);
    });
  });

  describe('guards', () => {
    const current = ['a', 'b', 'c', 'd'].flatMap((n) =>
      published(a(`${n}.example.com`, ['10.0.0.1'])),
    );
    it('refuses a plan that deletes more than maxDeletePercent (DeleteGuard)', () => {
      const result = plan({
        current,
        desired: [a('a.example.com', ['10.0.0.1'])],
        maxDeletePercent: 50,
      });
      expect(result.guard?.reason).toBe('DeleteGuard');
      expect(result.guard?.message).toContain('3 of 4');
      expect(summary(result.changes)).toEqual({ create: [], update: [], delete: [] });
      expect(result.refused.delete.length).toBe(6);
    });
    it('allows deleting up to maxDeletePercent', () => {
      const result = plan({
        current,
        desired: [a('a.example.com', ['10.0.0.1']), a('b.example.com', ['10.0.0.1'])],
        maxDeletePercent: 50,
      });
      expect(result.guard).toBeUndefined();
      expect(result.changes.delete.length).toBe(4);
    });
    it('always allows deleting one record, unless maxDeletePercent is 0', () => {
      const one = published(a('a.example.com', ['10.0.0.1']));
      expect(plan({ current: one, maxDeletePercent: 10 }).guard).toBeUndefined();
      expect(plan({ current: one, maxDeletePercent: 0 }).guard?.reason).toBe('DeleteGuard');
    });
    it('counts the deletions of the last hour, so deleting one by one does not get round it', () => {
      // 6 owned, 50%: three single deletions pass, the fourth is refused (4 of 6 within an hour).
      const six = ['a', 'b', 'c', 'd', 'e', 'f'];
      const owned = (names: string[]): Endpoint[] =>
        names.flatMap((n) => published(a(`${n}.example.com`, ['10.0.0.1'])));
      const want = (names: string[]): Endpoint[] =>
        names.map((n) => a(`${n}.example.com`, ['10.0.0.1']));
      for (const recent of [0, 1, 2]) {
        const left = six.slice(recent);
        const result = plan({
          current: owned(left),
          desired: want(left.slice(1)),
          maxDeletePercent: 50,
          recentlyDeleted: recent,
        });
        expect(result.guard).toBeUndefined();
        expect(result.deletes).toBe(1);
      }
      const fourth = plan({
        current: owned(six.slice(3)),
        desired: want(six.slice(4)),
        maxDeletePercent: 50,
        recentlyDeleted: 3,
      });
      expect(fourth.guard?.reason).toBe('DeleteGuard');
      expect(fourth.guard?.message).toContain('4 of 6 owned records within an hour');
      expect(fourth.guard?.message).toContain('1 now + 3 already deleted in the last hour');
    });
    it('allows one deletion an hour, not one per sync', () => {
      const one = published(a('a.example.com', ['10.0.0.1']));
      expect(plan({ current: one, maxDeletePercent: 10, recentlyDeleted: 1 }).guard?.reason).toBe(
        'DeleteGuard',
      );
    });
    it('does not count a record replaced by another type as a deletion', () => {
      const result = plan({
        current: published(cname('a.example.com', 'lb.example.net')),
        desired: [a('a.example.com', ['10.0.0.1'])],
        maxDeletePercent: 0,
      });
      expect(result.guard).toBeUndefined();
      expect(result.deletes).toBe(0);
    });
    it('deletesWait keeps unwanted records for a later sync, and the guard does not count them', () => {
      const result = plan({
        current: [...current, ...published(cname('old.example.com', 'lb.example.net'))],
        desired: [a('a.example.com', ['10.0.0.2']), a('old.example.com', ['10.0.0.9'])],
        maxDeletePercent: 10,
        deletesWait: true,
      });
      expect(result.guard).toBeUndefined();
      expect(result.deletesWaiting).toBe(3);
      expect(result.deletes).toBe(0);
      // Updates and a replacement by another type (its delete travels with its create) go at once.
      expect(summary(result.changes)).toEqual({
        create: ['_dnsop-a.old.example.com/TXT', 'old.example.com/A'],
        update: ['a.example.com/A'],
        delete: ['_dnsop-cname.old.example.com/TXT', 'old.example.com/CNAME'],
      });
      const settled = plan({ current, desired: [], maxDeletePercent: 100 });
      expect(settled.deletesWaiting).toBe(0);
      expect(settled.deletes).toBe(4);
    });
    it('changes nothing before the caches are synced', () => {
      const result = plan({
        current,
        cachesSynced: false,
        desired: [a('new.example.com', ['10.0.0.1'])],
      });
      expect(result.guard?.reason).toBe('CachesNotSynced');
      expect(summary(result.changes)).toEqual({ create: [], update: [], delete: [] });
    });
  });
});

// ---- properties ---------------------------------------------------------------------------------

const nameArb = fc.constantFrom('a', 'b', 'c', 'd', 'e').map((n) => `${n}.example.com`);
const ipArb = fc.constantFrom('10.0.0.1', '10.0.0.2', '10.0.0.3');
const sourceArb = fc.constantFrom('Service/shop/x', 'Service/shop/y', 'HTTPRoute/shop/r');
const endpointArb: fc.Arbitrary<Endpoint> = fc.oneof(
  fc.record({
    name: nameArb,
    type: fc.constant('A' as const),
    targets: fc.uniqueArray(ipArb, { minLength: 1, maxLength: 3 }).map((t) => t.sort()),
    ttl: fc.constantFrom(60, 300),
    source: sourceArb,
  }),
  fc.record({
    name: nameArb,
    type: fc.constant('CNAME' as const),
    targets: fc.constantFrom(['lb1.example.net'], ['lb2.example.net']),
    ttl: fc.constantFrom(60, 300),
    source: sourceArb,
  }),
);
const ownerArb = fc.constantFrom(OWNER, 'team-b', undefined);
const currentArb = fc.array(fc.tuple(endpointArb, ownerArb), { maxLength: 8 }).map((list) => {
  // A provider holds one record set per key, and a name with a CNAME holds nothing else.
  const out = new Map<string, Endpoint[]>();
  const names = new Map<string, string>();
  for (const [ep, owner] of list) {
    if (out.has(endpointKey(ep))) continue;
    const kind = ep.type === 'CNAME' ? 'cname' : 'addr';
    if (names.has(ep.name) && names.get(ep.name) !== kind) continue;
    names.set(ep.name, kind);
    out.set(
      endpointKey(ep),
      owner === undefined ? [{ ...ep, source: undefined }] : published(ep, owner),
    );
  }
  return [...out.values()].flat().map(({ source: _s, ...e }) => e as Endpoint);
});
const policyArb = fc.constantFrom<SyncPolicy>('Sync', 'UpsertOnly', 'CreateOnly');

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}

describe('planChanges properties', () => {
  it('never changes or deletes a record this owner does not own', () => {
    fc.assert(
      fc.property(
        fc.array(endpointArb, { maxLength: 8 }),
        currentArb,
        policyArb,
        (desired, current, policy) => {
          const result = plan({ desired, current, policy });
          const view = readRegistry(current);
          for (const ep of [...result.changes.updateOld, ...result.changes.delete]) {
            const key = ep.ownerOf ?? endpointKey(ep);
            expect(view.ownership.get(key)?.ownership.owner).toBe(OWNER);
          }
        },
      ),
    );
  });

  it('is idempotent: after applying a plan, planning again changes nothing', () => {
    fc.assert(
      fc.property(
        fc.array(endpointArb, { maxLength: 8 }),
        currentArb,
        policyArb,
        (desired, current, policy) => {
          const first = plan({ desired, current, policy });
          const second = plan({ desired, current: apply(current, first.changes), policy });
          expect(summary(second.changes)).toEqual({ create: [], update: [], delete: [] });
        },
      ),
    );
  });

  it('does not mutate its inputs', () => {
    fc.assert(
      fc.property(fc.array(endpointArb, { maxLength: 8 }), currentArb, (desired, current) => {
        const frozenDesired = deepFreeze(structuredClone(desired));
        const frozenCurrent = deepFreeze(structuredClone(current));
        expect(() =>
          plan({
            desired: frozenDesired,
            current: frozenCurrent,
            held: deepFreeze(['HTTPRoute/shop/r']),
          }),
        ).not.toThrow();
        expect(frozenDesired).toEqual(desired);
      }),
    );
  });

  it('two owners sharing a zone converge and never fight', () => {
    fc.assert(
      fc.property(
        fc.array(endpointArb, { maxLength: 6 }),
        fc.array(endpointArb, { maxLength: 6 }),
        (wantA, wantB) => {
          let zone: Endpoint[] = [];
          const step = (owner: string, desired: Endpoint[]): Changes => {
            const result = planChanges({
              desired,
              current: zone,
              ownerId: owner,
              policy: 'Sync',
              domains,
              cachesSynced: true,
              maxDeletePercent: 100,
            });
            zone = apply(zone, result.changes);
            return result.changes;
          };
          for (let i = 0; i < 2; i++) {
            step(OWNER, wantA);
            step('team-b', wantB);
          }
          // After two rounds each, neither owner has anything left to do: no ping-pong.
          expect(summary(step(OWNER, wantA))).toEqual({ create: [], update: [], delete: [] });
          expect(summary(step('team-b', wantB))).toEqual({ create: [], update: [], delete: [] });
        },
      ),
    );
  });
});

// ---- edges mutation testing found unguarded ----------------------------------------------------

describe('planChanges: what a user sees at the edges', () => {
  const nothing = { create: [], update: [], delete: [] };

  it.each<[string, Endpoint, Endpoint]>([
    [
      'targets the provider lists in another order',
      a('app.example.com', ['10.0.0.2', '10.0.0.1']),
      a('app.example.com', ['10.0.0.1', '10.0.0.2']),
    ],
    ['an alias', alias('lb-1.example.net'), alias('lb-1.example.net')],
  ])('is in sync with %s', (_name, before, after) => {
    const result = plan({ desired: [after], current: published(before) });
    expect(summary(result.changes)).toEqual(nothing);
    expect(result.inSync).toBe(1);
  });

  it('counts a record in sync under CreateOnly, and one whose ownership record alone changes', () => {
    const ep = a('app.example.com', ['10.0.0.1']);
    expect(plan({ policy: 'CreateOnly', desired: [ep], current: published(ep) }).inSync).toBe(1);
    const moved = plan({
      desired: [{ ...ep, source: 'Service/shop/app-v2' }],
      current: published(ep),
    });
    expect(moved.inSync).toBe(1);
    expect(moved.recordChanges).toBe(0);
  });

  it('says which object keeps a conflicted record and why', () => {
    const cnames = plan({
      desired: [
        cname('app.example.com', 'z.example.net', 'Service/shop/zeta'),
        cname('app.example.com', 'a.example.net', 'Service/shop/alpha'),
      ],
    });
    expect(cnames.diagnostics).toEqual([
      {
        object: 'Service/shop/zeta',
        reason: 'RecordConflict',
        message:
          'app.example.com CNAME: also wanted by Service/shop/alpha; keeping CNAME for Service/shop/alpha',
      },
    ]);
    const mixed = plan({
      desired: [
        cname('app.example.com', 'lb.example.net', 'Service/shop/lb'),
        a('app.example.com', ['10.0.0.1'], 'Service/shop/ip'),
      ],
    });
    expect(mixed.diagnostics).toEqual([
      {
        object: 'Service/shop/lb',
        reason: 'RecordConflict',
        message:
          'app.example.com CNAME: a name with a CNAME can hold no other record; keeping A for Service/shop/ip',
      },
    ]);
    const route = 'HTTPRoute/shop/checkout';
    const held = plan({
      current: published(a('checkout.example.com', ['203.0.113.10'], route)),
      held: [route],
      desired: [a('checkout.example.com', ['10.0.0.1'], 'Service/shop/other')],
    });
    expect(held.diagnostics).toEqual([
      {
        object: 'Service/shop/other',
        reason: 'RecordConflict',
        message: `checkout.example.com A: the record is held unchanged while ${route} waits for its Gateway status; keeping A for ${route}`,
      },
    ]);
  });

  it('two objects wanting different aliases at one key conflict; the same alias is shared', () => {
    const different = plan({
      desired: [
        alias('lb-1.example.net', undefined, 'Service/shop/a'),
        alias('lb-2.example.net', undefined, 'Service/shop/b'),
      ],
    });
    expect(different.diagnostics.map((d) => `${d.object} ${d.reason}`)).toEqual([
      'Service/shop/b RecordConflict',
    ]);
    const zones = plan({
      desired: [
        alias('lb-1.example.net', 'Z1', 'Service/shop/a'),
        alias('lb-1.example.net', 'Z2', 'Service/shop/b'),
      ],
    });
    expect(zones.diagnostics.map((d) => `${d.object} ${d.reason}`)).toEqual([
      'Service/shop/b RecordConflict',
    ]);
    const same = plan({
      desired: [
        alias('lb-1.example.net', undefined, 'Service/shop/a'),
        alias('lb-1.example.net', undefined, 'Service/shop/b'),
      ],
    });
    expect(same.diagnostics).toEqual([]);
  });

  it('merges targets sorted, whatever the objects they come from', () => {
    const result = plan({
      desired: [
        a('app.example.com', ['10.0.0.9'], 'Service/shop/a'),
        a('app.example.com', ['10.0.0.1'], 'Service/shop/b'),
      ],
    });
    expect(result.changes.create.find((e) => e.type === 'A')?.targets).toEqual([
      '10.0.0.1',
      '10.0.0.9',
    ]);
  });

  /** CNAMEs at app.example.com: [target host, Service name] each. */
  const cnames = (...wants: [string, string][]): Endpoint[] =>
    wants.map(([host, svc]) =>
      cname('app.example.com', `${host}.example.net`, `Service/shop/${svc}`),
    );

  it('keeps the published CNAME when another object joins it and a third sorts first', () => {
    const current = published(cname('app.example.com', 'lb1.example.net', 'Service/shop/b'));
    const result = plan({ current, desired: cnames(['lb1', 'b'], ['lb1', 'c'], ['lb2', 'a']) });
    expect(summary(result.changes).update).toEqual(['_dnsop-cname.app.example.com/TXT']);
    expect(result.diagnostics.map((d) => d.object)).toEqual(['Service/shop/a']);
  });

  it('with nothing published, the CNAME wanted by the object first by name wins', () => {
    const result = plan({ desired: cnames(['lb1', 'z'], ['lb2', 'm'], ['lb1', 'a']) });
    expect(result.changes.create.find((e) => e.type === 'CNAME')?.targets).toEqual([
      'lb1.example.net',
    ]);
  });

  it('keeps the published CNAME when two objects want an A there', () => {
    const current = published(cname('app.example.com', 'lb.example.net', 'Service/shop/lb'));
    const result = plan({
      current,
      desired: [
        cname('app.example.com', 'lb.example.net', 'Service/shop/lb'),
        a('app.example.com', ['10.0.0.1'], 'Service/shop/ip1'),
        a('app.example.com', ['10.0.0.2'], 'Service/shop/ip2'),
      ],
    });
    expect(summary(result.changes)).toEqual(nothing);
  });

  it.each<[string, Endpoint, Endpoint]>([
    [
      'a held A against a wanted CNAME',
      a('app.example.com', ['203.0.113.10'], 'HTTPRoute/shop/r'),
      cname('app.example.com', 'lb.example.net', 'Service/shop/lb'),
    ],
    [
      'a held CNAME against a wanted A',
      cname('app.example.com', 'lb.example.net', 'HTTPRoute/shop/r'),
      a('app.example.com', ['10.0.0.1'], 'Service/shop/ip'),
    ],
  ])('keeps %s', (_name, heldRecord, wanted) => {
    const result = plan({
      current: published(heldRecord),
      held: ['HTTPRoute/shop/r'],
      desired: [wanted],
    });
    expect(summary(result.changes)).toEqual(nothing);
    expect(result.diagnostics.map((d) => `${d.object} ${d.reason}`)).toEqual([
      `${wanted.source} RecordConflict`,
    ]);
  });

  it('a record shared by a held route and a Service: held, and no conflict for the Service', () => {
    const shared = {
      ...a('app.example.com', ['203.0.113.10']),
      source: 'HTTPRoute/shop/r,Service/shop/app',
    };
    const result = plan({
      current: published(shared),
      held: ['HTTPRoute/shop/r'],
      desired: [a('app.example.com', ['10.0.0.1'], 'Service/shop/app')],
    });
    expect(summary(result.changes)).toEqual(nothing);
    expect(result.diagnostics).toEqual([]);
  });

  it('does not hold records of another owner that name a held object', () => {
    const result = plan({
      current: published(a('app.example.com', ['203.0.113.10'], 'HTTPRoute/shop/r'), 'team-b'),
      held: ['HTTPRoute/shop/r'],
    });
    expect(result.diagnostics).toEqual([]);
    expect(summary(result.changes)).toEqual(nothing);
  });

  it('a CNAME of another owner at the name does not decide between our CNAME and A', () => {
    const current = published(
      cname('app.example.com', 'lb.example.net', 'Service/shop/other'),
      'team-b',
    );
    const result = plan({
      current,
      desired: [
        cname('app.example.com', 'lb.example.net', 'Service/shop/lb'),
        a('app.example.com', ['10.0.0.1'], 'Service/shop/ip'),
      ],
    });
    expect(result.diagnostics.map((d) => `${d.object} ${d.reason}`)).toEqual([
      'Service/shop/lb RecordConflict',
      'Service/shop/ip RecordConflict',
    ]);
  });

  it('replacing its own records of the other shape is not a deletion; an AAAA beside an A is', () => {
    const aToCname = plan({
      current: published(a('app.example.com', ['10.0.0.1'])),
      desired: [cname('app.example.com', 'lb.example.net')],
      maxDeletePercent: 0,
    });
    expect(aToCname.guard).toBeUndefined();
    expect(summary(aToCname.changes).delete).toEqual([
      '_dnsop-a.app.example.com/TXT',
      'app.example.com/A',
    ]);
    const aaaa: Endpoint = {
      name: 'app.example.com',
      type: 'AAAA',
      targets: ['2001:db8::1'],
      ttl: 300,
      source: 'Service/shop/app',
    };
    const aaaaToA = plan({
      current: published(aaaa),
      desired: [a('app.example.com', ['10.0.0.1'])],
      maxDeletePercent: 0,
    });
    expect(aaaaToA.guard?.reason).toBe('DeleteGuard');
    expect(aaaaToA.deletes).toBe(1);
  });

  it('never replaces its own CNAME under CreateOnly, and says so', () => {
    const result = plan({
      policy: 'CreateOnly',
      current: published(cname('app.example.com', 'lb.example.net')),
      desired: [a('app.example.com', ['10.0.0.1'])],
    });
    expect(summary(result.changes)).toEqual(nothing);
    expect(result.diagnostics).toEqual([
      {
        object: 'Service/shop/app',
        reason: 'RecordConflict',
        message:
          'app.example.com A cannot be created: a CNAME record with owner "shop/public" exists at that name',
      },
    ]);
  });

  it('names a CNAME nobody owns when it blocks an A', () => {
    const manual: Endpoint = {
      name: 'app.example.com',
      type: 'CNAME',
      targets: ['lb.example.net'],
      ttl: 300,
    };
    const result = plan({ current: [manual], desired: [a('app.example.com', ['10.0.0.1'])] });
    expect(result.diagnostics[0]?.message).toBe(
      'app.example.com A cannot be created: a CNAME record with no owner (no dnsop ownership record) exists at that name',
    );
  });

  it('re-creates a record deleted by hand whose ownership record is still there', () => {
    const [, ownTxt] = published(a('app.example.com', ['10.0.0.1']));
    const result = plan({ current: [ownTxt!], desired: [a('app.example.com', ['10.0.0.1'])] });
    expect(summary(result.changes)).toEqual({
      create: ['app.example.com/A'],
      update: [],
      delete: [],
    });
    expect(result.diagnostics).toEqual([]);
  });

  it('a record another owner publishes does not decide a conflict between our objects', () => {
    const theirs = published(
      cname('app.example.com', 'z.example.net', 'Service/shop/zeta'),
      'team-b',
    );
    const result = plan({
      current: theirs,
      desired: [
        cname('app.example.com', 'z.example.net', 'Service/shop/zeta'),
        cname('app.example.com', 'a.example.net', 'Service/shop/alpha'),
      ],
    });
    expect(result.diagnostics.map((d) => `${d.object} ${d.reason}`)).toEqual([
      'Service/shop/zeta RecordConflict',
      'Service/shop/alpha OwnedByAnotherOwner',
    ]);
  });

  it('does not create a record whose ownership record another owner holds', () => {
    const [, foreignTxt] = published(a('app.example.com', ['10.9.9.9']), 'team-b');
    const result = plan({ current: [foreignTxt!], desired: [a('app.example.com', ['10.0.0.1'])] });
    expect(summary(result.changes)).toEqual(nothing);
    expect(result.diagnostics).toEqual([
      {
        object: 'Service/shop/app',
        reason: 'OwnedByAnotherOwner',
        message: 'app.example.com A is claimed by owner "team-b"; not creating it',
      },
    ]);
  });

  it('says when a name is too long to hold an ownership record', () => {
    const long = `${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(50)}.example.com`;
    const result = plan({ desired: [a(long, ['10.0.0.1'], 'Service/shop/long')] });
    expect(summary(result.changes)).toEqual(nothing);
    expect(result.diagnostics).toEqual([
      {
        object: 'Service/shop/long',
        reason: 'InvalidHostname',
        message: `${long}: too long to hold an ownership record beside it`,
      },
    ]);
  });

  it('deletesWait does not count an orphaned ownership record as a record waiting', () => {
    const [, txt] = published(a('gone.example.com', ['10.0.0.1']));
    expect(plan({ current: [txt!], deletesWait: true }).deletesWaiting).toBe(0);
  });

  it('reports diagnostics in name order', () => {
    const current = [
      ...published(a('b.example.com', ['10.9.9.9']), 'team-b'),
      ...published(a('a.example.com', ['10.9.9.9']), 'team-b'),
    ];
    const result = plan({
      current,
      desired: [a('b.example.com', ['10.0.0.1']), a('a.example.com', ['10.0.0.1'])],
    });
    expect(result.diagnostics.map((d) => d.object)).toEqual(['Service/shop/a', 'Service/shop/b']);
  });

  it('one alias wanted by two objects that disagree on target health: the object first by name decides, in whatever order they come', () => {
    const lb = (source: string, evaluateTargetHealth: boolean): Endpoint => ({
      ...alias('lb-1.example.net', undefined, source),
      providerSpecific: { alias: true, aliasHostedZoneId: 'Z35SXDOTRQ7X7K', evaluateTargetHealth },
    });
    const wants = [lb('Service/shop/b', false), lb('Service/shop/a', true)];
    const created = (desired: Endpoint[]): Endpoint | undefined =>
      plan({ desired }).changes.create.find((e) => e.type === 'A');
    expect(created(wants)?.providerSpecific?.evaluateTargetHealth).toBe(true);
    expect(created([...wants].reverse())).toEqual(created(wants));
  });

  it('an object reference the ownership record cannot carry is left out of it, and the next sync changes nothing', () => {
    for (const source of ['Service/shop/bad name', 'Service/shop/app,Service/shop/bad"name']) {
      const desired = [a('app.example.com', ['10.0.0.1'], source)];
      const first = plan({ desired });
      const txt = first.changes.create.find((e) => e.type === 'TXT');
      expect(txt?.targets.join(' ')).not.toContain('bad');
      const second = plan({ desired, current: apply([], first.changes) });
      expect(summary(second.changes)).toEqual(nothing);
      expect(second.inSync).toBe(1);
    }
  });

  describe('guards, as a user reads them', () => {
    const four = ['a', 'b', 'c', 'd'].flatMap((n) =>
      published(a(`${n}.example.com`, ['10.0.0.1'])),
    );
    const foreign = [
      ...published(a('x.example.com', ['10.9.9.9']), 'team-b'),
      ...published(a('y.example.com', ['10.9.9.9']), 'team-b'),
    ];
    const [, orphan] = published(a('gone.example.com', ['10.0.0.1']));

    it('counts only its own records that exist, and says how many it would delete of them', () => {
      const result = plan({
        current: [...four, ...foreign, orphan!],
        desired: [a('a.example.com', ['10.0.0.1'])],
        maxDeletePercent: 50,
      });
      expect(result.ownedBefore).toBe(4);
      expect(result.guard).toEqual({
        reason: 'DeleteGuard',
        message:
          'refusing to delete 3 of 4 owned records within an hour: 75% > maxDeletePercent 50%; raise spec.maxDeletePercent if this is intended, or wait for earlier deletions to leave the one-hour window',
      });
    });

    it('never refuses a plan that deletes nothing, whatever the last hour deleted', () => {
      const result = plan({
        current: four,
        desired: [...['a', 'b', 'c', 'd', 'e'].map((n) => a(`${n}.example.com`, ['10.0.0.1']))],
        maxDeletePercent: 10,
        recentlyDeleted: 3,
      });
      expect(result.guard).toBeUndefined();
    });

    it('before the caches load: a plan with nothing to change is not refused; one with changes is, and says why', () => {
      expect(
        plan({
          current: four,
          desired: four
            .filter((e) => e.type === 'A')
            .map((e) => ({ ...e, source: `Service/shop/${e.name.split('.')[0]}` })),
          cachesSynced: false,
        }).guard,
      ).toBeUndefined();
      const result = plan({
        current: published(a('a.example.com', ['10.0.0.1'])),
        desired: [
          { ...a('a.example.com', ['10.0.0.2']), source: 'Service/shop/a-v2' },
          a('b.example.com', ['10.0.0.1']),
        ],
        cachesSynced: false,
      });
      expect(result.refused.create).toHaveLength(2);
      expect(result.refused.updateNew).toHaveLength(2);
      expect(result.guard).toEqual({
        reason: 'CachesNotSynced',
        message: 'waiting for the caches to load before changing any record',
      });
    });
  });
});
