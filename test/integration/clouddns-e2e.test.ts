/**
 * End to end for Cloud DNS: Kubernetes objects in a real kube-apiserver -> the DNSPolicy controller
 * -> the Cloud DNS provider (real @google-cloud/dns client) -> the loopback fake of the Cloud DNS
 * API. The service-account key is read from the policy's Secret through the apiserver; only the
 * OAuth token exchange (a fixed Google URL) is replaced by a fixed access token the fake accepts.
 */
import { join } from 'node:path';
import { KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import { OAuth2Client } from 'google-auth-library';
import type { DNSPolicy } from '../../operator/api/types';
import { DNSPolicyController } from '../../operator/records/reconciler';
import { cloudDnsAccount } from '../../operator/records/providers/accounts';
import { CloudDnsProvider } from '../../operator/records/providers/clouddns';
import { cloudDnsApiFromClient } from '../../operator/records/providers/clouddns-api';
import { resolveCloudDnsCredentials } from '../../operator/records/providers/clouddns-credentials';
import { createProvider } from '../../operator/records/providers/index';
import { kubeRequest, MERGE_PATCH } from '../../operator/runtime/kube-http';
import { silentLogger } from '../../operator/runtime/logger';
import { DnsopOperator } from '../../operator/runtime/operator';
import { applyObjects, readManifests, readObject } from '../envtest/apply';
import { ControlPlane } from '../envtest/control-plane';
import { waitFor } from '../envtest/wait';
import type { FakeRrset } from '../fakes/clouddns-server';
import { FakeCloudDns } from '../fakes/clouddns-server';
import { startOperator } from './operator-fixture';

jest.setTimeout(240_000);

const ROOT = join(__dirname, '..', '..');
const NS = 'shop';
const ZONE = 'example-zone';
let plane: ControlPlane;
let api: KubernetesObjectApi;
let operator: DnsopOperator;
let fake: FakeCloudDns;
const secretKinds: string[] = [];

const rrset = (name: string, type: string): FakeRrset | undefined =>
  fake.rrsets(ZONE).find((r) => r.name === `${name}.` && r.type === type);

async function loadBalancer(
  name: string,
  hostname: string,
  ingress: { ip?: string; hostname?: string },
): Promise<void> {
  await api.create({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: NS, annotations: { 'dnsop.io/hostname': hostname } },
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
  [plane, fake] = await Promise.all([
    ControlPlane.start(),
    FakeCloudDns.start({ project: 'dnsop-test' }),
  ]);
  fake.addZone(ZONE, 'example.com');
  fake.put(ZONE, { name: 'legacy.example.com', type: 'A', ttl: 60, rrdatas: ['198.51.100.7'] });
  const kc = plane.kubeConfig;
  api = KubernetesObjectApi.makeApiClient(kc);
  const crds = readManifests(join(ROOT, 'crds')).filter(
    (o) => o.kind === 'CustomResourceDefinition',
  );
  const key = {
    type: 'service_account',
    project_id: 'dnsop-test',
    client_email: 'dnsop@dnsop-test.iam.gserviceaccount.com',
    private_key: '-----BEGIN PRIVATE KEY-----\nnot-a-real-key\n-----END PRIVATE KEY-----\n',
  };
  await applyObjects(kc, [
    ...crds,
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: NS } },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'gcp-sa', namespace: NS },
      stringData: { 'credentials.json': JSON.stringify(key) },
    } as KubernetesObject,
  ]);
  const auth = new OAuth2Client();
  auth.setCredentials({ access_token: fake.token, expiry_date: Date.now() + 3_600_000 });
  const logger = silentLogger();
  const controller = new DNSPolicyController({
    syncSpacingMs: 100,
    providerFactory: async (spec, ctx) => {
      if (!spec.cloudDNS) return createProvider(spec, ctx);
      // The real resolution from the policy's Secret, through the apiserver.
      const choice = await resolveCloudDnsCredentials(spec.cloudDNS, ctx);
      secretKinds.push(choice.kind);
      return new CloudDnsProvider({
        // The policy's account limiter, as createProvider would pick it.
        limiter: ctx.accounts.limiter(
          cloudDnsAccount(spec.cloudDNS.endpoint, spec.cloudDNS.project, choice),
        ),
        api: cloudDnsApiFromClient({
          project: spec.cloudDNS.project,
          endpoint: spec.cloudDNS.endpoint,
          authClient: auth,
        }),
        spec: spec.cloudDNS,
        domains: ctx.domains,
        retry: { maxAttempts: 6, baseMs: 20, maxMs: 200 },
        pollIntervalMs: 20,
      });
    },
  });
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
        cloudDNS: {
          project: 'dnsop-test',
          managedZones: [ZONE],
          endpoint: fake.endpoint,
          credentialsSecretRef: { name: 'gcp-sa' },
        },
      },
    },
  } as KubernetesObject);
});

