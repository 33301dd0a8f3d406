/**
 * Adoption through the planner: records external-dns's registry gives to the adopted owner are
 * taken over in place, everything else stays external-dns's.
 */
import type { Changes, Endpoint } from './endpoint';
import { batchGroupKey, endpointKey } from './endpoint';
import type { ExternalDnsRegistry } from './external-dns-registry';
import { DomainFilter } from './hostname';
import { planChanges, type PlanInput } from './plan';
import { ownershipRecord } from './registry';

const OWNER = 'shop/public';
const EXT: ExternalDnsRegistry = { ownerId: 'default' };

const a = (name: string, ip: string, source = `Service/shop/${name.split('.')[0]}`): Endpoint => ({
  name,
  type: 'A',
  targets: [ip],
  ttl: 300,
  source,
});
const txt = (name: string, ...targets: string[]): Endpoint => ({
  name,
  type: 'TXT',
  targets,
  ttl: 300,
});
const extValue = (owner = 'default', resource = 'service/shop/app'): string =>
  `"heritage=external-dns,external-dns/owner=${owner},external-dns/resource=${resource}"`;
const stored = ({ source: _s, ...record }: Endpoint): Endpoint => record;

/** A record as external-dns v0.12–v0.17 leaves it: the record, a new-format and a legacy TXT. */
function byExternalDns(record: Endpoint, owner = 'default', prefix = ''): Endpoint[] {
  const [first, ...rest] = record.name.split('.');
  const domain = rest.join('.');
  const out = [
    stored(record),
    txt(`${prefix}${record.type.toLowerCase()}-${first}.${domain}`, extValue(owner)),
  ];
  if (record.type !== 'AAAA') out.push(txt(`${prefix}${first}.${domain}`, extValue(owner)));
  return out;
}

function plan(overrides: Partial<PlanInput>): ReturnType<typeof planChanges> {
  return planChanges({
    desired: [],
    current: [],
    ownerId: OWNER,
    policy: 'Sync',
    domains: new DomainFilter(['example.com']),
    cachesSynced: true,
    maxDeletePercent: 50,
    adopt: EXT,
    ...overrides,
  });
}

const keys = (list: readonly Endpoint[]): string[] => list.map(endpointKey);
const summary = (c: Changes): Record<string, string[]> => ({
  create: keys(c.create),
  update: keys(c.updateNew),
  delete: keys(c.delete),
});

/** Every key a change set deletes or creates outright (an UPSERT is neither). */
const replaced = (c: Changes): string[] => [...keys(c.create), ...keys(c.delete)];

