/**
 * What GitOps tools and users see of a DNSPolicy, on live objects from a real kube-apiserver, with
 * the Route 53 provider talking to moto through a loopback proxy (which can refuse an access key
 * the way AWS refuses a bad one). Every state is judged by kstatus's own code (cli-utils v0.37.2
 * status.Compute) and by deploy/argocd/health.lua in Argo CD's Lua VM (test/envtest/health.ts):
 *  (a) just created, before any operator: InProgress (the CRD's status default) / Progressing;
 *  (b) status written as soon as seen (Reconciling=True), then Ready: Current / Healthy;
 *  (c) wrong credentials: Failed / Degraded with AWS's message; a rotated Secret is used at once;
 *  (d) a credentials Secret created after the policy is used within seconds;
 *  (e) a hosted zone that does not exist: Failed, and not retried before spec.interval;
 *  (f) deleted while its Secret is missing: says why and how to release it, and finishes within
 *      seconds once the Secret exists; dnsop.io/skip-cleanup releases without touching records;
 *  (g) the delete guard over a rolling hour: 4 of 6 records deleted one edit at a time stops at
 *      the 4th, Failed / Degraded, and an operator restart does not reset the hour;
 *  (h) the same rules on a DNSProbe: each kstatusConditions state, written through the API server,
 *      is judged alike by kstatus and the Argo CD script.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateHostedZoneCommand, Route53Client } from '@aws-sdk/client-route-53';
import { KubernetesObjectApi, Watch, type KubernetesObject } from '@kubernetes/client-node';
import { parse } from 'yaml';
import type { DNSPolicy } from '../../operator/api/types';
import { DNSPolicyController } from '../../operator/records/reconciler';
import {
  kstatusConditions,
  setConditions,
  type KstatusState,
} from '../../operator/runtime/conditions';
import { kubeRequest, MERGE_PATCH } from '../../operator/runtime/kube-http';
import { createMetrics, type Metrics } from '../../operator/runtime/metrics';
import type { DnsopOperator } from '../../operator/runtime/operator';
import { applyObjects, readManifests, readObject, waitForDeletion } from '../envtest/apply';
import { ControlPlane } from '../envtest/control-plane';
import { argoHealthOf, kstatusOf } from '../envtest/health';
import { MotoServer } from '../envtest/moto';
import { waitFor } from '../envtest/wait';
import { Route53Proxy } from '../fakes/route53-proxy';
import { listRecordSets } from '../support/route53-zone';
import { startOperator } from './operator-fixture';

jest.setTimeout(240_000);

const ROOT = join(__dirname, '..', '..');
const LUA = readFileSync(join(ROOT, 'deploy', 'argocd', 'health.lua'), 'utf8');
const DENIED_KEY = 'AKIDREVOKED0000000000';
const NAMESPACES = ['fresh', 'healthy', 'creds', 'late', 'zone', 'del', 'skip', 'guard'];

type PolicyObject = DNSPolicy & KubernetesObject;
let plane: ControlPlane;
let api: KubernetesObjectApi;
let moto: MotoServer;
let proxy: Route53Proxy;
let admin: Route53Client;
let zoneId: string;
let operator: DnsopOperator;
let metrics: Metrics;

const policyRef = (namespace: string, name: string) =>
  ({ apiVersion: 'dnsop.io/v1alpha1', kind: 'DNSPolicy', namespace, name }) as const;

function dnsPolicy(
  namespace: string,
  name: string,
  route53: Record<string, unknown> = {},
  spec: Record<string, unknown> = {},
): KubernetesObject {
  return {
    apiVersion: 'dnsop.io/v1alpha1',
    kind: 'DNSPolicy',
    metadata: { name, namespace },
    spec: {
      sources: [{ kind: 'Service' }],
      domains: ['example.com'],
      provider: {
        route53: {
          region: moto.region,
          endpoint: proxy.endpoint,
          credentialsSecretRef: { name: 'aws' },
          ...route53,
        },
      },
      ...spec,
    },
  } as KubernetesObject;
}

function awsSecret(
  namespace: string,
  accessKeyId = moto.credentials.accessKeyId,
): KubernetesObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'aws', namespace },
    stringData: {
      AWS_ACCESS_KEY_ID: accessKeyId,
      AWS_SECRET_ACCESS_KEY: moto.credentials.secretAccessKey,
    },
  } as KubernetesObject;
}

function svc(namespace: string, name: string, ip = '192.0.2.10'): KubernetesObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace,
      annotations: {
        'dnsop.io/hostname': `${name}.${namespace}.example.com`,
        'dnsop.io/target': ip,
      },
    },
    spec: { ports: [{ port: 80 }] },
  } as KubernetesObject;
}

const live = (namespace: string, name: string): Promise<PolicyObject | undefined> =>
  readObject<PolicyObject>(plane.kubeConfig, policyRef(namespace, name));

const condition = (p: PolicyObject | undefined, type: string) =>
  p?.status?.conditions?.find((c) => c.type === type);

/** kstatus and Argo CD verdicts of one live object, as "kstatus/argo". */
async function health(obj: KubernetesObject): Promise<{ verdict: string; messages: string[] }> {
  const [[k], [a]] = await Promise.all([kstatusOf([obj]), argoHealthOf(LUA, [obj])]);
  if (k?.error || a?.error) throw new Error(`health checker: ${k?.error ?? ''} ${a?.error ?? ''}`);
  return { verdict: `${k?.status}/${a?.status}`, messages: [k?.message ?? '', a?.message ?? ''] };
}

