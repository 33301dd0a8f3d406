/**
 * Tenancy against the real API server (DESIGN.md, Tenancy; issue 10): two tenant namespaces,
 * `shop` and `b`, each acting through its own ServiceAccount, which has rights on dnsop CRs,
 * Services and EndpointSlices in its own namespace only (requests impersonate it). `shop`
 * publishes its records into a shared Route 53 zone (moto); `b` then tries every attack on them,
 * on kube-system and on the operator's credentials. Each attack must be refused, visibly (status
 * and Events), and change nothing in `shop`'s records or in kube-system.
 *
 * The operator runs in this process with the flags' defaults (trusted: its own namespace and
 * kube-system), reaching moto through AWS_ENDPOINT_URL_ROUTE_53, the way an operator deployment
 * would set a VPC endpoint for everyone: tenants cannot set endpoints themselves.
 */
import http from 'node:http';
import { join } from 'node:path';
import {
  ChangeResourceRecordSetsCommand,
  CreateHostedZoneCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import {
  ApiException,
  KubeConfig,
  KubernetesObjectApi,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { DNSProbeController } from '../../operator/probes/reconciler';
import { DNSPolicyController } from '../../operator/records/reconciler';
import { kubeRequest, MERGE_PATCH } from '../../operator/runtime/kube-http';
import type { DnsopOperator } from '../../operator/runtime/operator';
import { applyObjects, readManifests, waitForDeletion } from '../envtest/apply';
import { ControlPlane } from '../envtest/control-plane';
import { MotoServer } from '../envtest/moto';
import { waitFor } from '../envtest/wait';
import { DnsTestServer } from '../fakes/dns-test-server';
import { awsCredentialsSecret, describeRecordSets, listRecordSets } from '../support/route53-zone';
import { startOperator } from './operator-fixture';

jest.setTimeout(300_000);

const ROOT = join(__dirname, '..', '..');
const ZONE = 'example.com';
const DNSOP = 'dnsop.io/v1alpha1';
const TENANTS = ['shop', 'b'] as const;
type Tenant = (typeof TENANTS)[number];

let plane: ControlPlane;
let moto: MotoServer;
let r53: Route53Client;
let zoneId: string;
/**
 * Count every DNS query that reaches them (the probe traffic an attack aims): 127.0.0.1:<port>,
 * and kube-system/kube-dns's ClusterIP (a loopback address in the harness) at the same port.
 */
let dns: DnsTestServer;
let kubeDns: DnsTestServer | undefined;
/** An HTTP server on loopback that records each request (a tenant's "provider endpoint"). */
let capture: { server: http.Server; port: number; requests: http.IncomingHttpHeaders[] };
let operator: DnsopOperator | undefined;
/** The zone once `shop` has published: what no attack may change. */
let shopZone: string[];
/** resourceVersions of everything in kube-system before the attacks. */
let kubeSystem: string[];
const savedEndpoint = process.env.AWS_ENDPOINT_URL_ROUTE_53;

// ---- tenants ----------------------------------------------------------------------------------

/** A KubeConfig that impersonates the tenant's ServiceAccount. */
function tenantConfig(ns: Tenant): KubeConfig {
  const admin = plane.kubeConfig;
  const cluster = admin.getCurrentCluster();
  const user = admin.getCurrentUser();
  if (!cluster || !user) throw new Error('admin kubeconfig incomplete');
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [
      { ...user, name: `tenant-${ns}`, impersonateUser: `system:serviceaccount:${ns}:tenant` },
    ],
    contexts: [{ name: ns, cluster: cluster.name, user: `tenant-${ns}` }],
    currentContext: ns,
  });
  return kc;
}

const as = (ns: Tenant): KubernetesObjectApi => KubernetesObjectApi.makeApiClient(tenantConfig(ns));

function tenantObjects(ns: Tenant): KubernetesObject[] {
  const rbac = 'rbac.authorization.k8s.io/v1';
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'tenant', namespace: ns } },
    {
      apiVersion: rbac,
      kind: 'Role',
      metadata: { name: 'tenant', namespace: ns },
      rules: [
        { apiGroups: ['dnsop.io'], resources: ['dnspolicies', 'dnsprobes'], verbs: ['*'] },
        { apiGroups: [''], resources: ['services'], verbs: ['*'] },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['*'] },
        { apiGroups: ['externaldns.k8s.io'], resources: ['dnsendpoints'], verbs: ['*'] },
      ],
    } as KubernetesObject,
    {
      apiVersion: rbac,
      kind: 'RoleBinding',
      metadata: { name: 'tenant', namespace: ns },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'tenant' },
      subjects: [{ kind: 'ServiceAccount', name: 'tenant', namespace: ns }],
    } as KubernetesObject,
    awsCredentialsSecret(ns, 'aws', moto.credentials),
  ];
}

