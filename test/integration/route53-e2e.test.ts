/**
 * End to end: Kubernetes objects in a real kube-apiserver -> the DNSPolicy controller -> the
 * Route 53 provider (credentials from the policy's Secret) -> moto, through a loopback proxy
 * that records what was sent and injects throttling.
 */
import { join } from 'node:path';
import {
  ChangeResourceRecordSetsCommand,
  CreateHostedZoneCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import type { ResourceRecordSet } from '@aws-sdk/client-route-53';
import { KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import type { DNSPolicy } from '../../operator/api/types';
import { DNSPolicyController } from '../../operator/records/reconciler';
import { kubeRequest, MERGE_PATCH } from '../../operator/runtime/kube-http';
import { silentLogger } from '../../operator/runtime/logger';
import { DnsopOperator } from '../../operator/runtime/operator';
import { applyObjects, readManifests, readObject } from '../envtest/apply';
import { ControlPlane } from '../envtest/control-plane';
import { MotoServer } from '../envtest/moto';
import { waitFor } from '../envtest/wait';
import { ROUTE53_LIMITS } from '../../operator/records/providers/route53-batch';
import { isChangeBatch, Route53Proxy } from '../fakes/route53-proxy';
import { awsCredentialsSecret, listRecordSets } from '../support/route53-zone';
import { startOperator } from './operator-fixture';

jest.setTimeout(240_000);

const ROOT = join(__dirname, '..', '..');
const NS = 'shop';
let plane: ControlPlane;
let api: KubernetesObjectApi;
let operator: DnsopOperator;
let moto: MotoServer;
let proxy: Route53Proxy;
let admin: Route53Client;
let zoneId: string;

const listAll = (): Promise<ResourceRecordSet[]> => listRecordSets(admin, zoneId);

async function record(name: string, type: string): Promise<ResourceRecordSet | undefined> {
  return (await listAll()).find((r) => r.Name === `${name}.` && r.Type === type);
}

async function loadBalancer(
  name: string,
  hostname: string,
  ingress: { ip?: string; hostname?: string },
  annotations: Record<string, string> = {},
): Promise<void> {
  await api.create({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace: NS,
      annotations: { 'dnsop.io/hostname': hostname, ...annotations },
    },
    spec: { type: 'LoadBalancer', selector: { app: name }, ports: [{ port: 80 }] },
  } as KubernetesObject);
  await kubeRequest(plane.kubeConfig, {
    method: 'PATCH',
    path: `/api/v1/namespaces/${NS}/services/${name}/status`,
    contentType: MERGE_PATCH,
    body: { status: { loadBalancer: { ingress: [ingress] } } },
  });
}

beforeAll(async () => {
  [plane, moto] = await Promise.all([ControlPlane.start(), MotoServer.start()]);
  proxy = await Route53Proxy.start(moto.endpoint);
  admin = new Route53Client({
    region: moto.region,
    endpoint: moto.endpoint,
    credentials: moto.credentials,
  });
  const zone = await admin.send(
    new CreateHostedZoneCommand({ Name: 'example.com', CallerReference: `e2e-${Date.now()}` }),
  );
  zoneId = (zone.HostedZone?.Id ?? '').replace('/hostedzone/', '');
  // A record somebody else manages by hand.
  await admin.send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: zoneId,
      ChangeBatch: {
        Changes: [
          {
            Action: 'CREATE',
            ResourceRecordSet: {
              Name: 'legacy.example.com',
              Type: 'A',
              TTL: 60,
              ResourceRecords: [{ Value: '198.51.100.7' }],
            },
          },
        ],
      },
    }),
  );
  const kc = plane.kubeConfig;
  api = KubernetesObjectApi.makeApiClient(kc);
  const crds = readManifests(join(ROOT, 'crds')).filter(
    (o) => o.kind === 'CustomResourceDefinition',
  );
  await applyObjects(kc, [
    ...crds,
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: NS } },
    awsCredentialsSecret(NS, 'aws-credentials', moto.credentials),
  ]);
  const logger = silentLogger();
  const controller = new DNSPolicyController({ syncSpacingMs: 100 });
  ({ operator } = await startOperator(kc, [controller], {
    // The provider endpoint (the local fake) is for trusted namespaces only (tenancy).
    config: { cacheResync: '10m', trustedNamespaces: NS },
    logger,
  }));
  await api.create({
    apiVersion: 'dnsop.io/v1alpha1',
    kind: 'DNSPolicy',
    metadata: { name: 'public', namespace: NS },
    spec: {
      sources: [{ kind: 'Service' }],
      domains: ['example.com'],
      provider: {
        route53: {
          region: moto.region,
          endpoint: proxy.endpoint,
          aliasMode: 'Auto',
          credentialsSecretRef: { name: 'aws-credentials' },
        },
      },
    },
  } as KubernetesObject);
});

afterAll(async () => {
  await operator?.shutdown();
  admin?.destroy();
  await proxy?.stop();
  await Promise.all([plane?.stop(), moto?.stop()]);
});

const batchesTouching = (name: string) =>
  proxy.acceptedChangeBatches().filter((b) => b.names.some((n) => n.replace(/\.$/, '') === name));

it('a LoadBalancer Service with an IP becomes a plain A record, no AliasTarget sent (seed 004)', async () => {
  await loadBalancer('web-ip', 'ip.example.com', { ip: '34.120.10.1' });
  const a = await waitFor('ip.example.com in moto', () => record('ip.example.com', 'A'));
  expect(a.ResourceRecords).toEqual([{ Value: '34.120.10.1' }]);
  expect(a.AliasTarget).toBeUndefined();
  expect(batchesTouching('ip.example.com').every((b) => !b.hasAliasTarget)).toBe(true);
});

