import type { Endpoint } from '../endpoint';
import { DomainFilter, ZoneCache, type ZoneSource } from './zone-cache';

interface Rrset {
  readonly name: string;
  readonly ip: string;
}

const ZONE = { id: 'Z1', name: 'example.com' };
const rrset = (name: string, ip: string): Rrset => ({ name, ip });

/** A zone source whose listing answer the test sets, counting the conversions to Endpoints. */
function source(answer: { current: Rrset[] }): ZoneSource<typeof ZONE, Rrset> & {
  endpointOf: jest.Mock<Endpoint | undefined, [Rrset]>;
} {
  return {
    listZones: () => Promise.resolve([ZONE]),
    listRecordSets: () => Promise.resolve(answer.current),
    recordKey: (r) => `${r.name}/A`,
    endpointOf: jest.fn((r: Rrset) => ({ name: r.name, type: 'A', targets: [r.ip], ttl: 300 })),
  };
}

const cache = (
  src: ZoneSource<typeof ZONE, Rrset>,
  domain: string,
): ZoneCache<typeof ZONE, Rrset> =>
  new ZoneCache(src, { filter: new DomainFilter([domain], []), provider: 'route53' });

const names = (eps: readonly Endpoint[]): string[] =>
  eps.map((e) => `${e.name} ${e.targets.join()}`);

describe('ZoneCache: record sets as Endpoints', () => {
  it('fifty policies refreshing from one shared answer convert each record set once', async () => {
    const answer = {
      current: Array.from({ length: 50 }, (_, i) => rrset(`www.t${i}.example.com`, `192.0.2.${i}`)),
    };
    const src = source(answer);
    const policies = Array.from({ length: 50 }, (_, i) => cache(src, `t${i}.example.com`));
    const seen = await Promise.all(policies.map((p) => p.records({ refresh: true })));
    expect(seen.map(names)).toEqual(policies.map((_, i) => [`www.t${i}.example.com 192.0.2.${i}`]));
    expect(src.endpointOf).toHaveBeenCalledTimes(50);
  });

  it('an event-driven sync converts nothing again; a commit, a stale zone and a new answer are seen', async () => {
    const answer = {
      current: [rrset('a.example.com', '192.0.2.1'), rrset('b.example.com', '192.0.2.2')],
    };
    const src = source(answer);
    const zone = cache(src, 'example.com');
    await zone.records();
    await zone.records();
    expect(src.endpointOf).toHaveBeenCalledTimes(2);

    zone.commit(ZONE.id, [answer.current[0]!], [rrset('c.example.com', '192.0.2.3')]);
    expect(names(await zone.records())).toEqual([
      'b.example.com 192.0.2.2',
      'c.example.com 192.0.2.3',
    ]);
    expect(src.endpointOf).toHaveBeenCalledTimes(3); // only the written record set is new

    answer.current = [rrset('d.example.com', '192.0.2.4')];
    zone.markStale(ZONE.id);
    expect(names(await zone.records())).toEqual(['d.example.com 192.0.2.4']);

    answer.current = [rrset('e.example.com', '192.0.2.5')];
    expect(names(await zone.records())).toEqual(['d.example.com 192.0.2.4']); // cached view
    expect(names(await zone.records({ refresh: true }))).toEqual(['e.example.com 192.0.2.5']);
  });

  it('a refresh that lists what the view holds changes nothing: the same answer, nothing converted', async () => {
    const answer = {
      current: [rrset('a.example.com', '192.0.2.1'), rrset('b.example.com', '192.0.2.2')],
    };
    const src = source(answer);
    const zone = cache(src, 'example.com');
    const first = await zone.records({ refresh: true });
    // A new listing: new objects with the same content (what a cloud API answers each minute).
    answer.current = answer.current.map((r) => ({ ...r }));
    expect(await zone.records({ refresh: true })).toBe(first);
    expect(await zone.records()).toBe(first);
    expect(src.endpointOf).toHaveBeenCalledTimes(2);

    // Drift: one record set changed outside dnsop is a new answer with the change.
    answer.current = [rrset('a.example.com', '192.0.2.9'), { ...answer.current[1]! }];
    const drifted = await zone.records({ refresh: true });
    expect(drifted).not.toBe(first);
    expect(names(drifted)).toEqual(['a.example.com 192.0.2.9', 'b.example.com 192.0.2.2']);
    // One more, one fewer: each is a new answer too.
    answer.current = [...answer.current, rrset('c.example.com', '192.0.2.3')];
    const grown = await zone.records({ refresh: true });
    expect(names(grown)).toHaveLength(3);
    answer.current = answer.current.slice(1);
    expect(names(await zone.records({ refresh: true }))).toEqual([
      'b.example.com 192.0.2.2',
      'c.example.com 192.0.2.3',
    ]);
  });

  it('a commit or a stale zone is a new answer even when the listing reads as before', async () => {
    const answer = { current: [rrset('a.example.com', '192.0.2.1')] };
    const src = source(answer);
    const zone = cache(src, 'example.com');
    const first = await zone.records();
    zone.commit(ZONE.id, [], [rrset('b.example.com', '192.0.2.2')]);
    const committed = await zone.records();
    expect(committed).not.toBe(first);
    expect(names(committed)).toHaveLength(2);
    // The change never reached the zone after all: the stale view is listed and replaced.
    zone.markStale(ZONE.id);
    const relisted = await zone.records();
    expect(relisted).not.toBe(committed);
    expect(names(relisted)).toEqual(['a.example.com 192.0.2.1']);
  });

  it('the very listing its view was read from (a shared answer that read the same) is not walked again', async () => {
    const answer = { current: [rrset('a.example.com', '192.0.2.1')] };
    const src = source(answer);
    const keys = jest.fn(src.recordKey);
    const zone = cache({ ...src, recordKey: keys }, 'example.com');
    const first = await zone.records({ refresh: true });
    expect(keys).toHaveBeenCalledTimes(1);
    expect(await zone.records({ refresh: true })).toBe(first);
    expect(keys).toHaveBeenCalledTimes(1);
    // After a commit the same listing is read again (the view no longer is what it said).
    zone.commit(ZONE.id, [], [rrset('b.example.com', '192.0.2.2')]);
    expect(names(await zone.records({ refresh: true }))).toEqual(['a.example.com 192.0.2.1']);
  });
});
