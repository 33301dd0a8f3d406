/**
 * Optional APIs (DESIGN.md, Resilience), with the operator as its own process:
 * - no Gateway API CRDs: Service policies sync, /readyz is 200, a policy that asks for HTTPRoute
 *   gets SourcesResolved=False reason APINotInstalled, one log line per missing kind;
 * - the CRDs installed later: route records appear without a restart;
 * - the HTTPRoute CRD removed (its objects are deleted with it): the route's records are held,
 *   not deleted, while Services keep syncing; reinstalled (and its objects re-applied, as GitOps
 *   would), nothing is deleted or republished.
 */
import { readManifests } from '../envtest/apply';
import { applyObjects } from '../envtest/apply';
import { DnsopProcess } from '../envtest/dnsop-process';
import { waitFor } from '../envtest/wait';
import type { KubernetesObject } from '@kubernetes/client-node';
import { kubeRequest, isNotFound, MERGE_PATCH } from '../../operator/runtime/kube-http';
import { parentStatus } from '../support/records-fixtures';
import * as px from './process-fixture';

jest.setTimeout(300_000);

const GW = 'gateway.networking.k8s.io/v1';
const HTTPROUTES_CRD = 'httproutes.gateway.networking.k8s.io';
let c: px.ProcessCluster;
let dnsop: DnsopProcess;

const since = (t: number): number => Date.now() - t;

async function hasRecord(entry: string): Promise<true | undefined> {
  return (await px.aRecords(c)).includes(entry) ? true : undefined;
}

async function createRoute(): Promise<void> {
  await c.api.create({
    apiVersion: GW,
    kind: 'HTTPRoute',
    metadata: { name: 'checkout', namespace: px.NS },
    spec: { parentRefs: [{ name: 'gw' }], hostnames: ['checkout.example.com'] },
  } as KubernetesObject);
  await px.patchStatus(c, `/apis/${GW}/namespaces/${px.NS}/httproutes/checkout`, {
    parents: [parentStatus({ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'gw' }, 1)],
  });
}

beforeAll(async () => {
  c = await px.startProcessCluster();
  await px.loadBalancer(c, 'app', '203.0.113.20');
  await c.api.create(
    px.route53Policy(c, 'mixed', { sources: [{ kind: 'Service' }, { kind: 'HTTPRoute' }] }),
  );
  dnsop = await DnsopProcess.run('optional', px.operatorFlags(c, 'replica-opt'));
});

afterAll(async () => {
  await dnsop?.stop();
  await c?.stop();
});

it('without Gateway API CRDs: Services sync, /readyz 200, APINotInstalled on the policy', async () => {
  await waitFor('app published', () => hasRecord('app.example.com 203.0.113.20'), {
    timeoutMs: 90_000,
    intervalMs: 250,
  });
  const ready = await waitFor('/readyz 200', async () => {
    const r = await dnsop.get('/readyz');
    return r.status === 200 ? r.body : undefined;
  });
  expect(ready).toMatch(/controllers running/);
  const sources = await waitFor('SourcesResolved', () =>
    px.policyCondition(c, 'mixed', 'SourcesResolved'),
  );
  expect(sources).toMatchObject({ status: 'False', reason: 'APINotInstalled' });
  expect(sources.message).toMatch(/HTTPRoute/);
  // One line per kind that is not served, not one per retry.
  const notServed = dnsop
    .logs()
    .filter((l) => l.cache === 'httproutes' && /not served/.test(l.msg));
  expect(notServed).toHaveLength(1);
  expect(dnsop.logs().filter((l) => l.level === 'error')).toEqual([]);
});