/** Waits until the live policy satisfies `ready`, then returns it. */
function waitPolicy(
  namespace: string,
  name: string,
  description: string,
  ready: (p: PolicyObject) => boolean,
  timeoutMs = 30_000,
): Promise<PolicyObject> {
  return waitFor(
    `${namespace}/${name}: ${description}`,
    async () => {
      const p = await live(namespace, name);
      return p !== undefined && ready(p) ? p : undefined;
    },
    { timeoutMs, intervalMs: 50 },
  );
}

async function events(
  namespace: string,
): Promise<{ reason?: string; type?: string; note?: string }[]> {
  const list = await kubeRequest<{ items: { reason?: string; type?: string; note?: string }[] }>(
    plane.kubeConfig,
    { method: 'GET', path: `/apis/events.k8s.io/v1/namespaces/${namespace}/events` },
  );
  return list.items;
}

/** Names of the A records in the zone. */
async function zoneNames(): Promise<string[]> {
  return (await listRecordSets(admin, zoneId))
    .filter((r) => r.Type === 'A')
    .map((r) => (r.Name ?? '').replace(/\.$/, ''));
}

async function syncErrors(policy: string): Promise<number> {
  const m = await metrics.syncErrors.get();
  return m.values.filter((v) => v.labels.policy === policy).reduce((n, v) => n + v.value, 0);
}

async function patchMetadata(namespace: string, name: string, metadata: unknown): Promise<void> {
  await kubeRequest(plane.kubeConfig, {
    method: 'PATCH',
    path: `/apis/dnsop.io/v1alpha1/namespaces/${namespace}/dnspolicies/${name}`,
    contentType: MERGE_PATCH,
    body: { metadata },
  });
}

async function start(): Promise<void> {
  ({ operator } = await startOperator(
    plane.kubeConfig,
    // A cleanup retried only after a minute: what finishes a blocked deletion within seconds is
    // the Secret watch (the backoff itself has unit tests).
    [
      new DNSPolicyController({
        syncSpacingMs: 100,
        cleanupBackoff: { baseMs: 60_000, maxMs: 120_000 },
      }),
    ],
    // Trusted: these policies point the provider at the loopback proxy (an endpoint override).
    { metrics, config: { trustedNamespaces: NAMESPACES.join(',') } },
  ));
}

beforeAll(async () => {
  [plane, moto] = await Promise.all([ControlPlane.start(), MotoServer.start()]);
  proxy = await Route53Proxy.start(moto.endpoint);
  proxy.denyAccessKey(DENIED_KEY);
  admin = new Route53Client({
    region: moto.region,
    endpoint: moto.endpoint,
    credentials: moto.credentials,
  });
  const zone = await admin.send(
    new CreateHostedZoneCommand({ Name: 'example.com', CallerReference: `health-${Date.now()}` }),
  );
  zoneId = (zone.HostedZone?.Id ?? '').replace('/hostedzone/', '');
  api = KubernetesObjectApi.makeApiClient(plane.kubeConfig);
  await applyObjects(plane.kubeConfig, [
    ...readManifests(join(ROOT, 'crds')).filter((o) => o.kind === 'CustomResourceDefinition'),
    ...NAMESPACES.flatMap((name) => [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: name } },
    ]),
  ]);
  metrics = createMetrics(undefined, { processMetrics: false });
});

