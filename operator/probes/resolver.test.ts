import { prepareQuery, type PreparedQuery } from './query';
import {
  makeTarget,
  probeOnce,
  Resolver,
  TargetError,
  type ProbeResult,
  type ProbeTarget,
} from './resolver';
import { DnsTestServer } from '../../test/fakes/dns-test-server';

const A = prepareQuery('kubernetes.default.svc.cluster.local', 'A');
/**
 * Deadlines: a probe expected to be answered gets a deadline no busy machine reaches (an answer
 * on loopback takes well under a millisecond, but a test process can be descheduled for hundreds
 * of them on 2 shared cores); only the tests about timing out use a short one.
 */
const ANSWERED = 10_000;
const SHORT = 150;

describe('Resolver against a loopback test server', () => {
  let server: DnsTestServer;
  let target: ProbeTarget;

  beforeEach(async () => {
    server = await DnsTestServer.start();
    target = makeTarget('127.0.0.1', server.port);
  });
  afterEach(async () => {
    await server.close();
  });

  const probe = (
    q: PreparedQuery = A,
    transport: 'udp' | 'tcp' = 'udp',
    timeout = ANSWERED,
  ): Promise<ProbeResult> => probeOnce(target, q, timeout, transport);

  it('answers: success with the rcode, answer count and a positive RTT', async () => {
    const r = await probe();
    expect(r).toMatchObject({ outcome: 'success', rcode: 'NOERROR', answers: 1, tcp: false });
    expect(r.rttMs).toBeGreaterThan(0);
    expect(r.rttMs).toBeLessThan(ANSWERED);
  });

  it.each(['A', 'AAAA', 'CNAME', 'SRV', 'TXT', 'MX', 'NS', 'PTR', 'SOA'])(
    'checks %s answers by type',
    async (type) => {
      expect((await probe(prepareQuery('x.example', type))).outcome).toBe('success');
    },
  );

  it.each([
    ['NXDOMAIN', 'nxdomain'],
    ['SERVFAIL', 'servfail'],
    ['REFUSED', 'refused'],
    ['FORMERR', 'mismatch'],
  ])('maps rcode %s to %s', async (rcode, outcome) => {
    server.set({ kind: 'answer', rcode });
    expect((await probe()).outcome).toBe(outcome);
  });

  it('drop: times out at the deadline', async () => {
    server.set({ kind: 'drop' });
    const r = await probe(A, 'udp', SHORT);
    expect(r.outcome).toBe('timeout');
    expect(r.rttMs).toBeGreaterThanOrEqual(SHORT - 5);
  });

  it('delay: success under the deadline, timeout past it', async () => {
    server.set({ kind: 'answer', delayMs: 20 });
    expect((await probe()).outcome).toBe('success');
    // The server holds the answer 2 s: a 100 ms deadline has passed, however busy the machine.
    server.set({ kind: 'answer', delayMs: 2000 });
    expect((await probe(A, 'udp', 100)).outcome).toBe('timeout');
  });

  it('past the deadline but within the hard deadline: a timeout, then the answer as a late result', async () => {
    server.set({ kind: 'answer', delayMs: 300 });
    const results: ProbeResult[] = [];
    const resolver = new Resolver<null>((_t, r) => results.push(r));
    const done = new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (results.length === 2) {
          clearInterval(check);
          resolve();
        }
      }, 5);
    });
    resolver.query(target, A, { ms: 50, hardMs: ANSWERED }, 'udp', null);
    await done;
    resolver.close();
    expect(results.map((r) => [r.outcome, r.late ?? false])).toEqual([
      ['timeout', false],
      ['success', true],
    ]);
    expect(results[1]!.rttMs).toBeGreaterThanOrEqual(295);
    expect(results[0]!.deadlineMs).toBe(50);
    expect(resolver.inFlight).toBe(0);
  });

  it('no answer by the hard deadline: one timeout, nothing late, the probe ends', async () => {
    server.set({ kind: 'drop' });
    const results: ProbeResult[] = [];
    const resolver = new Resolver<null>((_t, r) => results.push(r));
    resolver.query(target, A, { ms: 20, hardMs: 60 }, 'udp', null);
    while (resolver.inFlight > 0) await new Promise((r) => setTimeout(r, 5));
    resolver.close();
    expect(results.map((r) => r.outcome)).toEqual(['timeout']);
  });

  it('truncate: retries over TCP within the same deadline', async () => {
    server.set({ kind: 'truncate' });
    const r = await probe();
    expect(r).toMatchObject({ outcome: 'success', tcp: true });
    expect(server.counts).toEqual({ udp: 1, tcp: 1 });
  });

  it('TCP mode: one TCP query, no UDP', async () => {
    const r = await probe(A, 'tcp');
    expect(r).toMatchObject({ outcome: 'success', tcp: true });
    expect(server.counts).toEqual({ udp: 0, tcp: 1 });
  });

  it('garbage carrying the query ID is an error, not a crash', async () => {
    server.set({ kind: 'garbage', keepId: true, bytes: 40 });
    const r = await probe();
    expect(r.outcome).toBe('error');
    expect(r.detail).toMatch(/malformed|short header|oversized/);
  });

  it('garbage with another ID never completes the probe', async () => {
    server.set({ kind: 'garbage', keepId: false, bytes: 1 });
    expect((await probe(A, 'udp', SHORT)).outcome).toBe('timeout');
  });

  it('spoofed packets (wrong ID, wrong question, echo) are ignored and the real answer wins', async () => {
    server.set({ kind: 'spoof', then: { kind: 'answer', delayMs: 10 } });
    expect((await probe()).outcome).toBe('success');
  });

  it('spoofed packets alone never complete the probe', async () => {
    server.set({ kind: 'spoof', then: { kind: 'drop' } });
    expect((await probe(A, 'udp', SHORT)).outcome).toBe('timeout');
  });

  it('an oversized UDP answer is an error', async () => {
    server.set({ kind: 'oversized' });
    const r = await probe();
    expect(r.outcome).toBe('error');
    expect(r.detail).toMatch(/oversized/);
  });

  it('a TCP answer cut short is an error', async () => {
    server.set({ kind: 'tcpCloseEarly' });
    expect(await probe(A, 'tcp')).toMatchObject({ outcome: 'error', tcp: true });
  });

  it('a refused TCP connection is an error', async () => {
    const port = server.port;
    await server.close();
    server = await DnsTestServer.start();
    const r = await probeOnce(
      makeTarget('127.0.0.1', port === server.port ? port + 1 : port),
      A,
      ANSWERED,
      'tcp',
    );
    expect(r).toMatchObject({ outcome: 'error', detail: 'ECONNREFUSED' });
  });

  it('runs many probes concurrently over the socket pool, each matched to its own answer', async () => {
    const names = Array.from({ length: 200 }, (_, i) => prepareQuery(`n${i}.example`, 'A'));
    const seen = new Map<string, ProbeResult>();
    let resolver!: Resolver<string>;
    await new Promise<void>((resolve) => {
      resolver = new Resolver<string>((token, result) => {
        seen.set(token, result);
        if (seen.size === names.length) resolve();
      });
      for (const q of names) resolver.query(target, q, ANSWERED, 'udp', q.name);
    });
    resolver.close();
    expect([...seen.values()].every((r) => r.outcome === 'success')).toBe(true);
    expect(resolver.stats.stray).toBe(0);
    expect(resolver.inFlight).toBe(0);
    expect(server.sourcePorts.size).toBeGreaterThanOrEqual(2);
  });

  it('rotates sockets to fresh random source ports', async () => {
    let done = 0;
    const resolver = new Resolver<null>(() => done++, { socketsPerFamily: 2, queriesPerSocket: 5 });
    for (let i = 0; i < 50; i++) {
      resolver.query(target, A, ANSWERED, 'udp', null);
      await new Promise((r) => setTimeout(r, 1));
    }
    while (done < 50) await new Promise((r) => setTimeout(r, 5));
    resolver.close();
    expect(resolver.stats.socketsOpened).toBeGreaterThanOrEqual(10);
    expect(server.sourcePorts.size).toBeGreaterThanOrEqual(8);
  });

  it('close() drops probes in flight without a result', async () => {
    server.set({ kind: 'drop' });
    const results: ProbeResult[] = [];
    const resolver = new Resolver<null>((_t, r) => results.push(r));
    resolver.query(target, A, 50, 'udp', null);
    resolver.close();
    await new Promise((r) => setTimeout(r, 100));
    expect(results).toEqual([]);
    expect(() => resolver.query(target, A, 50, 'udp', null)).toThrow(/closed/);
  });
});

describe('makeTarget', () => {
  it('canonicalises IPv6 and builds the key', () => {
    expect(makeTarget('0:0:0:0:0:0:0:1', 53)).toMatchObject({
      address: '::1',
      family: 6,
      key: '[::1]:53',
    });
    expect(makeTarget('10.96.0.10', 53).key).toBe('10.96.0.10:53');
  });
  it.each([
    ['kube-dns', 53],
    ['10.0.0.1', 0],
    ['10.0.0.1', 70000],
  ])('rejects %s:%d', (address, port) => {
    expect(() => makeTarget(address, port)).toThrow(TargetError);
  });
});

describe('Resolver over IPv6', () => {
  it('probes an IPv6 server (when this host has ::1)', async () => {
    let server: DnsTestServer;
    try {
      server = await DnsTestServer.start({ host: '::1' });
    } catch {
      return; // no IPv6 loopback here
    }
    try {
      const target = makeTarget('::1', server.port);
      expect((await probeOnce(target, A, ANSWERED, 'udp')).outcome).toBe('success');
      expect((await probeOnce(target, A, ANSWERED, 'tcp')).outcome).toBe('success');
    } finally {
      await server.close();
    }
  });
});
