/**
 * The source kinds beyond Service/Pod/HTTPRoute against a real kube-apiserver, with the
 * in-memory provider injected so the test reads the "zone" directly. Every policy resyncs only
 * once an hour: each change below reaches the zone through fan-out (watch event -> policy key).
 *  (a) an Ingress on GKE (seeds/004): its load balancer IP is an A record, an ingress class the
 *      policy does not list is left alone, and a status change moves the record;
 *  (b) GRPCRoute, TLSRoute, TCPRoute and UDPRoute on one Gateway (experimental CRDs), and a
 *      TCPRoute's hostname annotation edited;
 *  (c) external-dns's DNSEndpoint published as written, and removed with it;
 *  (d) a NodePort Service: node addresses plus SRV, following a node's address change;
 *  (e) three Services behind one name: one record set naming all three, and the record and its
 *      ownership TXT follow when one goes; a Service for another controller is skipped.
 */
import { join } from 'node:path';
import {
  KubernetesObjectApi,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';
import type { DNSPolicy } from '../../operator/api/types';
import { InMemoryDnsStore } from '../../operator/records/providers/inmemory';
import { DNSPolicyController } from '../../operator/records/reconciler';
import { silentLogger } from '../../operator/runtime/logger';
import type { DnsopOperator } from '../../operator/runtime/operator';
import { applyObjects, readManifests, readObject } from '../envtest/apply';
import { ControlPlane } from '../envtest/control-plane';
import { waitFor } from '../envtest/wait';
import {
  mergePatch,
  namespaceObjects,
  patchStatus,
  type ObjectPath,
} from '../support/kube-objects';
import { startOperator } from './operator-fixture';

jest.setTimeout(180_000);

const ROOT = join(__dirname, '..', '..');
const GW_GROUP = 'gateway.networking.k8s.io';
const NAMESPACES = ['web', 'games', 'infra', 'ext', 'np', 'merge'];
let plane: ControlPlane;
let kc: KubeConfig;
let api: KubernetesObjectApi;
let operator: DnsopOperator;
const store = new InMemoryDnsStore();

/** "name TYPE target,target" for every record of a zone (ownership TXT included). */
const zone = (name: string): string[] =>
  store
    .records(name)
    .map((r) => `${r.name} ${r.type} ${[...r.targets].sort().join(',')}`)
    .sort();

async function zoneIs(name: string, expected: string[], what: string): Promise<void> {
  await waitFor(what, () =>
    JSON.stringify(zone(name).filter((r) => !r.startsWith('_dnsop-'))) ===
    JSON.stringify([...expected].sort())
      ? true
      : undefined,
  ).catch((err: unknown) => {
    throw new Error(`${what}: zone ${name} holds ${JSON.stringify(zone(name))}`, { cause: err });
  });
}

function dnsPolicy(
  namespace: string,
  zoneName: string,
  spec: Record<string, unknown>,
): KubernetesObject {
  return {
    apiVersion: 'dnsop.io/v1alpha1',
    kind: 'DNSPolicy',
    metadata: { name: 'public', namespace },
    spec: {
      domains: ['example.com'],
      provider: { inMemory: { zone: zoneName } },
      interval: '1h',
      ...spec,
    },
  } as KubernetesObject;
}

async function diagnostics(namespace: string): Promise<string[]> {
  const obj = await readObject<DNSPolicy & KubernetesObject>(kc, {
    apiVersion: 'dnsop.io/v1alpha1',
    kind: 'DNSPolicy',
    namespace,
    name: 'public',
  });
  return (obj?.status?.diagnostics ?? []).map((d) => `${d.object} ${d.reason}`);
}

async function diagnosticShown(namespace: string, expected: string): Promise<void> {
  await waitFor(`${namespace}: diagnostic ${expected}`, async () =>
    (await diagnostics(namespace)).includes(expected) ? true : undefined,
  );
}

const at = (apiVersion: string, plural: string, namespace: string, name: string): ObjectPath => ({
  apiVersion,
  plural,
  namespace,
  name,
});

beforeAll(async () => {
  plane = await ControlPlane.start();
  kc = plane.kubeConfig;
  api = KubernetesObjectApi.makeApiClient(kc);
  const crds = readManifests(
    join(ROOT, 'crds'),
    ...plane.tools.gatewayApiCrdFiles,
    ...plane.tools.gatewayApiExperimentalCrdFiles,
    ...plane.tools.externalDnsCrdFiles,
  ).filter((o) => o.kind === 'CustomResourceDefinition');
  await applyObjects(kc, [...crds, ...namespaceObjects(NAMESPACES)] as KubernetesObject[]);
  const controller = new DNSPolicyController({ inMemoryStore: store, syncSpacingMs: 200 });
  ({ operator } = await startOperator(kc, [controller], {
    config: { cacheResync: '10m' },
    logger: silentLogger(),
  }));
});

afterAll(async () => {
  await operator?.shutdown();
  await plane?.stop();
});

function ingress(name: string, className: string, host: string): KubernetesObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: {
      name,
      namespace: 'web',
      annotations: { 'external-dns.alpha.kubernetes.io/alias': 'true' },
    },
    spec: {
      ingressClassName: className,
      rules: [
        {
          host,
          http: {
            paths: [
              {
                path: '/',
                pathType: 'Prefix',
                backend: { service: { name, port: { number: 80 } } },
              },
            ],
          },
        },
      ],
    },
  } as KubernetesObject;
}

