import { awsError, FakeRoute53 } from '../../../test/fakes/route53-api';
import type { Endpoint } from '../endpoint';
import { NO_CHANGES } from '../endpoint';
import { CloudAccounts, route53Account } from './accounts';
import { Route53Provider } from './route53';
import { SharedListings } from './shared-listings';

const FAST_RETRY = { maxAttempts: 2, baseMs: 1, maxMs: 2 };

/** A clock the test moves; the providers' zone caches and the accounts' listings read it. */
function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1_000_000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

function policy(
  api: FakeRoute53,
  accounts: CloudAccounts,
  accessKeyId: string,
  now: () => number,
  domains: readonly string[] = ['example.com'],
): Route53Provider {
  const account = route53Account(undefined, { kind: 'static', credentials: { accessKeyId } });
  return new Route53Provider({
    api,
    spec: { zoneType: 'any', aliasMode: 'Auto' },
    domains,
    retry: FAST_RETRY,
    listings: accounts.listings(account),
    now,
  });
}

/** Two policies of one account. */
const twoPolicies = (
  api: FakeRoute53,
  accounts: CloudAccounts,
  now: () => number,
): [Route53Provider, Route53Provider] => [
  policy(api, accounts, 'AKIA1', now),
  policy(api, accounts, 'AKIA1', now),
];

const a = (name: string, ip: string): Endpoint => ({ name, type: 'A', targets: [ip], ttl: 300 });
const calls = (api: FakeRoute53, op: string): number => api.calls.filter((c) => c.op === op).length;
const putA = (api: FakeRoute53, zone: string, name: string, ip: string): void =>
  api.put(zone, { Name: name, Type: 'A', TTL: 300, ResourceRecords: [{ Value: ip }] });
const names = (eps: readonly Endpoint[]): string[] => eps.map((e) => e.name).sort();

function setup(): {
  api: FakeRoute53;
  zone: string;
  time: ReturnType<typeof clock>;
  accounts: CloudAccounts;
} {
  const api = new FakeRoute53();
  const zone = api.addZone('example.com');
  putA(api, zone, 'www.example.com.', '192.0.2.1');
  const time = clock();
  return { api, zone, time, accounts: new CloudAccounts({ now: time.now }) };
}

