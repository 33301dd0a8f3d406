/**
 * The Cloud DNS provider through the real `@google-cloud/dns` client against the loopback fake of
 * the Cloud DNS REST API (test/fakes/clouddns-server.ts). Auth is an access-token-only client.
 */
import { OAuth2Client } from 'google-auth-library';
import type { Changes, Endpoint } from '../../operator/records/endpoint';
import { NO_CHANGES } from '../../operator/records/endpoint';
import type { CloudDnsProviderOptions } from '../../operator/records/providers/clouddns';
import { CloudDnsProvider } from '../../operator/records/providers/clouddns';
import { cloudDnsApiFromClient } from '../../operator/records/providers/clouddns-api';
import { describeError, PermanentError, TransientError } from '../../operator/runtime/errors';
import { FakeCloudDns } from '../fakes/clouddns-server';

jest.setTimeout(60_000);

let fake: FakeCloudDns;

beforeAll(async () => {
  fake = await FakeCloudDns.start({ token: 'fake-access-token', project: 'dnsop-test' });
});
afterAll(async () => {
  await fake?.stop();
});
beforeEach(() => {
  fake.reset();
  fake.addZone('example-zone', 'example.com');
});

function tokenClient(token: string): OAuth2Client {
  const client = new OAuth2Client();
  client.setCredentials({ access_token: token, expiry_date: Date.now() + 3_600_000 });
  return client;
}

function newProvider(
  token = fake.token,
  managedZones?: string[],
  options: Partial<CloudDnsProviderOptions> = {},
): CloudDnsProvider {
  return new CloudDnsProvider({
    api: cloudDnsApiFromClient({
      project: 'dnsop-test',
      endpoint: fake.endpoint,
      authClient: tokenClient(token),
    }),
    spec: managedZones ? { managedZones } : {},
    domains: ['example.com'],
    retry: { maxAttempts: 6, baseMs: 5, maxMs: 50 },
    pollIntervalMs: 5,
    ...options,
  });
}

const owner = (ep: Endpoint): Endpoint => ({
  name: `a-${ep.name}`,
  type: 'TXT',
  targets: ['"heritage=dnsop,dnsop/owner=shop/public"'],
  ttl: ep.ttl,
  ownerOf: `${ep.name}/${ep.type}`,
});

const svc = (name: string, targets: string[], type: Endpoint['type'] = 'A'): Endpoint => ({
  name,
  type,
  targets,
  ttl: 300,
  source: 'Service/shop/app',
});

async function sync(provider: CloudDnsProvider, desired: Endpoint[]): Promise<void> {
  const shaped = provider.adjustEndpoints(desired).endpoints;
  const changes: Changes = { ...NO_CHANGES, create: shaped.flatMap((ep) => [ep, owner(ep)]) };
  expect(await provider.applyChanges(changes)).toMatchObject({ failed: [] });
}

const rrset = (name: string, type: string) =>
  fake.rrsets('example-zone').find((r) => r.name === `${name}.` && r.type === type);