it('(a) an Ingress on GKE: its IP is an A record; another class is left alone; status changes move it', async () => {
  await api.create(
    dnsPolicy('web', 'a', { sources: [{ kind: 'Ingress', ingressClassNames: ['gce'] }] }),
  );
  await api.create(ingress('storefront', 'gce', 'shop.example.com'));
  await api.create(ingress('admin', 'nginx', 'admin.example.com'));
  await diagnosticShown('web', 'Ingress/web/storefront NoLoadBalancerAddress');

  const lb = (ip: string): { loadBalancer: { ingress: { ip: string }[] } } => ({
    loadBalancer: { ingress: [{ ip }] },
  });
  await patchStatus(kc, at('networking.k8s.io/v1', 'ingresses', 'web', 'admin'), lb('10.20.0.5'));
  await patchStatus(
    kc,
    at('networking.k8s.io/v1', 'ingresses', 'web', 'storefront'),
    lb('34.120.1.2'),
  );
  await zoneIs('a', ['shop.example.com A 34.120.1.2'], 'GKE Ingress IP published');
  await patchStatus(
    kc,
    at('networking.k8s.io/v1', 'ingresses', 'web', 'storefront'),
    lb('34.120.9.9'),
  );
  await zoneIs('a', ['shop.example.com A 34.120.9.9'], 'status change followed');
  expect(zone('a')).toContain(
    '_dnsop-a.shop.example.com TXT "heritage=dnsop,dnsop/owner=web/public,dnsop/resource=Ingress/web/storefront"',
  );
});

function listener(name: string, protocol: string, port: number, extra = {}): unknown {
  return { name, protocol, port, allowedRoutes: { namespaces: { from: 'All' } }, ...extra };
}

function gatewayRoute(
  kind: string,
  version: string,
  name: string,
  sectionName: string,
  extra: { hostnames?: string[]; annotations?: Record<string, string> },
): KubernetesObject {
  return {
    apiVersion: `${GW_GROUP}/${version}`,
    kind,
    metadata: { name, namespace: 'games', annotations: extra.annotations ?? {} },
    spec: {
      parentRefs: [{ name: 'edge', namespace: 'infra', sectionName }],
      ...(extra.hostnames ? { hostnames: extra.hostnames } : {}),
      rules: [{ backendRefs: [{ name: 'backend', port: 8080 }] }],
    },
  } as KubernetesObject;
}

async function accept(plural: string, version: string, name: string, sectionName: string) {
  await patchStatus(kc, at(`${GW_GROUP}/${version}`, plural, 'games', name), {
    parents: [
      {
        parentRef: {
          group: GW_GROUP,
          kind: 'Gateway',
          name: 'edge',
          namespace: 'infra',
          sectionName,
        },
        controllerName: 'example.com/gateway-controller',
        conditions: [
          {
            type: 'Accepted',
            status: 'True',
            reason: 'Accepted',
            message: 'ok',
            observedGeneration: 1,
            lastTransitionTime: new Date().toISOString(),
          },
        ],
      },
    ],
  });
}