it('Gateway API CRDs installed later: route records appear without a restart', async () => {
  const pid = dnsop.proc.pid;
  const installed = Date.now();
  await applyObjects(c.plane.kubeConfig, readManifests(...c.plane.tools.gatewayApiCrdFiles));
  await c.api.create({
    apiVersion: GW,
    kind: 'Gateway',
    metadata: { name: 'gw', namespace: px.NS },
    spec: {
      gatewayClassName: 'example',
      listeners: [{ name: 'http', protocol: 'HTTP', port: 80 }],
    },
  } as KubernetesObject);
  await px.patchStatus(c, `/apis/${GW}/namespaces/${px.NS}/gateways/gw`, {
    addresses: [{ type: 'IPAddress', value: '198.51.100.10' }],
  });
  await createRoute();
  await waitFor('checkout published', () => hasRecord('checkout.example.com 198.51.100.10'), {
    timeoutMs: 90_000,
    intervalMs: 250,
  });
  console.log(`CRDs installed -> route record published in ${since(installed)} ms, no restart`);
  expect(dnsop.proc.pid).toBe(pid);
  expect(dnsop.running).toBe(true);
  await waitFor('SourcesResolved again', async () =>
    (await px.policyCondition(c, 'mixed', 'SourcesResolved'))?.reason === 'AllSourcesResolved'
      ? true
      : undefined,
  );
});

it('the HTTPRoute CRD removed: its records are held, Services keep syncing; reinstalled, nothing flaps', async () => {
  const crdPath = `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${HTTPROUTES_CRD}`;
  await kubeRequest(c.plane.kubeConfig, { method: 'DELETE', path: crdPath });
  await waitFor(
    'the CRD gone',
    async () =>
      kubeRequest(c.plane.kubeConfig, { method: 'GET', path: crdPath }).then(
        () => undefined,
        (err: unknown) => (isNotFound(err) ? true : undefined),
      ),
    { timeoutMs: 60_000 },
  );
  // A Service change makes the policy sync again while the API is gone.
  await kubeRequest(c.plane.kubeConfig, {
    method: 'PATCH',
    path: `/api/v1/namespaces/${px.NS}/services/app/status`,
    contentType: MERGE_PATCH,
    body: { status: { loadBalancer: { ingress: [{ ip: '203.0.113.21' }] } } },
  });
  await waitFor('app moved', () => hasRecord('app.example.com 203.0.113.21'), {
    timeoutMs: 60_000,
    intervalMs: 250,
  });
  expect(await px.aRecords(c)).toContain('checkout.example.com 198.51.100.10');
  expect(px.deletesSent(c, 'checkout.example.com')).toBe(0);
  await waitFor('APINotInstalled', async () =>
    (await px.policyCondition(c, 'mixed', 'SourcesResolved'))?.reason === 'APINotInstalled'
      ? true
      : undefined,
  );

  await applyObjects(
    c.plane.kubeConfig,
    readManifests(...c.plane.tools.gatewayApiCrdFiles).filter(
      (o) => o.metadata?.name === HTTPROUTES_CRD,
    ),
  );
  await waitFor(
    'the route re-created (as GitOps would)',
    async () => createRoute().then(() => true),
    { timeoutMs: 60_000, intervalMs: 500 },
  );
  // Another sync after the reinstall: the route's record was neither deleted nor republished.
  await kubeRequest(c.plane.kubeConfig, {
    method: 'PATCH',
    path: `/api/v1/namespaces/${px.NS}/services/app/status`,
    contentType: MERGE_PATCH,
    body: { status: { loadBalancer: { ingress: [{ ip: '203.0.113.22' }] } } },
  });
  await waitFor('app moved again', () => hasRecord('app.example.com 203.0.113.22'), {
    timeoutMs: 60_000,
    intervalMs: 250,
  });
  expect(await px.aRecords(c)).toContain('checkout.example.com 198.51.100.10');
  expect(px.deletesSent(c)).toBe(0);
  expect(dnsop.running).toBe(true);
});

it('SIGTERM: exits 0, nothing left open', async () => {
  const exit = await dnsop.signalAndWait('SIGTERM');
  expect(exit.code).toBe(0);
  expect(dnsop.logs().filter((l) => /still busy|exiting anyway/.test(l.msg))).toEqual([]);
  expect(dnsop.rawLines()).toEqual([]);
});