describe('Cloud DNS provider against the fake API', () => {
  it('publishes a LoadBalancer IP as an A record and hostnames as CNAMEs', async () => {
    const provider = newProvider();
    await sync(provider, [
      { ...svc('ip.example.com', ['34.120.10.1']), providerSpecific: { alias: true } },
      svc('elb.example.com', ['my-lb-1.us-east-1.elb.amazonaws.com'], 'CNAME'),
      svc('other.example.com', ['lb.example.net'], 'CNAME'),
    ]);
    expect(rrset('ip.example.com', 'A')).toMatchObject({ ttl: 300, rrdatas: ['34.120.10.1'] });
    expect(rrset('elb.example.com', 'CNAME')?.rrdatas).toEqual([
      'my-lb-1.us-east-1.elb.amazonaws.com.',
    ]);
    expect(rrset('other.example.com', 'CNAME')?.rrdatas).toEqual(['lb.example.net.']);
    // One sync, one atomic change for the zone.
    expect(fake.acceptedChanges('example-zone')).toHaveLength(1);
  });

  it('reads back what it wrote exactly, so a second sync has nothing to do', async () => {
    const provider = newProvider();
    const desired = [
      svc('app.example.com', ['192.0.2.1', '192.0.2.2']),
      svc('www.example.com', ['app.example.com'], 'CNAME'),
    ];
    await provider.applyChanges({ ...NO_CHANGES, create: desired });
    const listed = await newProvider().records({ refresh: true });
    expect(listed).toEqual(desired.map(({ source: _s, ...ep }) => ep));
  });

  it('syncs 2,500 records with ownership records in changes within the API limits, pairs together', async () => {
    const provider = newProvider();
    const desired = Array.from({ length: 2500 }, (_, i) =>
      svc(`svc-${i}.example.com`, [`10.2.${i >> 8}.${i & 255}`]),
    );
    await sync(provider, desired);
    const changes = fake.acceptedChanges('example-zone');
    expect(changes.length).toBe(5);
    for (const change of changes) {
      expect(change.additions.length).toBeLessThanOrEqual(1000);
      const names = new Set(change.additions.map((r) => r.name));
      for (const name of names)
        if (name.startsWith('a-')) expect(names.has(name.slice(2))).toBe(true);
    }
    expect(fake.rrsets('example-zone').filter((r) => r.type === 'A')).toHaveLength(2500);
    expect(fake.rrsets('example-zone').filter((r) => r.type === 'TXT')).toHaveLength(2500);
  });

  it('lists rrsets across pages', async () => {
    for (let i = 0; i < 25; i++)
      fake.put('example-zone', {
        name: `p${i}.example.com`,
        type: 'A',
        ttl: 60,
        rrdatas: ['192.0.2.9'],
      });
    const provider = new CloudDnsProvider({
      api: cloudDnsApiFromClient({
        project: 'dnsop-test',
        endpoint: fake.endpoint,
        authClient: tokenClient(fake.token),
      }),
      spec: { managedZones: ['example-zone'] },
      domains: ['example.com'],
      pageSize: 10,
    });
    const records = await provider.records();
    expect(records).toHaveLength(25);
    expect(fake.count('GET', /\/rrsets$/)).toBe(3);
  });

  it('leaves a record owned by someone else untouched while syncing its own', async () => {
    fake.put('example-zone', {
      name: 'legacy.example.com',
      type: 'A',
      ttl: 60,
      rrdatas: ['198.51.100.7'],
    });
    const provider = newProvider();
    expect(await provider.records({ refresh: true })).toEqual([
      { name: 'legacy.example.com', type: 'A', targets: ['198.51.100.7'], ttl: 60 },
    ]);
    await sync(provider, [svc('mine.example.com', ['192.0.2.2'])]);
    expect(rrset('legacy.example.com', 'A')).toMatchObject({ ttl: 60, rrdatas: ['198.51.100.7'] });
    for (const change of fake.acceptedChanges('example-zone')) {
      expect([...change.additions, ...change.deletions].map((r) => r.name)).not.toContain(
        'legacy.example.com.',
      );
    }
  });

  it('retries 429 rate limiting and completes the sync', async () => {
    fake.failNext(
      3,
      429,
      'rateLimitExceeded',
      (method, path) => method === 'POST' && path.endsWith('/changes'),
    );
    await sync(newProvider(), [svc('app.example.com', ['192.0.2.10'])]);
    expect(fake.count('POST', /\/changes$/)).toBe(4);
    expect(rrset('app.example.com', 'A')).toBeDefined();
  });

  it('polls a pending change until it is done', async () => {
    fake.pollsUntilDone = 3;
    await sync(newProvider(), [svc('app.example.com', ['192.0.2.11'])]);
    expect(fake.count('GET', /\/changes\/[^/]+$/)).toBe(3);
  });

  it('on 409 re-reads the zone, re-plans once and reports only the group that now collides', async () => {
    const provider = newProvider();
    await provider.records({ refresh: true });
    // Someone creates one of our names after we read the zone.
    fake.put('example-zone', {
      name: 'race.example.com',
      type: 'A',
      ttl: 60,
      rrdatas: ['198.51.100.1'],
    });
    const desired = [
      svc('race.example.com', ['192.0.2.1']),
      svc('calm.example.com', ['192.0.2.2']),
    ];
    const result = await provider.applyChanges({
      ...NO_CHANGES,
      create: desired.flatMap((ep) => [ep, owner(ep)]),
    });
    expect(result.failed).toEqual([
      {
        group: 'race.example.com/A',
        message: expect.stringMatching(/already exists/),
        permanent: false,
      },
    ]);
    expect(result.applied).toBe(2);
    expect(rrset('race.example.com', 'A')?.rrdatas).toEqual(['198.51.100.1']);
    expect(rrset('calm.example.com', 'A')).toBeDefined();
    expect(rrset('a-race.example.com', 'TXT')).toBeUndefined();
    expect(fake.count('POST', /\/changes$/)).toBe(2);
    expect(fake.count('GET', /\/rrsets$/)).toBe(2);
  });

  it('on 412 (our record changed under us) re-reads and applies the update against the fresh values', async () => {
    const provider = newProvider();
    const mine = svc('app.example.com', ['192.0.2.1']);
    await provider.applyChanges({ ...NO_CHANGES, create: [mine] });
    // Someone edits the TTL by hand; our cached deletion no longer matches.
    fake.put('example-zone', {
      name: 'app.example.com',
      type: 'A',
      ttl: 30,
      rrdatas: ['192.0.2.1'],
    });
    const next = { ...mine, targets: ['192.0.2.99'] };
    const result = await provider.applyChanges({
      ...NO_CHANGES,
      updateOld: [mine],
      updateNew: [next],
    });
    expect(result).toEqual({ applied: 1, failed: [] });
    expect(rrset('app.example.com', 'A')).toMatchObject({ ttl: 300, rrdatas: ['192.0.2.99'] });
  });

  it('applies an event-driven change from its cached view without listing the zone again', async () => {
    const provider = newProvider();
    await provider.records({ refresh: true });
    const lists = fake.count('GET', /\/rrsets$/);
    await sync(provider, [svc('one.example.com', ['192.0.2.1'])]);
    await sync(provider, [svc('two.example.com', ['192.0.2.2'])]);
    expect(fake.count('GET', /\/rrsets$/)).toBe(lists);
    expect((await provider.records()).map((r) => r.name)).toEqual(
      expect.arrayContaining(['one.example.com', 'two.example.com']),
    );
  });

  it('reports a token the API refuses as a permanent error with the API message', async () => {
    const attempt = newProvider('wrong-token').records();
    await expect(attempt).rejects.toBeInstanceOf(PermanentError);
    await expect(attempt).rejects.toThrow(/invalid authentication credentials/);
  });

  it('reports a managed zone that does not exist as permanent, after one request, in Cloud DNS words', async () => {
    const err: unknown = await newProvider(fake.token, ['missing-zone'])
      .records()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentError);
    expect(err).toMatchObject({ reason: 'ManagedZoneNotFound' });
    expect((err as Error).message).toMatch(
      /^notFound: The 'parameters\.managedZone' resource named 'missing-zone' does not exist\. \(cloudDNS managedZones\.get, managed zone missing-zone\); check spec\.provider\.cloudDNS/,
    );
    expect(describeError(err).match(/does not exist/g)).toHaveLength(1);
    expect(fake.requests).toHaveLength(1);
  });

  it('reports domains that none of the project zones serves as permanent', async () => {
    const provider = new CloudDnsProvider({
      api: cloudDnsApiFromClient({
        project: 'dnsop-test',
        endpoint: fake.endpoint,
        authClient: tokenClient(fake.token),
      }),
      spec: {},
      domains: ['example.net'],
    });
    await expect(provider.records()).rejects.toMatchObject({
      reason: 'ManagedZoneNotFound',
      message: expect.stringMatching(
        /^NoMatchingManagedZone: none of the 1 managed zones of the project serves spec\.domains \(example\.net\)/,
      ),
    });
  });

  it("sends one request per attempt: the client library's own retries are off", async () => {
    const isList = (method: string, path: string): boolean =>
      method === 'GET' && path.endsWith('/rrsets');
    const provider = newProvider(fake.token, ['example-zone'], {
      retry: { maxAttempts: 2, baseMs: 5, maxMs: 10 },
    });
    fake.failNext(10, 503, 'backendError', isList);
    await expect(provider.records()).rejects.toBeInstanceOf(TransientError);
    expect(fake.count('GET', /\/rrsets$/)).toBe(2);
    fake.reset();
    fake.addZone('example-zone', 'example.com');
    // No answer at all: the library used to try three more times on its own, for ~15 s.
    fake.dropNext(10, isList);
    const started = performance.now();
    await expect(provider.records()).rejects.toMatchObject({
      message: expect.stringMatching(/\(cloudDNS rrsets\.list, managed zone example-zone\)/),
    });
    expect(fake.count('GET', /\/rrsets$/)).toBe(2);
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('keeps a record and its ownership TXT in one atomic change at the per-change limits', async () => {
    fake.limits = { additions: 10, deletions: 10, rrdataBytes: 400 };
    const provider = newProvider(fake.token, undefined, {
      limits: { additions: 10, deletions: 10, rrdataBytes: 400 },
    });
    const desired = Array.from({ length: 23 }, (_, i) =>
      svc(`s-${i}.example.com`, [`10.3.0.${i}`]),
    );
    await sync(provider, desired);
    const changes = fake.acceptedChanges('example-zone');
    expect(changes.length).toBeGreaterThanOrEqual(5);
    expect(fake.requests.filter((r) => r.status === 413)).toEqual([]);
    for (const change of changes) {
      const names = new Set(change.additions.map((r) => r.name));
      for (const name of names) {
        if (name.startsWith('a-')) expect(names.has(name.slice(2))).toBe(true);
        else expect(names.has(`a-${name}`)).toBe(true);
      }
    }
    // Now replace every record and its TXT, and drop a few: one change per name still.
    const next = desired.slice(0, 20).map((ep) => ({ ...ep, targets: ['192.0.2.99'] }));
    const before = changes.length;
    const result = await provider.applyChanges({
      create: [],
      updateOld: desired.slice(0, 20),
      updateNew: next,
      delete: desired.slice(20).flatMap((ep) => [ep, owner(ep)]),
    });
    expect(result).toEqual({ applied: 26, failed: [] });
    expect(fake.requests.filter((r) => r.status === 413)).toEqual([]);
    const dropped = new Set(desired.slice(20).flatMap((ep) => [`${ep.name}.`, `a-${ep.name}.`]));
    for (const change of fake.acceptedChanges('example-zone').slice(before)) {
      // Both halves of each update travel in the same change.
      const added = new Set(change.additions.map((r) => r.name));
      const replaced = change.deletions.map((r) => r.name).filter((n) => !dropped.has(n));
      expect(new Set(replaced)).toEqual(added);
    }
  });
});