it('(b) GRPCRoute, TLSRoute, TCPRoute and UDPRoute publish through their listeners; an annotation edit moves a name', async () => {
  await api.create(
    dnsPolicy('games', 'b', {
      sources: [
        { kind: 'GRPCRoute' },
        { kind: 'TLSRoute' },
        { kind: 'TCPRoute' },
        { kind: 'UDPRoute' },
      ],
    }),
  );
  await api.create({
    apiVersion: `${GW_GROUP}/v1`,
    kind: 'Gateway',
    metadata: { name: 'edge', namespace: 'infra' },
    spec: {
      gatewayClassName: 'example',
      listeners: [
        listener('https', 'HTTPS', 443, {
          hostname: '*.example.com',
          tls: { mode: 'Terminate', certificateRefs: [{ name: 'cert' }] },
        }),
        listener('tls', 'TLS', 8443, { tls: { mode: 'Passthrough' } }),
        listener('tcp', 'TCP', 5432),
        listener('udp', 'UDP', 53),
      ],
    },
  } as KubernetesObject);
  await patchStatus(kc, at(`${GW_GROUP}/v1`, 'gateways', 'infra', 'edge'), {
    addresses: [{ type: 'IPAddress', value: '203.0.113.50' }],
  });
  const hostname = (name: string): Record<string, string> => ({
    'external-dns.alpha.kubernetes.io/hostname': name,
  });
  const routes: [string, string, string, string, Parameters<typeof gatewayRoute>[4]][] = [
    ['GRPCRoute', 'grpcroutes', 'v1', 'https', { hostnames: ['grpc.example.com'] }],
    ['TLSRoute', 'tlsroutes', 'v1alpha2', 'tls', { hostnames: ['tls.example.com'] }],
    ['TCPRoute', 'tcproutes', 'v1alpha2', 'tcp', { annotations: hostname('db.example.com') }],
    ['UDPRoute', 'udproutes', 'v1alpha2', 'udp', { annotations: hostname('dns.example.com') }],
  ];
  for (const [kind, plural, version, section, extra] of routes) {
    const name = kind.toLowerCase();
    await api.create(gatewayRoute(kind, version, name, section, extra));
    await accept(plural, version, name, section);
  }
  await zoneIs(
    'b',
    [
      'db.example.com A 203.0.113.50',
      'dns.example.com A 203.0.113.50',
      'grpc.example.com A 203.0.113.50',
      'tls.example.com A 203.0.113.50',
    ],
    'one record per route kind',
  );

  // An annotation is not spec: the generation (and the accepted status) stays current.
  await mergePatch(kc, at(`${GW_GROUP}/v1alpha2`, 'tcproutes', 'games', 'tcproute'), {
    metadata: { annotations: hostname('db2.example.com') },
  });
  await zoneIs(
    'b',
    [
      'db2.example.com A 203.0.113.50',
      'dns.example.com A 203.0.113.50',
      'grpc.example.com A 203.0.113.50',
      'tls.example.com A 203.0.113.50',
    ],
    'TCPRoute name moved',
  );
});

it('(c) a DNSEndpoint is published as written, and its records go with it', async () => {
  await api.create(
    dnsPolicy('ext', 'c', { sources: [{ kind: 'DNSEndpoint' }], maxDeletePercent: 100 }),
  );
  const endpoint = {
    apiVersion: 'externaldns.k8s.io/v1alpha1',
    kind: 'DNSEndpoint',
    metadata: { name: 'extras', namespace: 'ext' },
    spec: {
      endpoints: [
        { dnsName: 'api.example.com', recordType: 'A', targets: ['192.0.2.10', '192.0.2.11'] },
        { dnsName: 'status.example.com', recordType: 'CNAME', targets: ['status.example.net'] },
        { dnsName: 'example.com', recordType: 'TXT', targets: ['v=spf1 -all'], recordTTL: 60 },
        { dnsName: 'elsewhere.example.org', recordType: 'A', targets: ['192.0.2.12'] },
      ],
    },
  } as KubernetesObject;
  await api.create(endpoint);
  await zoneIs(
    'c',
    [
      'api.example.com A 192.0.2.10,192.0.2.11',
      'example.com TXT "v=spf1 -all"',
      'status.example.com CNAME status.example.net',
    ],
    'DNSEndpoint records published',
  );
  await diagnosticShown('ext', 'DNSEndpoint/ext/extras OutsideDomains');
  await api.delete(endpoint);
  await zoneIs('c', [], 'DNSEndpoint records removed with it');
});

