import type { Changes, Endpoint } from '../endpoint';
import { NO_CHANGES } from '../endpoint';
import type { CloudDnsRrset } from './clouddns-api';
import {
  cloudDnsChange,
  cloudDnsCost,
  endpointFromRrset,
  rrsetFromEndpoint,
  rrsetKey,
} from './clouddns-records';
import { groupIntents, resolveIntent } from './zone-changes';

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

describe('Cloud DNS changes from resolved groups', () => {
  const zoneFor = (): string[] => ['zone'];
  const resolved = (changes: Changes, held?: CloudDnsRrset) =>
    groupIntents(changes, zoneFor).intents.map((intent) =>
      resolveIntent(intent, (key) => (held && rrsetKey(held) === key ? held : undefined)),
    );

  it('deletes with the rrset the zone holds, not the planner view', () => {
    const held: CloudDnsRrset = {
      name: 'app.example.com.',
      type: 'A',
      ttl: 30,
      rrdatas: ['192.0.2.1'],
    };
    const [group] = resolved({ ...NO_CHANGES, delete: [a('app.example.com', '192.0.2.1')] }, held);
    expect(cloudDnsChange(group!)).toEqual({ additions: [], deletions: [held] });
  });

  it('turns an update into the deletion of what the zone holds and the addition of the new set', () => {
    const held: CloudDnsRrset = {
      name: 'app.example.com.',
      type: 'A',
      ttl: 30,
      rrdatas: ['192.0.2.1'],
    };
    const next = a('app.example.com', '192.0.2.9');
    const [group] = resolved(
      { ...NO_CHANGES, updateOld: [a('app.example.com', '192.0.2.1')], updateNew: [next] },
      held,
    );
    expect(cloudDnsChange(group!)).toEqual({
      additions: [rrsetFromEndpoint(next)],
      deletions: [held],
    });
  });

  it('costs additions, deletions and rrdata bytes', () => {
    const ep = a('app.example.com', '192.0.2.1');
    const [group] = resolved({ ...NO_CHANGES, create: [ep, txtFor(ep)] });
    expect(cloudDnsCost(group!)).toEqual([2, 0, '192.0.2.1'.length + '"heritage=dnsop"'.length]);
  });
});
