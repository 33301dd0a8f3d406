/**
 * The operator as a process (`node bin/dnsop.js run`) against a real kube-apiserver reached
 * through a fault-injecting proxy, publishing into Route 53 (moto). What a user would notice:
 * the process stays up through API server cuts and restarts, records stay intact (no DELETE is
 * ever sent for a record whose object still exists), a leader that loses the API steps down and
 * comes back, deletions made during a watch gap are still seen, a restart while a cache is slow
 * flips nothing and deletes nothing, and SIGTERM under load exits 0 within 25 s.
 *
 * Figures (recovery times) are printed with console.log; assertions wait on conditions with
 * generous deadlines, never on wall-clock races.
 */
import { isListOf } from '../envtest/api-proxy';
import { DnsopProcess } from '../envtest/dnsop-process';
import { waitFor } from '../envtest/wait';
import { unansweredProbe } from '../support/probe-fixtures';
import {
  aRecords,
  deletesSent,
  leaseHolder,
  loadBalancer,
  NS,
  operatorFlags,
  policyCondition,
  route53Policy,
  startProcessCluster,
  type ProcessCluster,
} from './process-fixture';

jest.setTimeout(300_000);

let c: ProcessCluster;
let dnsop: DnsopProcess;

const since = (t: number): number => Date.now() - t;

async function recordAppears(name: string, ip: string, timeoutMs = 60_000): Promise<void> {
  await waitFor(
    `${name} ${ip} in Route 53`,
    async () => ((await aRecords(c)).includes(`${name} ${ip}`) ? true : undefined),
    { timeoutMs, intervalMs: 250 },
  );
}

beforeAll(async () => {
  c = await startProcessCluster();
  for (const [name, ip] of [
    ['web-1', '203.0.113.1'],
    ['web-2', '203.0.113.2'],
    ['web-3', '203.0.113.3'],
  ] as const) {
    await loadBalancer(c, name, ip);
  }
  await c.api.create(route53Policy(c, 'public', { maxDeletePercent: 100 }));
  dnsop = await DnsopProcess.run('a', operatorFlags(c, 'replica-a'));
  await waitFor(
    'the three records published',
    async () => ((await aRecords(c)).length === 3 ? true : undefined),
    { timeoutMs: 90_000, intervalMs: 250 },
  );
});

afterAll(async () => {
  await dnsop?.stop();
  await c?.stop();
});

it('holds the lease and serves readiness', async () => {
  await waitFor('leader', async () => ((await leaseHolder(c)) === 'replica-a' ? true : undefined));
  const ready = await waitFor('/readyz 200', async () => {
    const r = await dnsop.get('/readyz');
    return r.status === 200 ? r.body : undefined;
  });
  expect(ready).toMatch(/leader/);
});

it('survives a 2 s cut of every API connection: alive, records intact, no deletes, recovers', async () => {
  const before = await aRecords(c);
  await c.apiProxy.outage(2_000);
  const restored = Date.now();
  await loadBalancer(c, 'web-4', '203.0.113.4');
  await recordAppears('web-4.example.com', '203.0.113.4');
  console.log(`2 s cut: a new Service published ${since(restored)} ms after the API came back`);
  expect(dnsop.running).toBe(true);
  expect(await aRecords(c)).toEqual([...before, 'web-4.example.com 203.0.113.4'].sort());
  expect(deletesSent(c)).toBe(0);
});

it('survives a kube-apiserver restart', async () => {
  const restarted = Date.now();
  await c.plane.restartApiServer();
  const up = Date.now();
  await loadBalancer(c, 'web-5', '203.0.113.5');
  await recordAppears('web-5.example.com', '203.0.113.5');
  console.log(
    `API server restart (${up - restarted} ms down): a new Service published ${since(up)} ms after it was back`,
  );
  expect(dnsop.running).toBe(true);
  expect(deletesSent(c)).toBe(0);
});