async function node(name: string, externalIP: string): Promise<void> {
  await api.create({ apiVersion: 'v1', kind: 'Node', metadata: { name } });
  await patchStatus(kc, at('v1', 'nodes', '', name), {
    addresses: [
      { type: 'InternalIP', address: `10.0.0.${name.slice(-1)}` },
      { type: 'ExternalIP', address: externalIP },
    ],
  });
}

it('(d) a NodePort Service publishes its nodes and an SRV record, and follows a node address change', async () => {
  await api.create(dnsPolicy('np', 'd', { sources: [{ kind: 'Service' }] }));
  await node('sources-node-1', '198.51.100.1');
  await node('sources-node-2', '198.51.100.2');
  await api.create({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: 'match',
      namespace: 'np',
      annotations: { 'external-dns.alpha.kubernetes.io/hostname': 'match.example.com' },
    },
    spec: {
      type: 'NodePort',
      selector: { app: 'match' },
      ports: [{ name: 'game', port: 7777, nodePort: 30777, protocol: 'UDP' }],
    },
  } as KubernetesObject);
  await zoneIs(
    'd',
    [
      '_game._udp.match.example.com SRV 0 50 30777 match.example.com.',
      'match.example.com A 198.51.100.1,198.51.100.2',
    ],
    'NodePort published',
  );
  await patchStatus(kc, at('v1', 'nodes', '', 'sources-node-2'), {
    addresses: [
      { type: 'InternalIP', address: '10.0.0.2' },
      { type: 'ExternalIP', address: '198.51.100.22' },
    ],
  });
  await zoneIs(
    'd',
    [
      '_game._udp.match.example.com SRV 0 50 30777 match.example.com.',
      'match.example.com A 198.51.100.1,198.51.100.22',
    ],
    'node address change followed',
  );
});

function lbService(name: string, annotations: Record<string, string>): KubernetesObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'merge', annotations },
    spec: { type: 'LoadBalancer', ports: [{ port: 443 }] },
  } as KubernetesObject;
}

it('(e) three Services behind one name share one record set; it follows when one goes', async () => {
  await api.create(dnsPolicy('merge', 'e', { sources: [{ kind: 'Service' }] }));
  const lobby = { 'external-dns.alpha.kubernetes.io/hostname': 'lobby.example.com' };
  for (const [i, name] of ['lobby-a', 'lobby-b', 'lobby-c'].entries()) {
    await api.create(lbService(name, lobby));
    await patchStatus(kc, at('v1', 'services', 'merge', name), {
      loadBalancer: { ingress: [{ ip: `1.2.3.${4 + i}` }] },
    });
  }
  await api.create(
    lbService('legacy', {
      ...lobby,
      'external-dns.alpha.kubernetes.io/controller': 'dns-controller',
    }),
  );
  await zoneIs('e', ['lobby.example.com A 1.2.3.4,1.2.3.5,1.2.3.6'], 'one merged record set');
  expect(zone('e')).toContain(
    '_dnsop-a.lobby.example.com TXT "heritage=dnsop,dnsop/owner=merge/public,dnsop/resource=Service/merge/lobby-a;Service/merge/lobby-b;Service/merge/lobby-c"',
  );
  await diagnosticShown('merge', 'Service/merge/legacy OtherController');

  await api.delete(lbService('lobby-b', lobby));
  await zoneIs('e', ['lobby.example.com A 1.2.3.4,1.2.3.6'], 'a Service gone, its target gone');
  expect(zone('e')).toContain(
    '_dnsop-a.lobby.example.com TXT "heritage=dnsop,dnsop/owner=merge/public,dnsop/resource=Service/merge/lobby-a;Service/merge/lobby-c"',
  );
});