describe('listings shared by the providers of one cloud account', () => {
  it('fifty policies refreshing one zone at once make one zone list and one record listing', async () => {
    const { api, time, accounts } = setup();
    const policies = Array.from({ length: 50 }, () => policy(api, accounts, 'AKIA1', time.now));
    const seen = await Promise.all(policies.map((p) => p.records({ refresh: true })));
    expect(seen.map(names)).toEqual(policies.map(() => ['www.example.com']));
    expect(calls(api, 'listHostedZones')).toBe(1);
    expect(calls(api, 'listResourceRecordSets')).toBe(1);
  });

  it('reuses a listing younger than 30 s for another policy’s periodic refresh, and lists again after', async () => {
    const { api, time, accounts } = setup();
    const [p1, p2] = twoPolicies(api, accounts, time.now);
    await p1.records({ refresh: true });
    time.advance(20_000);
    await p2.records({ refresh: true });
    expect(calls(api, 'listResourceRecordSets')).toBe(1);
    time.advance(11_000); // the listing is now 31 s old
    await p2.records({ refresh: true });
    expect(calls(api, 'listResourceRecordSets')).toBe(2);
  });

  it('a listing that reads as the last one is the last one: each policy sees at once that nothing changed', async () => {
    const { api, zone, time, accounts } = setup();
    const listings = new SharedListings({ now: time.now });
    const load = (ip: string) => () =>
      Promise.resolve([{ Name: 'www.example.com.', ResourceRecords: [{ Value: ip }] }]);
    const first = await listings.read('list', zone, load('192.0.2.1'));
    time.advance(31_000);
    expect(await listings.read('list', zone, load('192.0.2.1'))).toBe(first);
    time.advance(31_000);
    const changed = await listings.read('list', zone, load('192.0.2.2'));
    expect(changed).not.toBe(first);
    expect(changed[0]?.ResourceRecords[0]?.Value).toBe('192.0.2.2');

    // Through the providers: fifty policies' next periodic refresh answers with the same arrays.
    const policies = Array.from({ length: 50 }, () => policy(api, accounts, 'AKIA1', time.now));
    const before = await Promise.all(policies.map((p) => p.records({ refresh: true })));
    time.advance(31_000);
    const after = await Promise.all(policies.map((p) => p.records({ refresh: true })));
    expect(calls(api, 'listResourceRecordSets')).toBe(2);
    after.forEach((records, i) => expect(records).toBe(before[i]));
  });

  it('does not share between two accounts', async () => {
    const { api, time, accounts } = setup();
    await Promise.all([
      policy(api, accounts, 'AKIA1', time.now).records({ refresh: true }),
      policy(api, accounts, 'AKIA2', time.now).records({ refresh: true }),
    ]);
    expect(calls(api, 'listHostedZones')).toBe(2);
    expect(calls(api, 'listResourceRecordSets')).toBe(2);
  });

  it('filters the shared listing by each policy’s own domains', async () => {
    const { api, zone, time, accounts } = setup();
    putA(api, zone, 'app.shop.example.com.', '192.0.2.2');
    const all = policy(api, accounts, 'AKIA1', time.now);
    const shop = policy(api, accounts, 'AKIA1', time.now, ['shop.example.com']);
    const [allSeen, shopSeen] = await Promise.all([
      all.records({ refresh: true }),
      shop.records({ refresh: true }),
    ]);
    expect(names(allSeen)).toEqual(['app.shop.example.com', 'www.example.com']);
    expect(names(shopSeen)).toEqual(['app.shop.example.com']);
    expect(calls(api, 'listResourceRecordSets')).toBe(1);
  });

  it('a change applied through one policy makes the next refresh of another list the zone again', async () => {
    const { api, time, accounts } = setup();
    const [p1, p2] = twoPolicies(api, accounts, time.now);
    await Promise.all([p1.records({ refresh: true }), p2.records({ refresh: true })]);
    expect(calls(api, 'listResourceRecordSets')).toBe(1);
    const result = await p1.applyChanges({
      ...NO_CHANGES,
      create: [a('new.example.com', '192.0.2.9')],
    });
    expect(result).toEqual({ applied: 1, failed: [] });
    time.advance(1_000);
    expect(names(await p2.records({ refresh: true }))).toEqual([
      'new.example.com',
      'www.example.com',
    ]);
    expect(calls(api, 'listResourceRecordSets')).toBe(2);
  });

  it('a failed shared listing is not kept: the next policy lists again and gets the answer', async () => {
    const { api, time, accounts } = setup();
    const [p1, p2] = twoPolicies(api, accounts, time.now);
    await p1.records(); // zones listed and cached
    time.advance(31_000); // past the shared listing's max age
    api.failNext('listResourceRecordSets', 1, () => awsError('AccessDenied', 'not allowed', 403));
    await expect(p1.records({ refresh: true })).rejects.toThrow(/AccessDenied/);
    expect(names(await p2.records({ refresh: true }))).toEqual(['www.example.com']);
    expect(calls(api, 'listResourceRecordSets')).toBe(3);
  });
});

describe('SharedListings', () => {
  function deferred(): { promise: Promise<string>; resolve: (v: string) => void } {
    let resolve!: (v: string) => void;
    const promise = new Promise<string>((r) => (resolve = r));
    return { promise, resolve };
  }

  it('one caller giving up does not cancel the request for the others; the last one does', async () => {
    const listings = new SharedListings();
    const pending = deferred();
    let loadSignal: AbortSignal | undefined;
    const load = (signal: AbortSignal): Promise<string> => {
      loadSignal = signal;
      return pending.promise;
    };
    const [c1, c2] = [new AbortController(), new AbortController()];
    const first = listings.read('list', 'Z1', load, c1.signal);
    const second = listings.read('list', 'Z1', load, c2.signal);
    c1.abort(new Error('policy deleted'));
    await expect(first).rejects.toThrow('policy deleted');
    expect(loadSignal?.aborted).toBe(false);
    pending.resolve('answer');
    await expect(second).resolves.toBe('answer');

    const stuck = deferred();
    const c3 = new AbortController();
    const third = listings.read('list', 'Z2', (s) => ((loadSignal = s), stuck.promise), c3.signal);
    c3.abort(new Error('shutting down'));
    await expect(third).rejects.toThrow('shutting down');
    expect(loadSignal?.aborted).toBe(true);
    expect(listings.size).toBe(1); // only Z1's answer
  });

  it('a listing in flight when its zone changes is not reused afterwards', async () => {
    const listings = new SharedListings();
    const before = deferred();
    const first = listings.read('list', 'Z1', () => before.promise);
    listings.invalidate('Z1');
    const second = listings.read('list', 'Z1', () => Promise.resolve('after'));
    before.resolve('before');
    expect(await first).toBe('before');
    expect(await second).toBe('after');
    expect(await listings.read('list', 'Z1', () => Promise.resolve('again'))).toBe('after');
  });
});