/** A DNSPolicy selecting the Services labelled attack=<name>, into the shared zone. */
function policy(ns: Tenant, name: string, spec: Record<string, unknown> = {}): KubernetesObject {
  return {
    apiVersion: DNSOP,
    kind: 'DNSPolicy',
    metadata: { name, namespace: ns },
    spec: {
      sources: [{ kind: 'Service', selector: { matchLabels: { attack: name } } }],
      domains: [ZONE],
      provider: { route53: { region: moto.region, credentialsSecretRef: { name: 'aws' } } },
      interval: '1h',
      ...spec,
    },
  } as KubernetesObject;
}

/** A LoadBalancer Service (status written by the admin, as a cloud controller would). */
async function lbService(
  ns: Tenant,
  name: string,
  hostname: string,
  ingress: { ip?: string; hostname?: string },
  attack = name,
): Promise<void> {
  await as(ns).create({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace: ns,
      labels: { attack },
      annotations: { 'dnsop.io/hostname': hostname },
    },
    spec: { type: 'LoadBalancer', ports: [{ port: 443 }] },
  } as KubernetesObject);
  await kubeRequest(plane.kubeConfig, {
    method: 'PATCH',
    path: `/api/v1/namespaces/${ns}/services/${name}/status`,
    contentType: MERGE_PATCH,
    body: { status: { loadBalancer: { ingress: [ingress] } } },
  });
}

// ---- what a user sees -------------------------------------------------------------------------

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}
interface Status {
  conditions?: Condition[];
  diagnostics?: { object: string; reason: string; message: string }[];
  targets?: { address: string }[];
}

async function statusOf(plural: string, ns: string, name: string): Promise<Status> {
  const obj = await kubeRequest<{ status?: Status }>(plane.kubeConfig, {
    method: 'GET',
    path: `/apis/${DNSOP}/namespaces/${ns}/${plural}/${name}`,
  });
  return obj.status ?? {};
}

async function events(ns: string, name: string): Promise<{ reason: string; note: string }[]> {
  const list = await kubeRequest<{
    items: { reason?: string; note?: string; regarding?: { name?: string } }[];
  }>(plane.kubeConfig, { method: 'GET', path: `/apis/events.k8s.io/v1/namespaces/${ns}/events` });
  return list.items
    .filter((e) => e.regarding?.name === name)
    .map((e) => ({ reason: e.reason ?? '', note: e.note ?? '' }));
}

/**
 * The refusal as a user sees it: Stalled=True, reason Forbidden, naming the field; and a Warning
 * Event saying the same and naming the flag that would allow it.
 */
async function expectForbidden(
  plural: 'dnspolicies' | 'dnsprobes',
  name: string,
  field: string,
  flag = '--trusted-namespaces',
): Promise<void> {
  const stalled = await waitFor(`${name}: Stalled/Forbidden`, async () => {
    const s = await statusOf(plural, 'b', name);
    const c = s.conditions?.find((x) => x.type === 'Stalled');
    return c?.status === 'True' && c.reason === 'Forbidden' ? c : undefined;
  });
  expect(stalled.message).toContain(field);
  const event = await waitFor(`${name}: Forbidden Event`, async () =>
    (await events('b', name)).find((e) => e.reason === 'Forbidden'),
  );
  expect(event.note).toContain(field);
  expect(event.note).toContain(flag);
}

async function expectDiagnostic(
  name: string,
  reason: string | readonly string[],
  text: string,
): Promise<void> {
  const reasons = typeof reason === 'string' ? [reason] : reason;
  const found = await waitFor(`${name}: diagnostic ${reasons.join('|')}`, async () => {
    const s = await statusOf('dnspolicies', 'b', name);
    return s.diagnostics?.find((d) => reasons.includes(d.reason) && d.message.includes(text));
  });
  expect(found).toBeDefined();
}

async function zone(): Promise<string[]> {
  return describeRecordSets(await listRecordSets(r53, zoneId));
}

/** The zone is exactly as shop left it (b publishes nothing until the grants phase). */
async function expectShopZoneUnchanged(): Promise<void> {
  expect(await zone()).toEqual(shopZone);
}