afterAll(async () => {
  await operator?.shutdown();
  admin?.destroy();
  await proxy?.stop();
  await Promise.all([plane?.stop(), moto?.stop()]);
});

it('deploy/argocd/argocd-cm.yaml installs health.lua for both kinds', () => {
  const cm = parse(readFileSync(join(ROOT, 'deploy', 'argocd', 'argocd-cm.yaml'), 'utf8')) as {
    metadata: { name: string; namespace: string };
    data: Record<string, string>;
  };
  expect(cm.metadata).toEqual({ name: 'argocd-cm', namespace: 'argocd' });
  expect(cm.data).toEqual({
    'resource.customizations.health.dnsop.io_DNSPolicy': LUA,
    'resource.customizations.health.dnsop.io_DNSProbe': LUA,
  });
});

it('(a) a policy nobody has reconciled yet is InProgress (CRD status default), not Current', async () => {
  await api.create(awsSecret('fresh'));
  await api.create(svc('fresh', 'web'));
  await api.create(dnsPolicy('fresh', 'public'));
  const fresh = (await live('fresh', 'public'))!;
  // Served by the API server on read; the operator has written nothing.
  expect(fresh.status).toEqual({ observedGeneration: 0 });
  const { verdict, messages } = await health(fresh);
  console.log(`(a) fresh policy: ${verdict} (${messages.join(' | ')})`);
  expect(verdict).toBe('InProgress/Progressing');
});

it('(b) status is written as soon as a policy is seen (Reconciling=True), then Current/Healthy', async () => {
  // Every version of the fresh policy's status, from the moment the operator starts.
  const seen: string[] = [];
  const watch = await new Watch(plane.kubeConfig).watch(
    '/apis/dnsop.io/v1alpha1/namespaces/fresh/dnspolicies',
    {},
    (_type, obj: PolicyObject) => {
      const c = (t: string): string => condition(obj, t)?.status ?? '-';
      seen.push(
        `gen=${obj.status?.observedGeneration} Reconciling=${c('Reconciling')} Ready=${c('Ready')}`,
      );
    },
    () => undefined,
  );
  await start();
  const done = 'gen=1 Reconciling=False Ready=True';
  await waitFor('Ready seen by the watch', () => (seen.includes(done) ? true : undefined));
  watch.abort();
  expect(seen).toContain('gen=1 Reconciling=True Ready=False');
  expect(seen.indexOf('gen=1 Reconciling=True Ready=False')).toBeLessThan(seen.indexOf(done));
  const ready = (await live('fresh', 'public'))!;
  expect((await health(ready)).verdict).toBe('Current/Healthy');

  await api.create(awsSecret('healthy'));
  await api.create(svc('healthy', 'web'));
  await api.create(dnsPolicy('healthy', 'public'));
  const healthy = await waitPolicy(
    'healthy',
    'public',
    'Ready with a record',
    (p) => condition(p, 'Ready')?.status === 'True' && p.status?.records === 1,
  );
  const { verdict, messages } = await health(healthy);
  console.log(`(b) synced policy: ${verdict} (${messages.join(' | ')})`);
  expect(verdict).toBe('Current/Healthy');
});

it("(c) wrong credentials are Failed with AWS's message; a rotated Secret is used at once", async () => {
  await api.create(awsSecret('creds', DENIED_KEY));
  await api.create(svc('creds', 'web'));
  await api.create(dnsPolicy('creds', 'public'));
  const stalled = await waitPolicy(
    'creds',
    'public',
    'Stalled',
    (p) => condition(p, 'Stalled')?.status === 'True',
  );
  const message = condition(stalled, 'Stalled')?.message ?? '';
  // AWS's own message, said once (not "UnknownError: UnknownError", not twice).
  expect(message.split('The security token included in the request is invalid')).toHaveLength(2);
  const { verdict, messages } = await health(stalled);
  console.log(`(c) wrong credentials: ${verdict} (${messages.join(' | ')})`);
  expect(verdict).toBe('Failed/Degraded');
  expect(messages[1]).toContain('The security token included in the request is invalid');

  const rotated = Date.now();
  await kubeRequest(plane.kubeConfig, {
    method: 'PATCH',
    path: '/api/v1/namespaces/creds/secrets/aws',
    contentType: MERGE_PATCH,
    body: { stringData: { AWS_ACCESS_KEY_ID: moto.credentials.accessKeyId } },
  });
  const ready = await waitPolicy(
    'creds',
    'public',
    'Ready after rotation',
    (p) => condition(p, 'Ready')?.status === 'True' && p.status?.records === 1,
  );
  console.log(`(c) rotated Secret used after ${Date.now() - rotated} ms (spec.interval 60 s)`);
  expect(Date.now() - rotated).toBeLessThan(15_000);
  expect((await health(ready)).verdict).toBe('Current/Healthy');
  expect((await events('creds')).some((e) => e.type === 'Normal' && e.reason === 'Recovered')).toBe(
    true,
  );
});