it('an ELB hostname becomes an alias A to Z35SXDOTRQ7X7K', async () => {
  await loadBalancer('web-elb', 'elb.example.com', {
    hostname: 'my-lb-1234.us-east-1.elb.amazonaws.com',
  });
  const a = await waitFor('elb.example.com in moto', () => record('elb.example.com', 'A'));
  expect(a.AliasTarget).toMatchObject({ HostedZoneId: 'Z35SXDOTRQ7X7K' });
  expect(await record('elb.example.com', 'CNAME')).toBeUndefined();
});

it('a non-AWS hostname becomes a CNAME', async () => {
  await loadBalancer('web-ext', 'ext.example.com', { hostname: 'lb.example.net' });
  const cname = await waitFor('ext.example.com in moto', () => record('ext.example.com', 'CNAME'));
  expect(cname.ResourceRecords).toEqual([{ Value: 'lb.example.net' }]);
});

it('a record owned by someone else is left untouched', async () => {
  await loadBalancer('legacy', 'legacy.example.com,beside-legacy.example.com', {
    ip: '192.0.2.50',
  });
  await waitFor('the other name of that Service published', () =>
    record('beside-legacy.example.com', 'A'),
  );
  const status = await waitFor('a diagnostic about the foreign record', async () => {
    const policy = await readObject<DNSPolicy & KubernetesObject>(plane.kubeConfig, {
      apiVersion: 'dnsop.io/v1alpha1',
      kind: 'DNSPolicy',
      namespace: NS,
      name: 'public',
    });
    return policy?.status?.diagnostics?.some((d) => d.message.includes('legacy.example.com'))
      ? policy.status
      : undefined;
  });
  expect(status.diagnostics!.length).toBeGreaterThan(0);
  expect(await record('legacy.example.com', 'A')).toMatchObject({
    TTL: 60,
    ResourceRecords: [{ Value: '198.51.100.7' }],
  });
  expect(batchesTouching('legacy.example.com')).toEqual([]);
});

it('2,500 records from one Service are synced in batches that each respect the limits', async () => {
  const names = Array.from({ length: 2500 }, (_, i) => `bulk-${i}.example.com`);
  const before = proxy.acceptedChangeBatches().length;
  await loadBalancer('bulk', names.join(','), { ip: '192.0.2.60' });
  await waitFor(
    'all 2,500 records in moto',
    async () => {
      const n = (await listAll()).filter(
        (r) => r.Type === 'A' && r.Name?.startsWith('bulk-'),
      ).length;
      return n === 2500 ? true : undefined;
    },
    { timeoutMs: 180_000, intervalMs: 1_000 },
  );
  const batches = proxy.acceptedChangeBatches().slice(before);
  expect(batches.length).toBeGreaterThanOrEqual(5);
  for (const batch of batches) {
    expect(batch.weightedChanges).toBeLessThanOrEqual(ROUTE53_LIMITS.maxChanges);
    expect(batch.valueChars).toBeLessThanOrEqual(ROUTE53_LIMITS.maxValueChars);
  }
});

it('injected Throttling is retried and the sync completes', async () => {
  const before = proxy.requests.filter((r) => r.injected).length;
  proxy.failNext(3, 'Throttling');
  await loadBalancer('late', 'late.example.com', { ip: '192.0.2.70' });
  await waitFor('late.example.com in moto', () => record('late.example.com', 'A'));
  expect(proxy.requests.filter((r) => r.injected).length - before).toBe(3);
  expect(proxy.count(isChangeBatch)).toBeGreaterThan(0);
});

it('a policy naming a hosted zone that does not exist says so in Route 53 words and does not hammer it', async () => {
  const missing = 'Z0000MISSING';
  const asks = (): number =>
    proxy.requests.filter((r) => r.path.includes(`/hostedzone/${missing}`)).length;
  await api.create({
    apiVersion: 'dnsop.io/v1alpha1',
    kind: 'DNSPolicy',
    metadata: { name: 'missing-zone', namespace: NS },
    spec: {
      sources: [{ kind: 'Service', selector: { matchLabels: { none: 'none' } } }],
      domains: ['example.com'],
      interval: '60s',
      provider: {
        route53: {
          region: moto.region,
          endpoint: proxy.endpoint,
          hostedZoneIds: [missing],
          credentialsSecretRef: { name: 'aws-credentials' },
        },
      },
    },
  } as KubernetesObject);
  const synced = await waitFor('the policy to say the zone is missing', async () => {
    const policy = await readObject<DNSPolicy & KubernetesObject>(plane.kubeConfig, {
      apiVersion: 'dnsop.io/v1alpha1',
      kind: 'DNSPolicy',
      namespace: NS,
      name: 'missing-zone',
    });
    return policy?.status?.conditions?.find((c) => c.type === 'Synced' && c.status === 'False');
  });
  expect(synced.reason).toBe('HostedZoneNotFound');
  expect(synced.message).toMatch(
    /^NoSuchHostedZone: No hosted zone found with ID: Z0000MISSING \(route53 GetHostedZone, hosted zone Z0000MISSING\)/,
  );
  // Permanent: retried at spec.interval (60 s), not with fast backoff (today's failure mode was 8
  // requests in 2 s, 75 errors a minute). The first sync asks once; one more sync may follow at
  // once (the policy's Secret seen by its watch); then nothing until the interval.
  await new Promise((resolve) => setTimeout(resolve, 5_000));
  expect(asks()).toBeGreaterThanOrEqual(1);
  expect(asks()).toBeLessThanOrEqual(2);
});