/** Lets the operator act on whatever was just created (several syncs' worth). */
async function settle(): Promise<void> {
  await new Promise((r) => setTimeout(r, 1500));
}

async function remove(ns: Tenant, plural: string, name: string): Promise<void> {
  await kubeRequest(tenantConfig(ns), {
    method: 'DELETE',
    path: `/apis/${DNSOP}/namespaces/${ns}/${plural}/${name}`,
  });
  await waitForDeletion(plane.kubeConfig, {
    apiVersion: DNSOP,
    kind: plural === 'dnspolicies' ? 'DNSPolicy' : 'DNSProbe',
    namespace: ns,
    name,
  });
}

async function kubeSystemVersions(): Promise<string[]> {
  const out: string[] = [];
  for (const path of [
    '/api/v1/namespaces/kube-system/pods',
    '/api/v1/namespaces/kube-system/services',
    '/apis/discovery.k8s.io/v1/namespaces/kube-system/endpointslices',
  ]) {
    const list = await kubeRequest<{
      items: { metadata: { name: string; resourceVersion: string } }[];
    }>(plane.kubeConfig, { method: 'GET', path });
    out.push(...list.items.map((i) => `${path} ${i.metadata.name} ${i.metadata.resourceVersion}`));
  }
  return out.sort();
}

function probeTraffic(): number {
  return [dns, kubeDns].reduce((n, s) => n + (s?.counts.udp ?? 0) + (s?.counts.tcp ?? 0), 0);
}

async function runOperator(config: Record<string, string> = {}): Promise<void> {
  await operator?.shutdown();
  ({ operator } = await startOperator(
    plane.kubeConfig,
    [new DNSPolicyController({ syncSpacingMs: 50 }), new DNSProbeController()],
    { config },
  ));
}

// ---- setup ------------------------------------------------------------------------------------

async function startCapture(): Promise<typeof capture> {
  const requests: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req.headers);
    req.resume();
    res.writeHead(500).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { server, requests, port: typeof address === 'object' && address ? address.port : 0 };
}

beforeAll(async () => {
  [plane, moto] = await Promise.all([ControlPlane.start(), MotoServer.start()]);
  [dns, capture] = await Promise.all([DnsTestServer.start(), startCapture()]);
  process.env.AWS_ENDPOINT_URL_ROUTE_53 = moto.endpoint;
  r53 = new Route53Client({
    region: moto.region,
    endpoint: moto.endpoint,
    credentials: moto.credentials,
  });
  const created = await r53.send(
    new CreateHostedZoneCommand({ Name: ZONE, CallerReference: `tenancy-${Date.now()}` }),
  );
  zoneId = (created.HostedZone?.Id ?? '').replace('/hostedzone/', '');
  // Records external-dns published for shop before the migration (adoption bait).
  await r53.send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: zoneId,
      ChangeBatch: {
        Changes: [
          { name: 'legacy.shop.example.com', type: 'A', value: '192.0.2.20' },
          {
            name: 'a-legacy.shop.example.com',
            type: 'TXT',
            value:
              '"heritage=external-dns,external-dns/owner=default,external-dns/resource=service/shop/legacy"',
          },
        ].map((r) => ({
          Action: 'CREATE' as const,
          ResourceRecordSet: {
            Name: r.name,
            Type: r.type as 'A' | 'TXT',
            TTL: 300,
            ResourceRecords: [{ Value: r.value }],
          },
        })),
      },
    }),
  );
  const crds = readManifests(join(ROOT, 'crds'), ...plane.tools.externalDnsCrdFiles).filter(
    (o) => o.kind === 'CustomResourceDefinition',
  );
  await applyObjects(plane.kubeConfig, [...crds, ...TENANTS.flatMap(tenantObjects)]);
  // kube-system's DNS, which a tenant would love to aim at; its ClusterIP counts what arrives.
  const [kubeDnsService] = await applyObjects(plane.kubeConfig, [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kube-dns', namespace: 'kube-system' },
      spec: { ports: [{ name: 'dns', port: dns.port, protocol: 'UDP' }] },
    } as KubernetesObject,
  ]);
  const clusterIp = (kubeDnsService as { spec?: { clusterIP?: string } }).spec?.clusterIP ?? '';
  kubeDns = await DnsTestServer.start({ host: clusterIp, port: dns.port });
  await runOperator();
  // shop publishes app.shop.example.com, as its own ServiceAccount.
  await lbService('shop', 'app', 'app.shop.example.com', { ip: '192.0.2.10' }, 'public');
  await as('shop').create(policy('shop', 'public'));
  await waitFor('shop published', async () => {
    const lines = await zone();
    return lines.includes('app.shop.example.com A 192.0.2.10') &&
      lines.some((l) => l.startsWith('_dnsop-a.app.shop.example.com TXT'))
      ? true
      : undefined;
  });
  shopZone = await zone();
  kubeSystem = await kubeSystemVersions();
});