it('(d) a credentials Secret created after its policy is used within seconds', async () => {
  await api.create(svc('late', 'web'));
  await api.create(dnsPolicy('late', 'public'));
  const stalled = await waitPolicy(
    'late',
    'public',
    'Stalled CredentialsNotFound',
    (p) => condition(p, 'Stalled')?.reason === 'CredentialsNotFound',
  );
  expect((await health(stalled)).verdict).toBe('Failed/Degraded');
  const created = Date.now();
  await api.create(awsSecret('late'));
  await waitPolicy('late', 'public', 'Ready', (p) => condition(p, 'Ready')?.status === 'True');
  const ms = Date.now() - created;
  console.log(`(d) Secret created -> policy Ready after ${ms} ms (spec.interval 60 s)`);
  expect(ms).toBeLessThan(15_000);
  expect(await zoneNames()).toContain('web.late.example.com');
});

it('(e) a hosted zone that does not exist is Failed and not retried before spec.interval', async () => {
  await api.create(awsSecret('zone'));
  await api.create(svc('zone', 'web'));
  const requestsBefore = proxy.requests.length;
  await api.create(dnsPolicy('zone', 'public', { hostedZoneIds: ['Z0DOESNOTEXIST'] }));
  const stalled = await waitPolicy(
    'zone',
    'public',
    'Stalled',
    (p) => condition(p, 'Stalled')?.status === 'True',
  );
  const { verdict, messages } = await health(stalled);
  console.log(`(e) missing zone: ${verdict} (${messages.join(' | ')})`);
  expect(verdict).toBe('Failed/Degraded');
  // Let the echo of adding the finalizer pass, then watch for 20 s: a permanent error waits for
  // spec.interval (60 s); no backoff retries.
  await new Promise((r) => setTimeout(r, 2_000));
  const errorsAt = await syncErrors('zone/public');
  const requestsAt = proxy.requests.length;
  await new Promise((r) => setTimeout(r, 20_000));
  const errors = (await syncErrors('zone/public')) - errorsAt;
  const requests = proxy.requests.length - requestsAt;
  console.log(
    `(e) missing zone: ${requestsAt - requestsBefore} provider requests and ${errorsAt} sync errors until Stalled, then ${requests} requests and ${errors} errors in the next 20 s`,
  );
  expect(errors).toBe(0);
  expect(requests).toBe(0);
});

it('(f) deletion with the Secret missing says why and finishes within seconds once it exists', async () => {
  await api.create(awsSecret('del'));
  await api.create(svc('del', 'web'));
  await api.create(dnsPolicy('del', 'public'));
  await waitPolicy('del', 'public', 'Ready', (p) => condition(p, 'Ready')?.status === 'True');
  expect(await zoneNames()).toContain('web.del.example.com');
  await api.delete(awsSecret('del'));
  await api.delete(dnsPolicy('del', 'public'));
  const blocked = await waitPolicy(
    'del',
    'public',
    'CleanupBlocked',
    (p) => condition(p, 'Stalled')?.reason === 'CleanupBlocked',
  );
  const message = condition(blocked, 'Stalled')?.message ?? '';
  expect(message).toContain('Secret del/aws does not exist');
  expect(message).toContain('dnsop.io/skip-cleanup: "true"');
  const event = await waitFor('CleanupBlocked Event', async () =>
    (await events('del')).find((e) => e.reason === 'CleanupBlocked'),
  );
  expect(event.type).toBe('Warning');
  const { verdict, messages } = await health(blocked);
  console.log(`(f) deletion blocked: ${verdict} (${messages.join(' | ')})`);
  expect(verdict).toBe('Terminating/Degraded');

  const created = Date.now();
  await api.create(awsSecret('del'));
  await waitForDeletion(plane.kubeConfig, policyRef('del', 'public'), { intervalMs: 50 });
  const ms = Date.now() - created;
  console.log(`(f) Secret created -> deleted policy gone after ${ms} ms`);
  expect(ms).toBeLessThan(15_000);
  expect(await zoneNames()).not.toContain('web.del.example.com');
});