afterAll(async () => {
  await operator?.shutdown();
  await Promise.all([plane?.stop(), fake?.stop()]);
});

const changesTouching = (name: string) =>
  fake
    .acceptedChanges(ZONE)
    .filter((c) => [...c.additions, ...c.deletions].some((r) => r.name === `${name}.`));

it('reads the service-account key from the policy Secret', async () => {
  await waitFor('provider built', () => (secretKinds.length > 0 ? true : undefined));
  expect(secretKinds[0]).toBe('serviceAccount');
});

it('a LoadBalancer Service with an IP becomes an A record', async () => {
  await loadBalancer('web-ip', 'ip.example.com', { ip: '34.120.10.1' });
  const a = await waitFor('ip.example.com in Cloud DNS', () => rrset('ip.example.com', 'A'));
  expect(a.rrdatas).toEqual(['34.120.10.1']);
});

it('AWS and other hostnames become CNAMEs (Cloud DNS has no alias records)', async () => {
  await loadBalancer('web-elb', 'elb.example.com', {
    hostname: 'my-lb-1234.us-east-1.elb.amazonaws.com',
  });
  await loadBalancer('web-ext', 'ext.example.com', { hostname: 'lb.example.net' });
  const elb = await waitFor('elb.example.com', () => rrset('elb.example.com', 'CNAME'));
  const ext = await waitFor('ext.example.com', () => rrset('ext.example.com', 'CNAME'));
  expect(elb.rrdatas).toEqual(['my-lb-1234.us-east-1.elb.amazonaws.com.']);
  expect(ext.rrdatas).toEqual(['lb.example.net.']);
});

it('a record owned by someone else is left untouched', async () => {
  await loadBalancer('legacy', 'legacy.example.com,beside-legacy.example.com', {
    ip: '192.0.2.50',
  });
  await waitFor('the other name of that Service published', () =>
    rrset('beside-legacy.example.com', 'A'),
  );
  await waitFor('a diagnostic about the foreign record', async () => {
    const policy = await readObject<DNSPolicy & KubernetesObject>(plane.kubeConfig, {
      apiVersion: 'dnsop.io/v1alpha1',
      kind: 'DNSPolicy',
      namespace: NS,
      name: 'public',
    });
    return policy?.status?.diagnostics?.some((d) => d.message.includes('legacy.example.com'))
      ? true
      : undefined;
  });
  expect(rrset('legacy.example.com', 'A')).toMatchObject({ ttl: 60, rrdatas: ['198.51.100.7'] });
  expect(changesTouching('legacy.example.com')).toEqual([]);
});

it('2,500 records from one Service are synced in changes within the API limits', async () => {
  const names = Array.from({ length: 2500 }, (_, i) => `bulk-${i}.example.com`);
  const before = fake.acceptedChanges(ZONE).length;
  await loadBalancer('bulk', names.join(','), { ip: '192.0.2.60' });
  await waitFor(
    'all 2,500 records',
    () =>
      fake.rrsets(ZONE).filter((r) => r.type === 'A' && r.name.startsWith('bulk-')).length === 2500
        ? true
        : undefined,
    { timeoutMs: 120_000, intervalMs: 500 },
  );
  const changes = fake.acceptedChanges(ZONE).slice(before);
  expect(changes.length).toBeGreaterThanOrEqual(5);
  for (const change of changes) {
    expect(change.additions.length).toBeLessThanOrEqual(1000);
    expect(change.deletions.length).toBeLessThanOrEqual(1000);
  }
});

it('injected 429 rate limiting is retried and the sync completes', async () => {
  const posts = fake.count('POST', /\/changes$/);
  fake.failNext(
    3,
    429,
    'rateLimitExceeded',
    (method, path) => method === 'POST' && path.endsWith('/changes'),
  );
  await loadBalancer('late', 'late.example.com', { ip: '192.0.2.70' });
  await waitFor('late.example.com', () => rrset('late.example.com', 'A'));
  expect(fake.count('POST', /\/changes$/) - posts).toBeGreaterThanOrEqual(4);
});