afterAll(async () => {
  await operator?.shutdown();
  if (savedEndpoint === undefined) delete process.env.AWS_ENDPOINT_URL_ROUTE_53;
  else process.env.AWS_ENDPOINT_URL_ROUTE_53 = savedEndpoint;
  await new Promise((r) => capture?.server.close(r));
  await dns?.close();
  await kubeDns?.close();
  await moto?.stop();
  await plane?.stop();
});

/** The address of a hand-written EndpointSlice (the API server refuses loopback): TEST-NET-1. */
const STRAY_IP = '192.0.2.53';

function endpointSlice(ns: string, service: string): KubernetesObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${service}-manual`,
      namespace: ns,
      labels: { 'kubernetes.io/service-name': service },
    },
    addressType: 'IPv4',
    endpoints: [{ addresses: [STRAY_IP], conditions: { ready: true } }],
    ports: [{ name: 'dns', port: dns.port, protocol: 'UDP' }],
  } as KubernetesObject;
}

// ---- the attacks ------------------------------------------------------------------------------

describe('tenant b against tenant shop, kube-system and the operator (default flags)', () => {
  it('b has no rights outside its namespace (the premise of every attack below)', async () => {
    await expect(as('b').create(policy('shop', 'planted'))).rejects.toMatchObject({ code: 403 });
  });

  it('ownerId of another namespace (record hijack) is refused; deleting it deletes nothing', async () => {
    await lbService('b', 'hijack', 'app.shop.example.com', { ip: '198.51.100.66' });
    await as('b').create(policy('b', 'hijack', { ownerId: 'shop/public' }));
    await expectForbidden('dnspolicies', 'hijack', 'spec.ownerId');
    await settle();
    await expectShopZoneUnchanged();
    // The finalizer of a refused policy must not run over "its" (shop's) records.
    await remove('b', 'dnspolicies', 'hijack');
    const note = await waitFor('cleanup refusal Event', async () =>
      (await events('b', 'hijack')).find((e) => e.note.startsWith('no records were deleted')),
    );
    expect(note.reason).toBe('CleanupSkipped');
    expect(note.note).toContain('spec.ownerId');
    await settle();
    await expectShopZoneUnchanged();
  });

  it('an ownerId smuggling a second owner into the TXT value is rejected at admission', async () => {
    const err: unknown = await as('b')
      .create(policy('b', 'smuggle', { ownerId: 'b/x,dnsop/owner=shop/public' }))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(ApiException);
    const { code, body } = err as ApiException<unknown>;
    expect(code).toBe(422);
    expect(typeof body === 'string' ? body : JSON.stringify(body)).toContain('spec.ownerId');
  });

  it('a provider endpoint (credential exfiltration) is refused before any request is sent', async () => {
    await lbService('b', 'exfil', 'exfil.b.example.com', { ip: '198.51.100.1' });
    await as('b').create(
      policy('b', 'exfil', {
        provider: {
          route53: {
            region: moto.region,
            credentialsSecretRef: { name: 'aws' },
            endpoint: `http://127.0.0.1:${capture.port}`,
          },
        },
      }),
    );
    await expectForbidden('dnspolicies', 'exfil', 'spec.provider.route53.endpoint');
    await settle();
    expect(capture.requests).toEqual([]);
    await remove('b', 'dnspolicies', 'exfil');
  });

  it("the operator's own cloud identity (no credentials Secret) is refused", async () => {
    await as('b').create(
      policy('b', 'ambient', { provider: { route53: { region: moto.region } } }),
    );
    await expectForbidden('dnspolicies', 'ambient', 'spec.provider.route53.credentialsSecretRef');
    await remove('b', 'dnspolicies', 'ambient');
  });

  it("an AAAA record beside shop's A (a name another namespace owns) is not published", async () => {
    await lbService('b', 'beside', 'app.shop.example.com', { ip: '2001:db8::66' });
    await as('b').create(policy('b', 'beside'));
    await expectDiagnostic('beside', 'OwnedByAnotherOwner', 'app.shop.example.com AAAA');
    await settle();
    await expectShopZoneUnchanged();
    await remove('b', 'dnspolicies', 'beside');
  });

  it("a CNAME at shop's name is not published", async () => {
    await as('b').create({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: 'cname',
        namespace: 'b',
        labels: { attack: 'cname' },
        annotations: { 'dnsop.io/hostname': 'app.shop.example.com' },
      },
      spec: { type: 'ExternalName', externalName: 'evil.example.net' },
    } as KubernetesObject);
    await as('b').create(policy('b', 'cname'));
    // Two guards refuse it: tenancy (a name another namespace owns) and the planner (a CNAME
    // cannot sit beside other records).
    await expectDiagnostic(
      'cname',
      ['OwnedByAnotherOwner', 'RecordConflict'],
      'app.shop.example.com CNAME',
    );
    await settle();
    await expectShopZoneUnchanged();
    await remove('b', 'dnspolicies', 'cname');
  });

  it("a DNSEndpoint cannot write ownership records (shop's, or external-dns's for adoption)", async () => {
    await as('b').create({
      apiVersion: 'externaldns.k8s.io/v1alpha1',
      kind: 'DNSEndpoint',
      metadata: { name: 'forge', namespace: 'b', labels: { attack: 'forge' } },
      spec: {
        endpoints: [
          {
            // Overwriting shop's ownership record would make b the owner of app.shop.example.com.
            dnsName: '_dnsop-a.app.shop.example.com',
            recordType: 'TXT',
            targets: ['heritage=dnsop,dnsop/owner=b/forge'],
          },
          {
            // An external-dns ownership record: bait for a later adoption of shop's name.
            dnsName: 'a-new.shop.example.com',
            recordType: 'TXT',
            targets: ['heritage=external-dns,external-dns/owner=default'],
          },
        ],
      },
    } as KubernetesObject);
    await as('b').create(
      policy('b', 'forge', {
        sources: [{ kind: 'DNSEndpoint', selector: { matchLabels: { attack: 'forge' } } }],
      }),
    );
    await expectDiagnostic('forge', 'ReservedName', '_dnsop-a.app.shop.example.com TXT');
    await expectDiagnostic('forge', 'ReservedName', 'a-new.shop.example.com TXT');
    await settle();
    await expectShopZoneUnchanged();
    await remove('b', 'dnspolicies', 'forge');
  });

  it("namespaceSelector does not reach shop's Services", async () => {
    await lbService('shop', 'quiet', 'quiet.shop.example.com', { ip: '192.0.2.30' }, 'unpublished');
    await as('b').create(
      policy('b', 'reach', {
        sources: [{ kind: 'Service', selector: { matchLabels: { attack: 'unpublished' } } }],
        namespaceSelector: {},
      }),
    );
    await expectDiagnostic('reach', 'NamespaceSelectorIgnored', '--trusted-namespaces');
    await settle();
    await expectShopZoneUnchanged();
    await remove('b', 'dnspolicies', 'reach');
  });

  it("adopting external-dns's records of shop is refused without domain grants", async () => {
    await lbService('b', 'adopt', 'legacy.shop.example.com', { ip: '198.51.100.77' });
    await as('b').create(policy('b', 'adopt', { adopt: { externalDNS: { ownerId: 'default' } } }));
    await expectForbidden(
      'dnspolicies',
      'adopt',
      'spec.adopt.externalDNS',
      '--require-domain-grants',
    );
    await settle();
    await expectShopZoneUnchanged();
    await remove('b', 'dnspolicies', 'adopt');
  });
});