it('a leader that cannot renew steps down to standby, campaigns, and leads again', async () => {
  const lostBefore = dnsop.logs().filter((l) => /stepping down/.test(l.msg)).length;
  const ledBefore = dnsop.logs().filter((l) => l.msg === 'became leader').length;
  c.apiProxy.refuse();
  const cut = Date.now();
  await waitFor(
    'a step-down',
    () =>
      dnsop.logs().filter((l) => /stepping down/.test(l.msg)).length > lostBefore
        ? true
        : undefined,
    { timeoutMs: 60_000 },
  );
  const steppedDown = since(cut);
  expect(await dnsop.metric('dnsop_leader')).toBe(0);
  const standby = await dnsop.get('/readyz');
  expect(standby.body).toMatch(/standby/);
  c.apiProxy.restore();
  const restored = Date.now();
  await waitFor(
    'leading again',
    () =>
      dnsop.logs().filter((l) => l.msg === 'became leader').length > ledBefore ? true : undefined,
    { timeoutMs: 60_000 },
  );
  const reacquired = since(restored);
  expect(await dnsop.metric('dnsop_leader')).toBe(1);
  await loadBalancer(c, 'web-6', '203.0.113.6');
  await recordAppears('web-6.example.com', '203.0.113.6');
  console.log(
    `leader step-down ${steppedDown} ms after the API became unreachable (renew deadline 4 s); lease re-acquired ${reacquired} ms after it came back; records synced ${since(restored)} ms after`,
  );
  expect(dnsop.running).toBe(true);
  expect(deletesSent(c)).toBe(0);
});

it('a Service deleted while the watch was cut is still seen (relist after a watch gap)', async () => {
  c.apiProxy.refuse();
  await c.api.delete({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web-2', namespace: NS },
  });
  // A fresh watch cache: resuming from the old resourceVersion answers 410, so only the relist
  // can tell that web-2 is gone.
  await c.plane.restartApiServer();
  c.apiProxy.restore();
  const restored = Date.now();
  await waitFor(
    'web-2 deleted from Route 53',
    async () =>
      (await aRecords(c)).some((r) => r.startsWith('web-2.example.com')) ? undefined : true,
    { timeoutMs: 60_000, intervalMs: 250 },
  );
  console.log(`watch gap: the deletion was applied ${since(restored)} ms after the API came back`);
  // The only deletes ever sent: web-2's record and its ownership TXT.
  expect(deletesSent(c, 'web-2.example.com')).toBe(1);
  expect(deletesSent(c)).toBe(2);
});

it('a restart against a zone it owns while one cache is slow flips nothing and deletes nothing', async () => {
  const before = await aRecords(c);
  const deletes = deletesSent(c);
  const stopped = await dnsop.signalAndWait('SIGTERM');
  expect(stopped.code).toBe(0);
  expect(await leaseHolder(c)).toBeFalsy(); // released, so the next replica leads at once
  // The next replica's first list of Services takes 8 s; everything else is fast.
  c.apiProxy.delay({ match: isListOf('/api/v1/services'), ms: 8_000, times: 1 });
  dnsop = await DnsopProcess.run('b', operatorFlags(c, 'replica-b'));
  const seen = new Set<string>();
  const watchReady = async (): Promise<void> => {
    const ready = await policyCondition(c, 'public', 'Ready');
    seen.add(`${ready?.status}/${ready?.reason}`);
  };
  await waitFor(
    'the slow list served and the controller running',
    async () => {
      await watchReady();
      return dnsop.logs().some((l) => l.msg === 'caches synced; starting controller')
        ? true
        : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 100 },
  );
  // And a few resyncs' worth after it.
  const until = Date.now() + 3_000;
  while (Date.now() < until) {
    await watchReady();
    await new Promise((r) => setTimeout(r, 100));
  }
  expect([...seen].filter((s) => !s.startsWith('True'))).toEqual([]);
  expect(await aRecords(c)).toEqual(before);
  expect(deletesSent(c)).toBe(deletes);
  expect(c.apiProxy.count(isListOf('/api/v1/services'))).toBeGreaterThan(0);
});

it('SIGTERM with reconciles and probes in flight exits 0 within 25 s and releases the lease', async () => {
  await c.api.create(unansweredProbe('nothing-listens', NS));
  await waitFor(
    'probes running',
    async () => ((await dnsop.metric('dnsop_probe_total')) > 20 ? true : undefined),
    { timeoutMs: 60_000 },
  );
  // Every API call now takes 3 s: status writes and reconciles are in flight when SIGTERM lands.
  c.apiProxy.delay({ match: () => true, ms: 3_000 });
  for (let i = 7; i < 12; i++) await loadBalancer(c, `web-${i}`, `203.0.113.${i}`);
  await new Promise((r) => setTimeout(r, 1_000));
  const exit = await dnsop.signalAndWait('SIGTERM');
  c.apiProxy.clearDelays();
  console.log(`SIGTERM under load: exit ${exit.code} after ${exit.ms} ms`);
  expect(exit.code).toBe(0);
  expect(exit.ms).toBeLessThan(25_000);
  expect(dnsop.logs().some((l) => /exiting anyway|still busy/.test(l.msg))).toBe(false);
  expect(dnsop.rawLines()).toEqual([]);
});
