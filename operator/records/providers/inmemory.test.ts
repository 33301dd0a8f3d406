import type { Endpoint } from '../endpoint';
import { NO_CHANGES } from '../endpoint';
import { ownershipRecord } from '../registry';
import { InMemoryDnsStore, InMemoryProvider } from './inmemory';
import { CloudAccounts, createProvider, providerKind, shapeEndpointsFor } from './index';

const a = (name: string, ip: string): Endpoint => ({
  name,
  type: 'A',
  targets: [ip],
  ttl: 300,
  source: 'Service/shop/app',
});

describe('InMemoryProvider', () => {
  it('policies naming the same zone share records; other zones are separate', async () => {
    const store = new InMemoryDnsStore();
    const one = new InMemoryProvider({ store, zone: 'shared', domains: ['example.com'] });
    const two = new InMemoryProvider({ store, zone: 'shared', domains: ['example.com'] });
    const other = new InMemoryProvider({ store, zone: 'other', domains: ['example.com'] });
    const ep = a('app.example.com', '10.0.0.1');
    await one.applyChanges({ ...NO_CHANGES, create: [ep, ownershipRecord(ep, 'o')] });
    expect((await two.records()).map((r) => r.name)).toEqual([
      '_dnsop-a.app.example.com',
      'app.example.com',
    ]);
    expect(await other.records()).toEqual([]);
  });

  it('lists only records under its domains, ownership TXT by the name it describes', async () => {
    const store = new InMemoryDnsStore();
    const ep = a('app.example.net', '10.0.0.1');
    store.put('', ep);
    store.put('', ownershipRecord(ep, 'o'));
    store.put('', a('app.example.com', '10.0.0.2'));
    const provider = new InMemoryProvider({ store, zone: '', domains: ['example.com'] });
    expect((await provider.records()).map((r) => r.name)).toEqual(['app.example.com']);
  });

  it('rejects a batch atomically and applies the others', async () => {
    const store = new InMemoryDnsStore();
    store.put('', {
      name: 'taken.example.com',
      type: 'CNAME',
      targets: ['x.example.net'],
      ttl: 300,
    });
    const provider = new InMemoryProvider({ store, zone: '', domains: ['example.com'] });
    const ok = a('ok.example.com', '10.0.0.1');
    const bad = a('taken.example.com', '10.0.0.2');
    const result = await provider.applyChanges({
      ...NO_CHANGES,
      create: [ok, ownershipRecord(ok, 'o'), bad, ownershipRecord(bad, 'o')],
    });
    expect(result.applied).toBe(2);
    expect(result.failed).toEqual([
      { group: 'taken.example.com/A', message: expect.stringContaining('CNAME') },
    ]);
    expect(store.records().map((r) => r.name)).toEqual([
      '_dnsop-a.ok.example.com',
      'ok.example.com',
      'taken.example.com',
    ]);
  });

  it('replaces a CNAME by an A in one apply (deletes first) and notifies listeners', async () => {
    const store = new InMemoryDnsStore();
    const old: Endpoint = {
      name: 'app.example.com',
      type: 'CNAME',
      targets: ['lb.example.net'],
      ttl: 300,
    };
    store.put('', old);
    const seen: number[] = [];
    store.onChange((c) => seen.push(c.changes.create.length + c.changes.delete.length));
    const provider = new InMemoryProvider({ store, zone: '', domains: ['example.com'] });
    const result = await provider.applyChanges({
      ...NO_CHANGES,
      create: [a('app.example.com', '10.0.0.1')],
      delete: [old],
    });
    expect(result.failed).toEqual([]);
    expect(store.records().map((r) => r.type)).toEqual(['A']);
    expect(seen).toEqual([2]);
  });
});

describe('provider factory', () => {
  it('names the provider kind and rejects specs with none or several', () => {
    expect(providerKind({ inMemory: {} })).toBe('inMemory');
    expect(() => providerKind({})).toThrow(/exactly one/);
    expect(() => providerKind({ inMemory: {}, cloudDNS: { project: 'p' } })).toThrow(/exactly one/);
  });

  it('creates an in-memory provider on the injected store', async () => {
    const store = new InMemoryDnsStore();
    const provider = await createProvider(
      { inMemory: { zone: 'z' } },
      {
        namespace: 'shop',
        trusted: false,
        readSecret: () => Promise.resolve(undefined),
        domains: ['example.com'],
        inMemoryStore: store,
        accounts: new CloudAccounts(),
      },
    );
    expect(provider.kind).toBe('inMemory');
  });

  it('shapes Route 53 endpoints offline: a load balancer hostname becomes an alias, an IP never does', () => {
    const shape = shapeEndpointsFor({
      route53: { region: 'us-east-1', zoneType: 'any', aliasMode: 'Auto' },
    });
    const { endpoints } = shape([
      {
        name: 'lb.example.com',
        type: 'CNAME',
        targets: ['my-lb-123.us-east-1.elb.amazonaws.com'],
        ttl: 300,
      },
      { name: 'ip.example.com', type: 'A', targets: ['203.0.113.7'], ttl: 300 },
    ]);
    expect(endpoints.map((e) => [e.name, e.type, e.providerSpecific?.alias ?? false])).toEqual([
      ['lb.example.com', 'A', true],
      ['lb.example.com', 'AAAA', true],
      ['ip.example.com', 'A', false],
    ]);
  });
});