it('(f) dnsop.io/skip-cleanup: "true" releases a blocked deletion and leaves the records', async () => {
  await api.create(awsSecret('skip'));
  await api.create(svc('skip', 'web'));
  await api.create(dnsPolicy('skip', 'public'));
  await waitPolicy('skip', 'public', 'Ready', (p) => condition(p, 'Ready')?.status === 'True');
  await api.delete(awsSecret('skip'));
  await api.delete(dnsPolicy('skip', 'public'));
  await waitPolicy(
    'skip',
    'public',
    'CleanupBlocked',
    (p) => condition(p, 'Stalled')?.reason === 'CleanupBlocked',
  );
  await patchMetadata('skip', 'public', { annotations: { 'dnsop.io/skip-cleanup': 'true' } });
  await waitForDeletion(plane.kubeConfig, policyRef('skip', 'public'), { timeoutMs: 15_000 });
  expect(await zoneNames()).toContain('web.skip.example.com');
});

it('(g) the delete guard counts a rolling hour: 4 of 6 deleted one by one stops at the 4th, across a restart', async () => {
  await api.create(awsSecret('guard'));
  const names = ['a', 'b', 'c', 'd', 'e', 'f'];
  for (const n of names) await api.create(svc('guard', n));
  await api.create(dnsPolicy('guard', 'public', {}, { maxDeletePercent: 50 }));
  await waitPolicy('guard', 'public', '6 records', (p) => p.status?.records === 6);
  const published = async (): Promise<string[]> =>
    (await zoneNames()).filter((n) => n.endsWith('.guard.example.com'));
  for (const n of names.slice(0, 3)) {
    await api.delete(svc('guard', n));
    await waitFor(`${n} deleted`, async () =>
      (await published()).includes(`${n}.guard.example.com`) ? undefined : true,
    );
  }
  await api.delete(svc('guard', 'd'));
  const refused = await waitPolicy(
    'guard',
    'public',
    'DeleteGuard',
    (p) => condition(p, 'Stalled')?.reason === 'DeleteGuard',
  );
  expect(condition(refused, 'Stalled')?.message).toContain('4 of 6 owned records within an hour');
  expect(refused.status?.recentDeletes?.reduce((n, e) => n + e.count, 0)).toBe(3);
  const { verdict, messages } = await health(refused);
  console.log(`(g) delete guard: ${verdict} (${messages.join(' | ')})`);
  expect(verdict).toBe('Failed/Degraded');
  expect(await published()).toContain('d.guard.example.com');

  // A restart (or a failover) reads the hour back from status.
  await operator.shutdown();
  await start();
  await api.delete(svc('guard', 'e'));
  await waitPolicy(
    'guard',
    'public',
    'both deletes refused',
    (p) => p.status?.pendingChanges === 4,
  );
  expect(await published()).toEqual(
    expect.arrayContaining(['d.guard.example.com', 'e.guard.example.com']),
  );
});

it('(h) a DNSProbe with the shared kstatus conditions is judged alike by kstatus and Argo CD', async () => {
  await api.create({
    apiVersion: 'dnsop.io/v1alpha1',
    kind: 'DNSProbe',
    metadata: { name: 'dns', namespace: 'healthy' },
    spec: {
      server: { addresses: ['127.0.0.1'], port: 53 },
      queries: [{ name: 'kubernetes.default.svc.cluster.local', type: 'A' }],
    },
  } as KubernetesObject);
  const expected: Record<KstatusState, string> = {
    Reconciling: 'InProgress/Progressing',
    Stalled: 'Failed/Degraded',
    Ready: 'Current/Healthy',
  };
  for (const [state, verdict] of Object.entries(expected) as [KstatusState, string][]) {
    const probe = await kubeRequest<KubernetesObject>(plane.kubeConfig, {
      method: 'PATCH',
      path: '/apis/dnsop.io/v1alpha1/namespaces/healthy/dnsprobes/dns/status',
      contentType: MERGE_PATCH,
      body: {
        status: {
          observedGeneration: 1,
          conditions: setConditions(
            undefined,
            kstatusConditions({ state, reason: 'DNSUnavailable', message: 'every target failing' }),
            1,
          ),
        },
      },
    });
    expect({ state, verdict: (await health(probe)).verdict }).toEqual({ state, verdict });
  }
});