describe('adoption of external-dns records', () => {
  it('takes a wanted record over in place: dnsop TXT in, both external-dns TXTs out, one batch', () => {
    const app = a('app.example.com', '192.0.2.10');
    const result = plan({ desired: [app], current: byExternalDns(app) });
    expect(summary(result.changes)).toEqual({
      create: ['_dnsop-a.app.example.com/TXT'],
      update: [],
      delete: ['a-app.example.com/TXT', 'app.example.com/TXT'],
    });
    expect(replaced(result.changes)).not.toContain('app.example.com/A');
    const groups = new Set([...result.changes.create, ...result.changes.delete].map(batchGroupKey));
    expect([...groups]).toEqual(['app.example.com/A']);
    expect(result.adopted.map((x) => [endpointKey(x.record), x.from])).toEqual([
      ['app.example.com/A', 'external-dns owner default'],
    ]);
    expect(result.diagnostics).toEqual([]);
    expect(result.inSync).toBe(1);
  });

  it('a new value goes in the same batch as an in-place update, never a delete and create', () => {
    const app = a('app.example.com', '192.0.2.10');
    const result = plan({
      desired: [a('app.example.com', '192.0.2.99')],
      current: byExternalDns(app),
    });
    expect(summary(result.changes).update).toEqual(['app.example.com/A']);
    expect(replaced(result.changes)).not.toContain('app.example.com/A');
    expect(result.changes.updateNew[0]?.targets).toEqual(['192.0.2.99']);
    expect(
      new Set(
        [...result.changes.create, ...result.changes.updateNew, ...result.changes.delete].map(
          batchGroupKey,
        ),
      ),
    ).toEqual(new Set(['app.example.com/A']));
  });

  it('under CreateOnly takes a record over without changing its value', () => {
    const app = a('app.example.com', '192.0.2.10');
    const result = plan({
      policy: 'CreateOnly',
      desired: [a('app.example.com', '192.0.2.99')],
      current: byExternalDns(app),
    });
    expect(summary(result.changes)).toEqual({
      create: ['_dnsop-a.app.example.com/TXT'],
      update: [],
      delete: ['a-app.example.com/TXT', 'app.example.com/TXT'],
    });
  });

  it('lists the records it adopts in name order', () => {
    const app = a('app.example.com', '192.0.2.10');
    const api = a('api.example.com', '192.0.2.11');
    const result = plan({
      desired: [app, api],
      current: [...byExternalDns(app), ...byExternalDns(api)],
    });
    expect(result.adopted.map((x) => endpointKey(x.record))).toEqual([
      'api.example.com/A',
      'app.example.com/A',
    ]);
  });

  it('leaves every record the policy does not want to external-dns, TXT records included', () => {
    const app = a('app.example.com', '192.0.2.10');
    const other = a('other.example.com', '192.0.2.11');
    const current = [...byExternalDns(app), ...byExternalDns(other)];
    const result = plan({ desired: [app], current });
    const touched = [
      ...keys(result.changes.create),
      ...keys(result.changes.updateNew),
      ...keys(result.changes.delete),
    ];
    expect(touched.filter((k) => k.includes('other'))).toEqual([]);
    expect(result.adopted).toHaveLength(1);
  });

  it.each<[string, Partial<ExternalDnsRegistry>, string[]]>([
    [
      'a plain prefix',
      { txtPrefix: 'extdns-' },
      ['extdns-a-app.example.com', 'extdns-app.example.com'],
    ],
    ['a templated prefix', { txtPrefix: '%{record_type}.' }, ['a.app.example.com']],
    ['a suffix', { txtSuffix: '-owner' }, ['a-app-owner.example.com', 'app-owner.example.com']],
  ])('reads the TXT names external-dns wrote with %s', (_what, affix, txtNames) => {
    const app = a('app.example.com', '192.0.2.10');
    const current = [stored(app), ...txtNames.map((n) => txt(n, extValue()))];
    const result = plan({ desired: [app], current, adopt: { ...EXT, ...affix } });
    expect(keys(result.changes.delete).sort()).toEqual(txtNames.map((n) => `${n}/TXT`).sort());
    expect(result.adopted).toHaveLength(1);
  });

  it('adopts a wildcard through its replaced TXT name', () => {
    const wild = a('*.example.com', '192.0.2.20', 'Service/shop/wild');
    const current = [stored(wild), txt('a-wildcard.example.com', extValue())];
    const result = plan({
      desired: [wild],
      current,
      adopt: { ...EXT, txtWildcardReplacement: 'wildcard' },
    });
    expect(summary(result.changes)).toEqual({
      create: ['_dnsop-a-wildcard.example.com/TXT'],
      update: [],
      delete: ['a-wildcard.example.com/TXT'],
    });
  });

  it('at the apex keeps the other strings of the shared TXT record set (SPF)', () => {
    const apex = a('example.com', '192.0.2.30', 'Service/shop/apex');
    const current = [stored(apex), txt('example.com', '"v=spf1 -all"', extValue())];
    const result = plan({ desired: [apex], current });
    expect(summary(result.changes)).toEqual({
      create: ['_dnsop-a.example.com/TXT'],
      update: ['example.com/TXT'],
      delete: [],
    });
    expect(result.changes.updateNew[0]?.targets).toEqual(['"v=spf1 -all"']);
    expect(result.changes.updateNew[0]?.ownerOf).toBe('example.com/A');
  });

  it('adopts a Route 53 alias claimed by its pre-#2903 "cname-" TXT', () => {
    const alias: Endpoint = {
      name: 'lb.example.com',
      type: 'A',
      targets: ['my-lb.us-east-1.elb.amazonaws.com'],
      ttl: 300,
      source: 'Service/shop/lb',
      providerSpecific: { alias: true, aliasHostedZoneId: 'Z35SXDOTRQ7X7K' },
    };
    const current = [
      stored(alias),
      txt('cname-lb.example.com', extValue()),
      txt('lb.example.com', extValue()),
    ];
    const result = plan({ desired: [alias], current });
    expect(keys(result.changes.delete)).toEqual(['cname-lb.example.com/TXT', 'lb.example.com/TXT']);
    expect(result.adopted).toHaveLength(1);
  });

  it('another external-dns owner keeps its record: a diagnostic says whose it is', () => {
    const app = a('app.example.com', '192.0.2.10');
    const result = plan({ desired: [app], current: byExternalDns(app, 'cluster-b') });
    expect(summary(result.changes)).toEqual({ create: [], update: [], delete: [] });
    expect(result.diagnostics).toEqual([
      expect.objectContaining({
        reason: 'OwnedByAnotherOwner',
        message: expect.stringContaining('external-dns owner "cluster-b"'),
      }),
    ]);
  });

  it('without spec.adopt nothing is adopted, and the diagnostic says how to', () => {
    const app = a('app.example.com', '192.0.2.10');
    const { adopt: _none, ...input } = {
      desired: [app],
      current: byExternalDns(app),
      ownerId: OWNER,
      policy: 'Sync' as const,
      domains: new DomainFilter(['example.com']),
      cachesSynced: true,
      maxDeletePercent: 50,
      adopt: undefined,
    };
    const result = planChanges(input);
    expect(summary(result.changes)).toEqual({ create: [], update: [], delete: [] });
    expect(result.diagnostics[0]?.message).toContain('set spec.adopt.externalDNS');
  });

  it('never adopts before the caches are synced', () => {
    const app = a('app.example.com', '192.0.2.10');
    const result = plan({ desired: [app], current: byExternalDns(app), cachesSynced: false });
    expect(result.guard?.reason).toBe('CachesNotSynced');
    expect(result.adopted).toEqual([]);
    expect(summary(result.refused).delete).toHaveLength(2);
  });

  it('a CNAME where the policy wants an alias A is not replaced: a diagnostic says how to adopt it', () => {
    const cname: Endpoint = {
      name: 'lb.example.com',
      type: 'CNAME',
      targets: ['lb.example.net'],
      ttl: 300,
    };
    const want: Endpoint = {
      name: 'lb.example.com',
      type: 'A',
      targets: ['192.0.2.40'],
      ttl: 300,
      source: 'Service/shop/lb',
    };
    const result = plan({
      desired: [want],
      current: [cname, txt('cname-lb.example.com', extValue())],
    });
    expect(summary(result.changes)).toEqual({ create: [], update: [], delete: [] });
    expect(result.diagnostics[0]).toMatchObject({ reason: 'RecordConflict' });
    expect(result.diagnostics[0]?.message).toContain('adoption never replaces a record');
  });

  it('waits while a legacy TXT still gives another record at the name to external-dns', () => {
    const app = a('app.example.com', '192.0.2.10');
    const srv: Endpoint = {
      name: 'app.example.com',
      type: 'SRV',
      targets: ['0 0 80 app.example.com'],
      ttl: 300,
    };
    const current = [stored(app), srv, txt('app.example.com', extValue())];
    const blocked = plan({ desired: [app], current });
    expect(summary(blocked.changes)).toEqual({ create: [], update: [], delete: [] });
    expect(blocked.diagnostics[0]).toMatchObject({ reason: 'AdoptionBlocked' });
    // Wanting both releases the legacy TXT: both adopted, the TXT removed once.
    const both = plan({ desired: [app, { ...srv, source: 'Service/shop/app' }], current });
    expect(both.adopted).toHaveLength(2);
    expect(keys(both.changes.delete)).toEqual(['app.example.com/TXT']);
  });

  it('an orphaned external-dns TXT of the adopted owner goes with the record dnsop creates', () => {
    const app = a('app.example.com', '192.0.2.10');
    const result = plan({ desired: [app], current: [txt('a-app.example.com', extValue())] });
    expect(summary(result.changes)).toEqual({
      create: ['_dnsop-a.app.example.com/TXT', 'app.example.com/A'],
      update: [],
      delete: ['a-app.example.com/TXT'],
    });
    expect(result.changes.delete[0]?.ownerOf).toBe('app.example.com/A');
  });

  it('refuses to create a record another external-dns owner still claims', () => {
    const app = a('app.example.com', '192.0.2.10');
    const result = plan({
      desired: [app],
      current: [txt('a-app.example.com', extValue('cluster-b'))],
    });
    expect(summary(result.changes)).toEqual({ create: [], update: [], delete: [] });
    expect(result.diagnostics[0]).toMatchObject({ reason: 'OwnedByAnotherOwner' });
  });

  it('is done once: the next plan against the adopted zone is empty', () => {
    const app = a('app.example.com', '192.0.2.10');
    const first = plan({ desired: [app], current: byExternalDns(app) });
    const after = [stored(app), ownershipRecord(app, OWNER)];
    expect(first.changes.create).toEqual([ownershipRecord(app, OWNER)]);
    const second = plan({ desired: [app], current: after });
    expect(summary(second.changes)).toEqual({ create: [], update: [], delete: [] });
    expect(second.adopted).toEqual([]);
  });

  it('an adoption is never counted by the delete guard', () => {
    const records = ['a', 'b', 'c', 'd'].map((n) =>
      a(`${n}.example.com`, '192.0.2.1', `Service/shop/${n}`),
    );
    const result = plan({
      desired: records,
      current: records.flatMap((r) => byExternalDns(r)),
      maxDeletePercent: 0,
    });
    expect(result.guard).toBeUndefined();
    expect(result.adopted).toHaveLength(4);
  });
});
