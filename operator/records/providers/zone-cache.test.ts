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
});