describe('DNSProbe from tenant b', () => {
  function probe(name: string, spec: Record<string, unknown>): KubernetesObject {
    return {
      apiVersion: DNSOP,
      kind: 'DNSProbe',
      metadata: { name, namespace: 'b' },
      spec: {
        queries: [{ name: 'kubernetes.default.svc.cluster.local' }],
        interval: '100ms',
        timeout: '100ms',
        remediation: { mode: 'DryRun' },
        ...spec,
      },
    } as KubernetesObject;
  }

  beforeAll(async () => {
    // b's own DNS "Service", selectorless, with a hand-written EndpointSlice to nobody's pod.
    await as('b').create({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'dns', namespace: 'b' },
      spec: { clusterIP: 'None', ports: [{ name: 'dns', port: dns.port, protocol: 'UDP' }] },
    } as KubernetesObject);
    await as('b').create(endpointSlice('b', 'dns'));
  });

  it.each<[string, Record<string, unknown>, string]>([
    [
      'kube-dns in kube-system',
      { server: { serviceRef: { name: 'kube-dns', namespace: 'kube-system' } } },
      'spec.server.serviceRef.namespace',
    ],
    ['fixed addresses', { server: { addresses: ['127.0.0.1'] } }, 'spec.server.addresses'],
    [
      'a readiness override',
      { server: { serviceRef: { name: 'dns' } }, readiness: { port: 9, path: '/' } },
      'spec.readiness',
    ],
    [
      'remediation Evict',
      { server: { serviceRef: { name: 'dns' } }, remediation: { mode: 'Evict' } },
      'spec.remediation.mode',
    ],
  ])('%s is refused and sends no probe', async (name, spec, field) => {
    const id = name.replace(/[^a-z]+/gi, '-').toLowerCase();
    const server = spec.server as Record<string, unknown>;
    const before = probeTraffic();
    await as('b').create(probe(id, { ...spec, server: { ...server, port: dns.port } }));
    await expectForbidden('dnsprobes', id, field);
    await settle();
    expect(probeTraffic()).toBe(before);
    await remove('b', 'dnsprobes', id);
  });

  it('an EndpointSlice aiming its own Service at an IP that is no pod of b gets no probe', async () => {
    await as('b').create(
      probe('slice', { server: { serviceRef: { name: 'dns' }, port: dns.port } }),
    );
    const healthy = await waitFor('slice: TargetNotAPod', async () => {
      const c = (await statusOf('dnsprobes', 'b', 'slice')).conditions?.find(
        (x) => x.type === 'Healthy',
      );
      return c?.message?.includes(`not probing ${STRAY_IP}`) ? c : undefined;
    });
    expect(healthy.reason).toBe('TargetNotAPod');
    await settle();
    expect((await statusOf('dnsprobes', 'b', 'slice')).targets ?? []).toEqual([]);
    await remove('b', 'dnsprobes', 'slice');
  });
});

