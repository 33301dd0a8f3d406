import type { Endpoint } from '../endpoint';
import { NO_CHANGES } from '../endpoint';
import type { CloudDnsRrset } from './clouddns-api';
import {
  concretise,
  endpointFromRrset,
  groupIntents,
  packChanges,
  rrsetFromEndpoint,
} from './clouddns-records';

const a = (name: string, ip: string): Endpoint => ({ name, type: 'A', targets: [ip], ttl: 300 });
const txtFor = (ep: Endpoint): Endpoint => ({
  name: `a-${ep.name}`,
  type: 'TXT',
  targets: ['"heritage=dnsop"'],
  ttl: 300,
  ownerOf: `${ep.name}/${ep.type}`,
});

describe('Cloud DNS record conversion', () => {
  it('writes CNAME targets as absolute names and reads them back unchanged', () => {
    const ep: Endpoint = {
      name: 'www.example.com',
      type: 'CNAME',
      targets: ['app.example.net'],
      ttl: 60,
    };
    const rrset = rrsetFromEndpoint(ep);
    expect(rrset).toEqual({
      name: 'www.example.com.',
      type: 'CNAME',
      ttl: 60,
      rrdatas: ['app.example.net.'],
    });
    expect(endpointFromRrset(rrset)).toEqual(ep);
  });

  it('ignores record types dnsop does not manage', () => {
    expect(
      endpointFromRrset({ name: 'example.com.', type: 'SOA', ttl: 1, rrdatas: ['x'] }),
    ).toBeUndefined();
  });
});

describe('Cloud DNS change planning', () => {
  const zoneFor = (): string => 'zone';

  it('keeps a record and its ownership TXT in one group', () => {
    const ep = a('app.example.com', '192.0.2.1');
    const { groups } = groupIntents(
      { ...NO_CHANGES, create: [ep, txtFor(ep), a('b.example.com', '192.0.2.2')] },
      zoneFor,
    );
    expect(groups.map((g) => g.groupKeys)).toEqual([['app.example.com/A'], ['b.example.com/A']]);
    expect(groups[0]!.creates).toHaveLength(2);
  });

  it('deletes with the rrset the zone holds, not the planner view', () => {
    const held: CloudDnsRrset = {
      name: 'app.example.com.',
      type: 'A',
      ttl: 30,
      rrdatas: ['192.0.2.1'],
    };
    const { groups } = groupIntents(
      { ...NO_CHANGES, delete: [a('app.example.com', '192.0.2.1')] },
      zoneFor,
    );
    const group = concretise(groups[0]!, () => held);
    expect(group.deletions).toEqual([held]);
  });

  it('refuses to create over an existing rrset instead of overwriting it', () => {
    const held: CloudDnsRrset = {
      name: 'app.example.com.',
      type: 'A',
      ttl: 60,
      rrdatas: ['198.51.100.1'],
    };
    const { groups } = groupIntents(
      { ...NO_CHANGES, create: [a('app.example.com', '192.0.2.1')] },
      zoneFor,
    );
    expect(
      concretise(groups[0]!, (_z, key) => (key === 'app.example.com/A' ? held : undefined))
        .conflict,
    ).toMatch(/already exists/);
  });

  it('splits at the additions limit without separating a record from its TXT', () => {
    const eps = Array.from({ length: 7 }, (_, i) => a(`h${i}.example.com`, '192.0.2.1'));
    const { groups } = groupIntents(
      { ...NO_CHANGES, create: eps.flatMap((ep) => [ep, txtFor(ep)]) },
      zoneFor,
    );
    const packed = packChanges(
      groups.map((g) => concretise(g, () => undefined)),
      { additions: 5, deletions: 5, rrdataBytes: 100_000 },
    );
    expect(packed.map((change) => change.reduce((n, g) => n + g.additions.length, 0))).toEqual([
      4, 4, 4, 2,
    ]);
  });
});