describe('with --require-domain-grants', () => {
  const annotate = async (ns: Tenant, domains: string): Promise<void> => {
    await kubeRequest(plane.kubeConfig, {
      method: 'PATCH',
      path: `/api/v1/namespaces/${ns}`,
      contentType: MERGE_PATCH,
      body: { metadata: { annotations: { 'dnsop.io/allowed-domains': domains } } },
    });
  };

  beforeAll(async () => {
    await annotate('shop', 'shop.example.com');
    await annotate('b', 'b.example.com');
    await runOperator({ requireDomainGrants: 'true' });
  });

  it("names outside b's grant and under shop's are not published; a new grant re-plans at once", async () => {
    await lbService('b', 'squat', 'new.shop.example.com', { ip: '198.51.100.88' }, 'grants');
    await lbService('b', 'own', 'ok.b.example.com', { ip: '198.51.100.2' }, 'grants');
    await lbService('b', 'free', 'free.example.com', { ip: '198.51.100.3' }, 'grants');
    await as('b').create(policy('b', 'grants'));
    await waitFor('own name published', async () =>
      (await zone()).includes('ok.b.example.com A 198.51.100.2') ? true : undefined,
    );
    await expectDiagnostic('grants', 'DomainNotGranted', 'new.shop.example.com');
    await expectDiagnostic('grants', 'DomainNotGranted', 'free.example.com');
    // A cluster admin widens b's grant to the whole zone: free.example.com is published at once
    // (the policy's interval is an hour), new.shop.example.com stays shop's.
    await annotate('b', 'b.example.com,example.com');
    await waitFor(
      'free.example.com published after the grant changed',
      async () => ((await zone()).includes('free.example.com A 198.51.100.3') ? true : undefined),
      { timeoutMs: 15_000 },
    );
    await expectDiagnostic(
      'grants',
      'DomainNotGranted',
      'shop.example.com is granted to namespace "shop"',
    );
    expect((await zone()).some((l) => l.startsWith('new.shop.example.com'))).toBe(false);
    await remove('b', 'dnspolicies', 'grants');
    expect((await zone()).filter((l) => l.includes('free.example.com'))).toEqual([]);
  });
});

describe('after every attack', () => {
  it("shop's records are exactly as shop published them (b's own records went with its policy)", async () => {
    await expectShopZoneUnchanged();
  });

  it('nothing in kube-system changed', async () => {
    expect(await kubeSystemVersions()).toEqual(kubeSystem);
  });

  it('no tenant request ever reached the captured endpoint', () => {
    expect(capture.requests).toEqual([]);
  });
});
