/**
 * Cases taken from external-dns's own table tests (kubernetes-sigs/external-dns, source/*_test.go,
 * read at v0.20 / master 2026-08), rewritten as the Kubernetes manifests a user would apply, each
 * with the records external-dns's test expects. Where dnsop deliberately differs, `dnsop` holds
 * what dnsop publishes instead and `why` says why; those are counted apart from the parity cases.
 *
 * Translation rules (not differences): external-dns's flags become policy fields
 * (--publish-internal-services -> publishInternalServices, a namespace filter -> the policy's
 * namespace or namespaceSelector, a label filter -> sources[].selector); targets compare as DNS
 * does (IPv6 case, a CNAME target's trailing dot, TXT data in zone-file quotes); a TTL is compared
 * only where the external-dns test sets one; FQDN-template parts of a test are left out.
 */
import { isIP } from 'node:net';

/** [name, type, targets, ttl?] */
export type Rec = readonly [string, string, readonly string[], number?];

export interface ParityCase {
  /** "<external-dns test file>: <test title>" */
  readonly from: string;
  /** Objects besides the DNSPolicy (Namespaces are added for every namespace used). */
  readonly objects: readonly Record<string, unknown>[];
  /** Extra DNSPolicy spec (sources default to every source kind among the objects). */
  readonly spec?: Record<string, unknown>;
  /** Extra `dnsop plan` flags. */
  readonly flags?: readonly string[];
  /** The DNSPolicy's namespace (default: the first object's). */
  readonly namespace?: string;
  /** What external-dns's test expects. */
  readonly externalDns: readonly Rec[];
  /** Set where dnsop deliberately differs: what it publishes, and why. */
  readonly dnsop?: { readonly records: readonly Rec[]; readonly why: string };
  /** A diagnostic reason dnsop must report (explains fewer records). */
  readonly diagnostic?: string;
}

type Ann = Record<string, string>;
type Obj = Record<string, unknown>;

/** external-dns's annotation prefix today (GA) and the one most clusters still carry. */
const GA = 'external-dns.kubernetes.io/';
const ALPHA = 'external-dns.alpha.kubernetes.io/';
const NS = 'testing';

// ---- builders: the fields external-dns's fixtures set, as manifests ---------------------------

function svc(
  name: string,
  o: {
    ns?: string;
    type?: string;
    ann?: Ann;
    labels?: Ann;
    clusterIP?: string;
    externalIPs?: string[];
    externalName?: string;
    lbs?: string[];
    nodePort?: number;
    selector?: Ann;
    local?: boolean;
    publishNotReady?: boolean;
  } = {},
): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: o.ns ?? NS, annotations: o.ann ?? {}, labels: o.labels ?? {} },
    spec: {
      type: o.type ?? 'LoadBalancer',
      ...(o.clusterIP !== undefined ? { clusterIP: o.clusterIP } : {}),
      ...(o.externalIPs ? { externalIPs: o.externalIPs } : {}),
      ...(o.externalName ? { externalName: o.externalName } : {}),
      ...(o.selector ? { selector: o.selector } : {}),
      ...(o.local ? { externalTrafficPolicy: 'Local' } : {}),
      ...(o.publishNotReady ? { publishNotReadyAddresses: true } : {}),
      ports: [{ port: 80, ...(o.nodePort ? { nodePort: o.nodePort } : {}) }],
    },
    status: {
      loadBalancer: {
        ingress: (o.lbs ?? []).map((lb) => (isIP(lb) ? { ip: lb } : { hostname: lb })),
      },
    },
  };
}

function node(name: string, addresses: [string, string][], unschedulable = false): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name },
    spec: unschedulable ? { unschedulable: true } : {},
    status: { addresses: addresses.map(([type, address]) => ({ type, address })) },
  };
}

/** Nodes of TestServiceSourceNodePortServices: external and internal, IPv4 and IPv6. */
const dualNodes = [
  node('node1', [
    ['ExternalIP', '54.10.11.1'],
    ['InternalIP', '10.0.1.1'],
    ['ExternalIP', '2001:DB8::1'],
    ['InternalIP', '2001:DB8::2'],
  ]),
  node('node2', [
    ['ExternalIP', '54.10.11.2'],
    ['InternalIP', '10.0.1.2'],
    ['ExternalIP', '2001:DB8::3'],
    ['InternalIP', '2001:DB8::4'],
  ]),
];

function pod(
  name: string,
  o: {
    ns?: string;
    labels?: Ann;
    ip?: string;
    ready?: boolean;
    hostname?: string;
    nodeName?: string;
    terminating?: boolean;
    ann?: Ann;
  },
): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: o.ns ?? NS,
      labels: o.labels ?? {},
      annotations: o.ann ?? {},
      ...(o.terminating ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
    },
    spec: {
      containers: [{ name: 'c', image: 'c' }],
      ...(o.hostname ? { hostname: o.hostname } : {}),
      ...(o.nodeName ? { nodeName: o.nodeName } : {}),
    },
    status: {
      phase: 'Running',
      ...(o.ip ? { podIP: o.ip, podIPs: [{ ip: o.ip }] } : {}),
      conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }],
    },
  };
}

/** A headless Service selecting component=foo and its pods (TestHeadlessServices). */
function headless(
  ann: Ann,
  pods: { ip: string; hostname?: string; ready?: boolean; ann?: Ann }[],
  publishNotReady = false,
): Obj[] {
  return [
    svc('foo', {
      type: 'ClusterIP',
      clusterIP: 'None',
      ann,
      selector: { component: 'foo' },
      publishNotReady,
    }),
    ...pods.map((p, i) =>
      pod(`foo-${i}`, {
        labels: { component: 'foo' },
        ip: p.ip,
        ...(p.hostname ? { hostname: p.hostname } : {}),
        ...(p.ready === false ? { ready: false } : {}),
        ...(p.ann ? { ann: p.ann } : {}),
      }),
    ),
  ];
}

function ing(
  name: string,
  o: {
    ns?: string;
    hosts?: string[];
    tls?: string[];
    lbs?: string[];
    ann?: Ann;
    className?: string;
  },
): Obj {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: o.ns ?? 'default', annotations: o.ann ?? {} },
    spec: {
      ...(o.className ? { ingressClassName: o.className } : {}),
      rules: (o.hosts ?? []).map((host) => (host === '' ? {} : { host })),
      ...(o.tls ? { tls: [{ hosts: o.tls }] } : {}),
    },
    status: {
      loadBalancer: {
        ingress: (o.lbs ?? []).map((lb) => (isIP(lb) ? { ip: lb } : { hostname: lb })),
      },
    },
  };
}

interface ListenerSpec {
  name?: string;
  protocol: string;
  hostname?: string;
  port?: number;
  from?: 'All' | 'Same';
}

function gw(
  name: string,
  listeners: ListenerSpec[],
  addresses: string[],
  o: { ns?: string; ann?: Ann } = {},
): Obj {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name, namespace: o.ns ?? 'default', annotations: o.ann ?? {} },
    spec: {
      gatewayClassName: 'test',
      listeners: listeners.map((l, i) => ({
        name: l.name ?? `l${i}`,
        port: l.port ?? 80,
        protocol: l.protocol,
        ...(l.hostname ? { hostname: l.hostname } : {}),
        ...(l.from ? { allowedRoutes: { namespaces: { from: l.from } } } : {}),
      })),
    },
    status: { addresses: addresses.map((value) => ({ type: 'IPAddress', value })) },
  };
}

interface Parent {
  name: string;
  ns?: string;
  sectionName?: string;
  port?: number;
}

/**
 * A route as external-dns's fixtures build it: its parents Accepted=True in status, with no
 * generation anywhere (the objects never met an API server).
 */
function route(
  kind: string,
  name: string,
  o: { ns?: string; hostnames?: string[]; parents?: Parent[]; ann?: Ann; statusParents?: Parent[] },
): Obj {
  const ref = (p: Parent): Obj => ({
    group: 'gateway.networking.k8s.io',
    kind: 'Gateway',
    name: p.name,
    namespace: p.ns ?? 'default',
    ...(p.sectionName ? { sectionName: p.sectionName } : {}),
    ...(p.port ? { port: p.port } : {}),
  });
  const parents = o.parents ?? [];
  return {
    apiVersion:
      kind === 'HTTPRoute' || kind === 'GRPCRoute'
        ? 'gateway.networking.k8s.io/v1'
        : 'gateway.networking.k8s.io/v1alpha2',
    kind,
    metadata: { name, namespace: o.ns ?? 'default', annotations: o.ann ?? {} },
    spec: {
      parentRefs: parents.map(ref),
      ...(o.hostnames ? { hostnames: o.hostnames } : {}),
    },
    status: {
      parents: (o.statusParents ?? parents).map((p) => ({
        parentRef: ref(p),
        controllerName: 'example.com/gateway',
        conditions: [
          {
            type: 'Accepted',
            status: 'True',
            reason: 'Accepted',
            message: '',
            lastTransitionTime: '2026-01-01T00:00:00Z',
          },
        ],
      })),
    },
  };
}

function dnsEndpoint(name: string, endpoints: Obj[], ns = 'foo'): Obj {
  return {
    apiVersion: 'externaldns.k8s.io/v1alpha1',
    kind: 'DNSEndpoint',
    metadata: { name, namespace: ns },
    spec: { endpoints },
  };
}

const H = `${GA}hostname`;
const HOST = (v: string): Ann => ({ [H]: v });
const http = (o: Partial<ListenerSpec> = {}): ListenerSpec => ({ protocol: 'HTTP', ...o });
const defaultGw = (...listeners: ListenerSpec[]): Obj =>
  gw('test', listeners.length > 0 ? listeners : [http()], ['1.2.3.4']);
const httpRoute = (name: string, hostnames: string[] | undefined, ann: Ann = {}): Obj =>
  route('HTTPRoute', name, {
    ...(hostnames ? { hostnames } : {}),
    parents: [{ name: 'test' }],
    ann,
  });

// ---- why dnsop differs, once each -------------------------------------------------------------

const MIXED =
  'a name cannot hold a CNAME and other records (RFC 1034 §3.6.2): dnsop publishes the addresses, drops the hostnames and says so (MixedTargets); external-dns emits both and the provider refuses or the resolver breaks';
const ONE_CNAME =
  'a CNAME has exactly one target: dnsop publishes the first and says so (MultipleCNAMETargets); external-dns emits a CNAME with two targets that no DNS server accepts';
const CONTROLLER =
  'the controller annotation names "dns-controller", external-dns\'s value: dnsop publishes it only when told that value is its own (--controller-name dns-controller), else OtherController';

// ---- the cases --------------------------------------------------------------------------------

const serviceCases: ParityCase[] = [
  {
    from: 'service_test.go: annotated services return an endpoint with target IP',
    objects: [svc('foo', { ann: HOST('foo.example.org.'), lbs: ['1.2.3.4'] })],
    externalDns: [['foo.example.org', 'A', ['1.2.3.4']]],
  },
  {
    from: 'service_test.go: no annotated services return no endpoints',
    objects: [svc('foo', { lbs: ['1.2.3.4'] })],
    externalDns: [],
  },
  {
    from: "service_test.go: annotated ClusterIp aren't processed without explicit authorization",
    objects: [
      svc('foo', { type: 'ClusterIP', clusterIP: '1.2.3.4', ann: HOST('foo.example.org.') }),
    ],
    externalDns: [],
    diagnostic: 'InternalService',
  },
  {
    from: 'service_test.go: annotated services with multiple hostnames return an endpoint with target IP',
    objects: [svc('foo', { ann: HOST('foo.example.org., bar.example.org.'), lbs: ['1.2.3.4'] })],
    externalDns: [
      ['foo.example.org', 'A', ['1.2.3.4']],
      ['bar.example.org', 'A', ['1.2.3.4']],
    ],
  },
  {
    from: 'service_test.go: annotated services with multiple hostnames and without trailing period return an endpoint with target IP',
    objects: [svc('foo', { ann: HOST('foo.example.org, bar.example.org'), lbs: ['1.2.3.4'] })],
    externalDns: [
      ['foo.example.org', 'A', ['1.2.3.4']],
      ['bar.example.org', 'A', ['1.2.3.4']],
    ],
  },
  {
    from: 'service_test.go: annotated services return an endpoint with target hostname',
    objects: [svc('foo', { ann: HOST('foo.example.org.'), lbs: ['lb.example.com'] })],
    externalDns: [['foo.example.org', 'CNAME', ['lb.example.com']]],
  },
  {
    from: 'service_test.go: annotated services can omit trailing dot',
    objects: [svc('foo', { ann: HOST('foo.example.org'), lbs: ['1.2.3.4', 'lb.example.com'] })],
    externalDns: [
      ['foo.example.org', 'A', ['1.2.3.4']],
      ['foo.example.org', 'CNAME', ['lb.example.com']],
    ],
    dnsop: { records: [['foo.example.org', 'A', ['1.2.3.4']]], why: MIXED },
  },
  {
    from: 'service_test.go: our controller type is kops dns controller (with --controller-name dns-controller)',
    objects: [
      svc('foo', {
        ann: { [`${GA}controller`]: 'dns-controller', [H]: 'foo.example.org.' },
        lbs: ['1.2.3.4'],
      }),
    ],
    flags: ['--controller-name', 'dns-controller'],
    externalDns: [['foo.example.org', 'A', ['1.2.3.4']]],
  },
  {
    from: 'service_test.go: our controller type is kops dns controller (no --controller-name)',
    objects: [
      svc('foo', {
        ann: { [`${GA}controller`]: 'dns-controller', [H]: 'foo.example.org.' },
        lbs: ['1.2.3.4'],
      }),
    ],
    externalDns: [['foo.example.org', 'A', ['1.2.3.4']]],
    dnsop: { records: [], why: CONTROLLER },
  },
  {
    from: 'service_test.go: different controller types are ignored even (with template specified)',
    objects: [
      svc('foo', {
        ann: { [`${GA}controller`]: 'some-other-tool', [H]: 'foo.example.org.' },
        lbs: ['1.2.3.4'],
      }),
    ],
    externalDns: [],
    diagnostic: 'OtherController',
  },
  {
    from: 'service_test.go: services are found in all namespaces',
    objects: [svc('foo', { ns: 'other-testing', ann: HOST('foo.example.org.'), lbs: ['1.2.3.4'] })],
    spec: { namespaceSelector: {} },
    externalDns: [['foo.example.org', 'A', ['1.2.3.4']]],
  },
  {
    from: 'service_test.go: no external entrypoints return no endpoints',
    objects: [svc('foo', { ann: HOST('foo.example.org.') })],
    externalDns: [],
    diagnostic: 'LoadBalancerPending',
  },
  {
    from: 'service_test.go: annotated service with externalIPs returns a single endpoint with multiple targets',
    objects: [
      svc('foo', {
        ann: HOST('foo.example.org.'),
        externalIPs: ['10.2.3.4', '11.2.3.4'],
        lbs: ['1.2.3.4'],
      }),
    ],
    externalDns: [['foo.example.org', 'A', ['10.2.3.4', '11.2.3.4']]],
  },
  {
    from: 'service_test.go: multiple external entrypoints return a single endpoint with multiple targets',
    objects: [svc('foo', { ann: HOST('foo.example.org.'), lbs: ['1.2.3.4', '8.8.8.8'] })],
    externalDns: [['foo.example.org', 'A', ['1.2.3.4', '8.8.8.8']]],
  },
  {
    from: 'service_test.go: services annotated with legacy mate annotations are ignored in default mode',
    objects: [svc('foo', { ann: { 'zalando.org/dnsname': 'foo.example.org.' }, lbs: ['1.2.3.4'] })],
    externalDns: [],
  },
  {
    from: 'service_test.go: ttl annotated and is valid should set Record.TTL',
    objects: [
      svc('foo', { ann: { [H]: 'foo.example.org.', [`${GA}ttl`]: '10' }, lbs: ['1.2.3.4'] }),
    ],
    externalDns: [['foo.example.org', 'A', ['1.2.3.4'], 10]],
  },
  {
    from: 'service_test.go: ttl annotated (in duration format) and is valid should set Record.TTL',
    objects: [
      svc('foo', { ann: { [H]: 'foo.example.org.', [`${GA}ttl`]: '1m' }, lbs: ['1.2.3.4'] }),
    ],
    externalDns: [['foo.example.org', 'A', ['1.2.3.4'], 60]],
  },
  {
    from: 'service_test.go: ttl annotated but invalid should have RecordTTL.IsConfigured set to false',
    objects: [
      svc('foo', { ann: { [H]: 'foo.example.org.', [`${GA}ttl`]: 'foo' }, lbs: ['1.2.3.4'] }),
    ],
    externalDns: [['foo.example.org', 'A', ['1.2.3.4'], 300]],
    diagnostic: 'InvalidAnnotation',
  },
  {
    from: 'service_test.go: Negative ttl is not valid',
    objects: [
      svc('foo', { ann: { [H]: 'foo.example.org.', [`${GA}ttl`]: '-10' }, lbs: ['1.2.3.4'] }),
    ],
    externalDns: [['foo.example.org', 'A', ['1.2.3.4'], 300]],
    diagnostic: 'InvalidAnnotation',
  },
  {
    from: 'service_test.go: internal-host annotated and host annotated clusterip services return an endpoint with Cluster IP',
    objects: [
      svc('foo', {
        type: 'ClusterIP',
        clusterIP: '1.1.1.1',
        ann: { [H]: 'foo.example.org.', [`${GA}internal-hostname`]: 'foo.internal.example.org.' },
      }),
    ],
    externalDns: [['foo.internal.example.org', 'A', ['1.1.1.1']]],
  },
  {
    from: 'service_test.go: internal-host annotated loadbalancer services return an endpoint with Cluster IP',
    objects: [
      svc('foo', {
        clusterIP: '1.1.1.1',
        ann: { [`${GA}internal-hostname`]: 'foo.internal.example.org.' },
        lbs: ['1.2.3.4'],
      }),
    ],
    externalDns: [['foo.internal.example.org', 'A', ['1.1.1.1']]],
  },
  {
    from: 'service_test.go: internal-host annotated and host annotated loadbalancer services return an endpoint with Cluster IP and an endpoint with lb IP',
    objects: [
      svc('foo', {
        clusterIP: '1.1.1.1',
        ann: { [H]: 'foo.example.org.', [`${GA}internal-hostname`]: 'foo.internal.example.org.' },
        lbs: ['1.2.3.4'],
      }),
    ],
    externalDns: [
      ['foo.internal.example.org', 'A', ['1.1.1.1']],
      ['foo.example.org', 'A', ['1.2.3.4']],
    ],
  },
  {
    from: 'service_test.go: service with matching labels and hostname annotation should be included',
    objects: [
      svc('foo', {
        labels: { app: 'web-external' },
        ann: HOST('annotation.bar.example.com'),
        lbs: ['1.2.3.4'],
      }),
    ],
    spec: { sources: [{ kind: 'Service', selector: { matchLabels: { app: 'web-external' } } }] },
    externalDns: [['annotation.bar.example.com', 'A', ['1.2.3.4']]],
  },
  {
    from: 'service_test.go: service without matching labels and hostname annotation should be excluded',
    objects: [
      svc('foo', {
        labels: { app: 'web-internal' },
        ann: HOST('annotation.bar.example.com'),
        lbs: ['1.2.3.4'],
      }),
    ],
    spec: { sources: [{ kind: 'Service', selector: { matchLabels: { app: 'web-external' } } }] },
    externalDns: [],
  },
  {
    from: 'service_test.go: dual-stack load-balancer service gets both addresses',
    objects: [svc('foobar', { ann: HOST('foobar.example.org'), lbs: ['1.1.1.1', '2001:db8::1'] })],
    externalDns: [
      ['foobar.example.org', 'A', ['1.1.1.1']],
      ['foobar.example.org', 'AAAA', ['2001:db8::1']],
    ],
  },
  {
    from: 'service_test.go: IPv6-only load-balancer service gets IPv6 endpoint',
    objects: [svc('foobar-v6', { ann: HOST('foobar-v6.example.org'), lbs: ['2001:db8::2'] })],
    externalDns: [['foobar-v6.example.org', 'AAAA', ['2001:db8::2']]],
  },
  {
    from: 'service_test.go: TestMultipleServicesPointingToSameLoadBalancer',
    objects: [
      svc('istio-ingressgateway', {
        ns: 'default',
        ann: HOST('example.org'),
        lbs: ['34.66.66.77'],
      }),
      svc('istio-ingressgatewayudp', {
        ns: 'default',
        ann: HOST('example.org'),
        lbs: ['34.66.66.77'],
      }),
    ],
    externalDns: [['example.org', 'A', ['34.66.66.77']]],
  },
];

const CLUSTER_IP = { publishInternalServices: true };
const clusterIpCases: ParityCase[] = [
  {
    from: 'service_test.go (TestClusterIpServices): hostname annotated ClusterIp services return an endpoint with Cluster IP',
    objects: [
      svc('foo', { type: 'ClusterIP', clusterIP: '1.2.3.4', ann: HOST('foo.example.org.') }),
    ],
    spec: CLUSTER_IP,
    externalDns: [['foo.example.org', 'A', ['1.2.3.4']]],
  },
  {
    from: 'service_test.go (TestClusterIpServices): target annotated ClusterIp services return an endpoint with the specified A',
    objects: [
      svc('foo', {
        type: 'ClusterIP',
        clusterIP: '1.2.3.4',
        ann: { [H]: 'foo.example.org.', [`${GA}target`]: '4.3.2.1' },
      }),
    ],
    spec: CLUSTER_IP,
    externalDns: [['foo.example.org', 'A', ['4.3.2.1']]],
  },
  {
    from: 'service_test.go (TestClusterIpServices): target annotated ClusterIp services return an endpoint with the specified CNAME',
    objects: [
      svc('foo', {
        type: 'ClusterIP',
        clusterIP: '1.2.3.4',
        ann: { [H]: 'foo.example.org.', [`${GA}target`]: 'bar.example.org.' },
      }),
    ],
    spec: CLUSTER_IP,
    externalDns: [['foo.example.org', 'CNAME', ['bar.example.org']]],
  },
  {
    from: 'service_test.go (TestClusterIpServices): target annotated ClusterIp services return an endpoint with the specified AAAA',
    objects: [
      svc('foo', {
        type: 'ClusterIP',
        clusterIP: '1.2.3.4',
        ann: { [H]: 'foo.example.org.', [`${GA}target`]: '2001:DB8::1' },
      }),
    ],
    spec: CLUSTER_IP,
    externalDns: [['foo.example.org', 'AAAA', ['2001:DB8::1']]],
  },
  {
    from: 'service_test.go (TestClusterIpServices): multiple target annotated ClusterIp services return an endpoint with the specified CNAMES',
    objects: [
      svc('foo', {
        type: 'ClusterIP',
        clusterIP: '1.2.3.4',
        ann: { [H]: 'foo.example.org.', [`${GA}target`]: 'bar.example.org.,baz.example.org.' },
      }),
    ],
    spec: CLUSTER_IP,
    externalDns: [['foo.example.org', 'CNAME', ['bar.example.org', 'baz.example.org']]],
    dnsop: { records: [['foo.example.org', 'CNAME', ['bar.example.org']]], why: ONE_CNAME },
  },
  {
    from: 'service_test.go (TestClusterIpServices): multiple target annotated ClusterIp services return two endpoints with the specified CNAMES and AAAA',
    objects: [
      svc('foo', {
        type: 'ClusterIP',
        clusterIP: '1.2.3.4',
        ann: {
          [H]: 'foo.example.org.',
          [`${GA}target`]: 'bar.example.org.,baz.example.org.,2001:DB8::1',
        },
      }),
    ],
    spec: CLUSTER_IP,
    externalDns: [
      ['foo.example.org', 'CNAME', ['bar.example.org', 'baz.example.org']],
      ['foo.example.org', 'AAAA', ['2001:DB8::1']],
    ],
    dnsop: { records: [['foo.example.org', 'AAAA', ['2001:DB8::1']]], why: MIXED },
  },
  {
    from: 'service_test.go (TestClusterIpServices): Headless services do not generate endpoints',
    objects: [svc('foo', { type: 'ClusterIP', clusterIP: 'None' })],
    spec: CLUSTER_IP,
    externalDns: [],
  },
  {
    from: 'service_test.go (TestClusterIpServices): Headless services generate endpoints when target is specified',
    objects: [
      svc('foo', {
        type: 'ClusterIP',
        clusterIP: 'None',
        ann: { [H]: 'foo.example.org.', [`${GA}target`]: 'bar.example.org.' },
      }),
    ],
    spec: CLUSTER_IP,
    externalDns: [['foo.example.org', 'CNAME', ['bar.example.org']]],
  },
  {
    from: 'service_test.go (TestClusterIpServices): invalid hostname does not generate endpoints',
    objects: [
      svc('foo', {
        type: 'ClusterIP',
        clusterIP: '1.2.3.4',
        ann: HOST('this-is-an-exceedingly-long-label-that-external-dns-should-reject.example.org.'),
      }),
    ],
    spec: CLUSTER_IP,
    externalDns: [],
    diagnostic: 'InvalidHostname',
  },
];

const SRV: Rec = ['_foo._tcp.foo.example.org', 'SRV', ['0 50 30192 foo.example.org.']];
const nodePort = (o: { local?: boolean; ann?: Ann } = {}): Obj =>
  svc('foo', {
    type: 'NodePort',
    nodePort: 30192,
    ann: o.ann ?? HOST('foo.example.org.'),
    ...(o.local ? { local: true, selector: { app: 'foo' } } : {}),
  });
/**
 * external-dns's Local fixtures give the Service no selector and rely on its empty selector
 * matching every pod of the namespace; in Kubernetes a Service without a selector has no pods, so
 * these manifests give the Service the selector its pods were meant to match (app=foo).
 */
const backend = (name: string, nodeName: string, ready: boolean, terminating = false): Obj =>
  pod(name, { labels: { app: 'foo' }, nodeName, ready, terminating, ip: '10.244.0.1' });

const nodePortCases: ParityCase[] = [
  {
    from: "service_test.go (NodePort): annotated NodePort services return an endpoint with IP addresses of the cluster's nodes",
    objects: [nodePort(), ...dualNodes],
    externalDns: [
      SRV,
      ['foo.example.org', 'A', ['54.10.11.1', '54.10.11.2']],
      ['foo.example.org', 'AAAA', ['2001:DB8::1', '2001:DB8::3']],
    ],
  },
  {
    from: "service_test.go (NodePort): annotated NodePort services return an endpoint with IP addresses of the private cluster's nodes",
    objects: [
      nodePort(),
      node('node1', [
        ['InternalIP', '10.0.1.1'],
        ['InternalIP', '2001:DB8::1'],
      ]),
      node('node2', [
        ['InternalIP', '10.0.1.2'],
        ['InternalIP', '2001:DB8::2'],
      ]),
    ],
    externalDns: [
      SRV,
      ['foo.example.org', 'A', ['10.0.1.1', '10.0.1.2']],
      ['foo.example.org', 'AAAA', ['2001:DB8::1', '2001:DB8::2']],
    ],
  },
  {
    from: "service_test.go (NodePort): annotated NodePort services with ExternalTrafficPolicy=Local return an endpoint with IP addresses of the cluster's nodes where pods is running only",
    objects: [nodePort({ local: true }), ...dualNodes, backend('pod-0', 'node2', false, true)],
    externalDns: [
      SRV,
      ['foo.example.org', 'A', ['54.10.11.2']],
      ['foo.example.org', 'AAAA', ['2001:DB8::3']],
    ],
  },
  {
    from: "service_test.go (NodePort): annotated NodePort services with ExternalTrafficPolicy=Local and multiple pods on a single node return an endpoint with unique IP addresses of the cluster's nodes where pods is running only",
    objects: [
      nodePort({ local: true }),
      ...dualNodes,
      backend('pod-0', 'node2', false, true),
      backend('pod-1', 'node2', false, true),
    ],
    externalDns: [
      SRV,
      ['foo.example.org', 'A', ['54.10.11.2']],
      ['foo.example.org', 'AAAA', ['2001:DB8::3']],
    ],
  },
  {
    from: 'service_test.go (NodePort): annotated NodePort services with ExternalTrafficPolicy=Local return pods in Ready & Running state',
    objects: [
      nodePort({ local: true }),
      node('node1', [
        ['ExternalIP', '54.10.11.1'],
        ['InternalIP', '10.0.1.1'],
      ]),
      node('node2', [
        ['ExternalIP', '54.10.11.2'],
        ['InternalIP', '10.0.1.2'],
      ]),
      backend('pod-0', 'node1', true, true),
      backend('pod-1', 'node2', false, true),
    ],
    externalDns: [SRV, ['foo.example.org', 'A', ['54.10.11.1']]],
  },
  {
    from: 'service_test.go (NodePort): annotated NodePort services with ExternalTrafficPolicy=Local return pods in Ready & Running state & not in Terminating',
    objects: [
      nodePort({ local: true }),
      node('node1', [['ExternalIP', '54.10.11.1']]),
      node('node2', [['ExternalIP', '54.10.11.2']]),
      node('node3', [['ExternalIP', '54.10.11.3']]),
      backend('pod-0', 'node1', true),
      backend('pod-1', 'node2', false),
      backend('pod-2', 'node3', true, true),
    ],
    externalDns: [SRV, ['foo.example.org', 'A', ['54.10.11.1']]],
  },
  {
    from: 'service_test.go (NodePort): NodePort services ignore unschedulable node',
    objects: [
      nodePort({ ann: { [H]: 'foo.example.org.', [`${GA}access`]: 'public' } }),
      node(
        'node1',
        [
          ['ExternalIP', '54.10.11.1'],
          ['ExternalIP', '2001:DB8::1'],
        ],
        true,
      ),
      node('node2', [
        ['ExternalIP', '54.10.11.2'],
        ['ExternalIP', '2001:DB8::3'],
      ]),
    ],
    externalDns: [
      SRV,
      ['foo.example.org', 'A', ['54.10.11.2']],
      ['foo.example.org', 'AAAA', ['2001:DB8::3']],
    ],
  },
  {
    from: 'service_test.go (NodePort): annotated NodePort service with TTL produces SRV endpoint with TTL',
    objects: [nodePort({ ann: { [H]: 'foo.example.org.', [`${GA}ttl`]: '300' } }), ...dualNodes],
    externalDns: [
      ['_foo._tcp.foo.example.org', 'SRV', ['0 50 30192 foo.example.org.'], 300],
      ['foo.example.org', 'A', ['54.10.11.1', '54.10.11.2'], 300],
      ['foo.example.org', 'AAAA', ['2001:DB8::1', '2001:DB8::3'], 300],
    ],
  },
];

const SERVICE = HOST('service.example.org');
const headlessCases: ParityCase[] = [
  {
    from: 'service_test.go (TestHeadlessServices): annotated Headless services return IPv4 endpoints for each selected Pod',
    objects: headless(SERVICE, [
      { ip: '1.1.1.1', hostname: 'foo-0' },
      { ip: '1.1.1.2', hostname: 'foo-1' },
    ]),
    externalDns: [
      ['foo-0.service.example.org', 'A', ['1.1.1.1']],
      ['foo-1.service.example.org', 'A', ['1.1.1.2']],
      ['service.example.org', 'A', ['1.1.1.1', '1.1.1.2']],
    ],
  },
  {
    from: 'service_test.go (TestHeadlessServices): annotated Headless services return IPv6 endpoints for each selected Pod',
    objects: headless(SERVICE, [
      { ip: '2001:db8::1', hostname: 'foo-0' },
      { ip: '2001:db8::2', hostname: 'foo-1' },
    ]),
    externalDns: [
      ['foo-0.service.example.org', 'AAAA', ['2001:db8::1']],
      ['foo-1.service.example.org', 'AAAA', ['2001:db8::2']],
      ['service.example.org', 'AAAA', ['2001:db8::1', '2001:db8::2']],
    ],
  },
  {
    from: 'service_test.go (TestHeadlessServices): annotated Headless services return IPv4 endpoints with TTL for each selected Pod',
    objects: headless({ ...SERVICE, [`${GA}ttl`]: '1' }, [
      { ip: '1.1.1.1', hostname: 'foo-0' },
      { ip: '1.1.1.2', hostname: 'foo-1' },
    ]),
    externalDns: [
      ['foo-0.service.example.org', 'A', ['1.1.1.1'], 1],
      ['foo-1.service.example.org', 'A', ['1.1.1.2'], 1],
      ['service.example.org', 'A', ['1.1.1.1', '1.1.1.2'], 1],
    ],
  },
  {
    from: 'service_test.go (TestHeadlessServices): annotated Headless services return endpoints for each selected Pod, which are in running state',
    objects: headless(SERVICE, [
      { ip: '1.1.1.1', hostname: 'foo-0' },
      { ip: '1.1.1.2', hostname: 'foo-1', ready: false },
    ]),
    externalDns: [
      ['foo-0.service.example.org', 'A', ['1.1.1.1']],
      ['service.example.org', 'A', ['1.1.1.1']],
    ],
  },
  {
    from: 'service_test.go (TestHeadlessServices): annotated Headless services return endpoints for all Pod if publishNotReadyAddresses is set',
    objects: headless(
      SERVICE,
      [
        { ip: '1.1.1.1', hostname: 'foo-0' },
        { ip: '1.1.1.2', hostname: 'foo-1', ready: false },
      ],
      true,
    ),
    externalDns: [
      ['foo-0.service.example.org', 'A', ['1.1.1.1']],
      ['foo-1.service.example.org', 'A', ['1.1.1.2']],
      ['service.example.org', 'A', ['1.1.1.1', '1.1.1.2']],
    ],
  },
  {
    from: 'service_test.go (TestHeadlessServices): annotated Headless services return endpoints for pods missing hostname',
    objects: headless(SERVICE, [{ ip: '1.1.1.1' }, { ip: '1.1.1.2' }]),
    externalDns: [['service.example.org', 'A', ['1.1.1.1', '1.1.1.2']]],
  },
  {
    from: 'service_test.go (TestHeadlessServices): annotated Headless services return only a unique set of IPv4 targets',
    objects: headless(SERVICE, [{ ip: '1.1.1.1' }, { ip: '1.1.1.1' }, { ip: '1.1.1.2' }]),
    externalDns: [['service.example.org', 'A', ['1.1.1.1', '1.1.1.2']]],
  },
  {
    from: 'service_test.go (TestHeadlessServices): annotated Headless services return IPv4 targets from pod annotation',
    objects: headless(SERVICE, [{ ip: '1.1.1.1', ann: { [`${GA}target`]: '1.2.3.4' } }]),
    externalDns: [['service.example.org', 'A', ['1.2.3.4']]],
  },
  {
    from: 'service_test.go (TestHeadlessServices): annotated Headless services return IPv6 targets from pod annotation',
    objects: headless(SERVICE, [{ ip: '2001:db8::1', ann: { [`${GA}target`]: '2001:db8::4' } }]),
    externalDns: [['service.example.org', 'AAAA', ['2001:db8::4']]],
  },
];

const externalNameCases: ParityCase[] = [
  {
    from: 'service_test.go (TestExternalServices): external services return an A endpoint for the external name that is an IPv4 address',
    objects: [svc('foo', { type: 'ExternalName', externalName: '111.111.111.111', ann: SERVICE })],
    externalDns: [['service.example.org', 'A', ['111.111.111.111']]],
  },
  {
    from: 'service_test.go (TestExternalServices): external services return an AAAA endpoint for the external name that is an IPv6 address',
    objects: [svc('foo', { type: 'ExternalName', externalName: '2001:db8::111', ann: SERVICE })],
    externalDns: [['service.example.org', 'AAAA', ['2001:db8::111']]],
  },
  {
    from: 'service_test.go (TestExternalServices): external services return a CNAME endpoint for the external name that is a domain',
    objects: [
      svc('foo', { type: 'ExternalName', externalName: 'remote.example.com', ann: SERVICE }),
    ],
    externalDns: [['service.example.org', 'CNAME', ['remote.example.com']]],
  },
  {
    from: 'service_test.go (TestExternalServices): annotated ExternalName service with externalIPs returns a single endpoint with multiple targets',
    objects: [
      svc('foo', {
        type: 'ExternalName',
        externalName: 'service.example.org',
        externalIPs: ['10.2.3.4', '11.2.3.4'],
        ann: SERVICE,
      }),
    ],
    externalDns: [['service.example.org', 'A', ['10.2.3.4', '11.2.3.4']]],
  },
];

const ingressCases: ParityCase[] = [
  {
    from: 'ingress_test.go: one rule.host one lb.hostname',
    objects: [ing('foo', { hosts: ['foo.bar'], lbs: ['lb.com'] })],
    externalDns: [['foo.bar', 'CNAME', ['lb.com']]],
  },
  {
    from: 'ingress_test.go: one rule.host one lb.IP',
    objects: [ing('foo', { hosts: ['foo.bar'], lbs: ['8.8.8.8'] })],
    externalDns: [['foo.bar', 'A', ['8.8.8.8']]],
  },
  {
    from: 'ingress_test.go: one rule.host one lb.IPv6',
    objects: [ing('foo', { hosts: ['foo.bar'], lbs: ['2606:4700:4700::1111'] })],
    externalDns: [['foo.bar', 'AAAA', ['2606:4700:4700::1111']]],
  },
  {
    from: 'ingress_test.go: one rule.host two lb.IP, two lb.IPv6 and two lb.Hostname',
    objects: [
      ing('foo', {
        hosts: ['foo.bar'],
        lbs: [
          '8.8.8.8',
          '127.0.0.1',
          '2606:4700:4700::1111',
          '2606:4700:4700::1001',
          'elb.com',
          'alb.com',
        ],
      }),
    ],
    externalDns: [
      ['foo.bar', 'A', ['8.8.8.8', '127.0.0.1']],
      ['foo.bar', 'AAAA', ['2606:4700:4700::1111', '2606:4700:4700::1001']],
      ['foo.bar', 'CNAME', ['elb.com', 'alb.com']],
    ],
    dnsop: {
      records: [
        ['foo.bar', 'A', ['8.8.8.8', '127.0.0.1']],
        ['foo.bar', 'AAAA', ['2606:4700:4700::1111', '2606:4700:4700::1001']],
      ],
      why: MIXED,
    },
  },
  {
    from: 'ingress_test.go: no rule.host',
    objects: [ing('foo', { lbs: ['8.8.8.8', 'elb.com'] })],
    externalDns: [],
    diagnostic: 'NoHostname',
  },
  {
    from: 'ingress_test.go: one empty rule.host',
    objects: [ing('foo', { hosts: [''], lbs: ['8.8.8.8', 'elb.com'] })],
    externalDns: [],
    diagnostic: 'NoHostname',
  },
  {
    from: 'ingress_test.go: invalid hostname does not generate endpoints',
    objects: [
      ing('foo', {
        hosts: ['this-is-an-exceedingly-long-label-that-external-dns-should-reject.example.org'],
        lbs: ['8.8.8.8'],
      }),
    ],
    externalDns: [],
    diagnostic: 'InvalidHostname',
  },
  {
    from: 'ingress_test.go: ingress rules with single tls having multiple hostnames',
    objects: [ing('fake1', { ns: NS, tls: ['example.org', 'example2.org'], lbs: ['1.2.3.4'] })],
    externalDns: [
      ['example.org', 'A', ['1.2.3.4']],
      ['example2.org', 'A', ['1.2.3.4']],
    ],
  },
  {
    from: 'ingress_test.go: ingress rules with hostname annotation having multiple hostnames',
    objects: [
      ing('fake1', {
        ns: NS,
        hosts: ['example.org'],
        ann: HOST('dns-through-hostname.com, another-dns-through-hostname.com'),
        lbs: ['1.2.3.4'],
      }),
    ],
    externalDns: [
      ['example.org', 'A', ['1.2.3.4']],
      ['dns-through-hostname.com', 'A', ['1.2.3.4']],
      ['another-dns-through-hostname.com', 'A', ['1.2.3.4']],
    ],
  },
  {
    from: 'ingress_test.go: ingress rules with hostname and target annotation',
    objects: [
      ing('fake1', {
        ns: NS,
        hosts: ['example.org'],
        ann: { [H]: 'dns-through-hostname.com', [`${GA}target`]: 'ingress-target.com' },
      }),
    ],
    externalDns: [
      ['example.org', 'CNAME', ['ingress-target.com']],
      ['dns-through-hostname.com', 'CNAME', ['ingress-target.com']],
    ],
  },
  {
    from: 'ingress_test.go: ingress rules with annotation and custom TTL',
    objects: [
      ing('fake1', {
        ns: NS,
        hosts: ['example.org'],
        ann: { [`${GA}target`]: 'ingress-target.com', [`${GA}ttl`]: '6' },
      }),
      ing('fake2', {
        ns: NS,
        hosts: ['example2.org'],
        ann: { [`${GA}target`]: 'ingress-target.com', [`${GA}ttl`]: '1' },
        lbs: ['8.8.8.8'],
      }),
      ing('fake3', {
        ns: NS,
        hosts: ['example3.org'],
        ann: { [`${GA}target`]: 'ingress-target.com', [`${GA}ttl`]: '10s' },
        lbs: ['8.8.4.4'],
      }),
    ],
    externalDns: [
      ['example.org', 'CNAME', ['ingress-target.com'], 6],
      ['example2.org', 'CNAME', ['ingress-target.com'], 1],
      ['example3.org', 'CNAME', ['ingress-target.com'], 10],
    ],
  },
  {
    from: 'ingress_test.go: our controller type is dns-controller (with --controller-name dns-controller)',
    objects: [
      ing('fake1', {
        ns: NS,
        hosts: ['example.org'],
        ann: { [`${GA}controller`]: 'dns-controller' },
        lbs: ['8.8.8.8'],
      }),
    ],
    flags: ['--controller-name', 'dns-controller'],
    externalDns: [['example.org', 'A', ['8.8.8.8']]],
  },
  {
    from: 'ingress_test.go: different controller types are ignored',
    objects: [
      ing('fake1', {
        ns: NS,
        hosts: ['example.org'],
        ann: { [`${GA}controller`]: 'some-other-tool' },
        lbs: ['8.8.8.8'],
      }),
    ],
    externalDns: [],
    diagnostic: 'OtherController',
  },
  {
    from: 'ingress_test.go: Ingress with empty annotation (without the FQDN template)',
    objects: [ing('fake1', { ns: NS, ann: { [`${GA}target`]: '' } })],
    externalDns: [],
    diagnostic: 'NoHostname',
  },
  {
    from: 'ingress_test.go: ingressClassName filtering',
    objects: [
      ing('none', { ns: NS, tls: ['none.example.org'], lbs: ['1.0.0.0'] }),
      ing('fake-public', { ns: NS, tls: ['example.org'], lbs: ['1.2.3.4'], className: 'public' }),
      ing('fake-internal', {
        ns: NS,
        tls: ['int.example.org'],
        lbs: ['2.3.4.5'],
        className: 'internal',
      }),
      ing('fake-dmz', { ns: NS, tls: ['dmz.example.org'], lbs: ['3.4.5.6'], className: 'dmz' }),
      ing('annotated-dmz', {
        ns: NS,
        tls: ['annodmz.example.org'],
        lbs: ['4.5.6.7'],
        ann: { 'kubernetes.io/ingress.class': 'dmz' },
      }),
      ing('fake-internal-annotated-dmz', {
        ns: NS,
        tls: ['int-annodmz.example.org'],
        lbs: ['5.6.7.8'],
        ann: { 'kubernetes.io/ingress.class': 'dmz' },
        className: 'internal',
      }),
      ing('fake-dmz-annotated-internal', {
        ns: NS,
        tls: ['dmz-annoint.example.org'],
        lbs: ['6.7.8.9'],
        ann: { 'kubernetes.io/ingress.class': 'internal' },
        className: 'dmz',
      }),
      ing('empty-annotated-dmz', {
        ns: NS,
        tls: ['empty-annotdmz.example.org'],
        lbs: ['7.8.9.0'],
        ann: { 'kubernetes.io/ingress.class': 'dmz' },
      }),
      ing('empty-annotated-internal', {
        ns: NS,
        tls: ['empty-annotint.example.org'],
        lbs: ['8.9.0.1'],
        ann: { 'kubernetes.io/ingress.class': 'internal' },
      }),
    ],
    spec: { sources: [{ kind: 'Ingress', ingressClassNames: ['public', 'dmz'] }] },
    externalDns: [
      ['example.org', 'A', ['1.2.3.4']],
      ['dmz.example.org', 'A', ['3.4.5.6']],
      ['annodmz.example.org', 'A', ['4.5.6.7']],
      ['dmz-annoint.example.org', 'A', ['6.7.8.9']],
      ['empty-annotdmz.example.org', 'A', ['7.8.9.0']],
    ],
  },
  {
    from: 'ingress_test.go (TestIngressWithConfiguration): hostname and targets configured as annotations',
    objects: [
      ing('my-ingress', {
        hosts: ['app.example.com'],
        className: 'nginx',
        ann: { [H]: 'bla.example.org', [`${GA}target`]: 'target.example.org' },
        lbs: ['1.2.3.4'],
      }),
    ],
    externalDns: [
      ['app.example.com', 'CNAME', ['target.example.org']],
      ['bla.example.org', 'CNAME', ['target.example.org']],
    ],
  },
  {
    from: 'ingress_test.go (TestIngressWithConfiguration): ingress with spec.tls with wildcard domains and tls not ignored',
    objects: [
      ing('my-ingress', {
        hosts: ['abc.example.com'],
        tls: ['*.example.com'],
        className: 'alb',
        lbs: ['1.2.3.4'],
      }),
    ],
    externalDns: [
      ['abc.example.com', 'A', ['1.2.3.4']],
      ['*.example.com', 'A', ['1.2.3.4']],
    ],
  },
  {
    from: 'ingress_test.go (TestIngressWithConfiguration): multiple ingresses with same hostname, different IPs from different ingressClasses are merged',
    objects: [
      ing('my-service', {
        ns: 'old-ns',
        hosts: ['my-service.example.com'],
        className: 'old-class',
        lbs: ['10.0.0.1'],
      }),
      ing('my-service', {
        ns: 'new-ns',
        hosts: ['my-service.example.com'],
        className: 'new-class',
        lbs: ['10.0.0.2'],
      }),
    ],
    spec: { namespaceSelector: {} },
    externalDns: [['my-service.example.com', 'A', ['10.0.0.1', '10.0.0.2']]],
  },
  {
    from: 'ingress_test.go (TestIngressWithConfiguration): multiple ingresses with same hostname, different CNAME targets and hostname annotation override',
    objects: [
      ing('keycloak', {
        hosts: ['keycloak.blah.com'],
        ann: HOST('keycloak.blah.com'),
        lbs: ['blah-1922533626.us-west-2.elb.amazonaws.com'],
      }),
      ing('keycloak-another', {
        hosts: ['keycloak.blah.com'],
        className: 'alb',
        ann: HOST('anotherkeycloak.blah.com'),
        lbs: ['blah-3488114.us-west-2.elb.amazonaws.com'],
      }),
    ],
    externalDns: [
      ['keycloak.blah.com', 'CNAME', ['blah-1922533626.us-west-2.elb.amazonaws.com']],
      ['keycloak.blah.com', 'CNAME', ['blah-3488114.us-west-2.elb.amazonaws.com']],
      ['anotherkeycloak.blah.com', 'CNAME', ['blah-3488114.us-west-2.elb.amazonaws.com']],
    ],
    dnsop: {
      records: [
        ['keycloak.blah.com', 'CNAME', ['blah-1922533626.us-west-2.elb.amazonaws.com']],
        ['anotherkeycloak.blah.com', 'CNAME', ['blah-3488114.us-west-2.elb.amazonaws.com']],
      ],
      why: 'two objects want one CNAME differently: dnsop keeps one (the published one, else the first object by name) and gives the other RecordConflict; external-dns passes both to its planner, which keeps the same one. The zone ends the same; the conflict is said, not silent',
    },
  },
  {
    from: 'ingress_test.go (TestIngressWithConfiguration): ingress with when AWS ALB controller and NLB type generates two targets for CNAME',
    objects: [
      ing('my-ingress', {
        hosts: ['some.subdomain.mydomain.com'],
        className: 'alb',
        lbs: [
          'internal-k8s-some-domain.us-east-1.elb.amazonaws.com',
          'k8s-another-domain-nlb-123456789.elb.us-east-1.amazonaws.com',
        ],
      }),
    ],
    externalDns: [
      [
        'some.subdomain.mydomain.com',
        'CNAME',
        [
          'internal-k8s-some-domain.us-east-1.elb.amazonaws.com',
          'k8s-another-domain-nlb-123456789.elb.us-east-1.amazonaws.com',
        ],
      ],
    ],
    dnsop: {
      records: [
        [
          'some.subdomain.mydomain.com',
          'CNAME',
          ['internal-k8s-some-domain.us-east-1.elb.amazonaws.com'],
        ],
      ],
      why: ONE_CNAME,
    },
  },
  {
    from: 'ingress_test.go (TestIngressWithConfiguration): ingress with when AWS ALB controller and NLB with target annotation and CNAME with single target',
    objects: [
      ing('my-ingress', {
        hosts: ['some.subdomain.mydomain.com'],
        className: 'alb',
        ann: { [`${GA}target`]: 'k8s-another-domain-nlb-123456789.elb.us-east-1.amazonaws.com' },
        lbs: [
          'internal-k8s-some-domain.us-east-1.elb.amazonaws.com',
          'k8s-another-domain-nlb-123456789.elb.us-east-1.amazonaws.com',
        ],
      }),
    ],
    externalDns: [
      [
        'some.subdomain.mydomain.com',
        'CNAME',
        ['k8s-another-domain-nlb-123456789.elb.us-east-1.amazonaws.com'],
      ],
    ],
  },
  {
    from: 'ingress_test.go (TestIngressWithConfiguration): no annotations, multiple ingresses, mixed IP and Hostname targets',
    objects: [
      ing('my-ingress', {
        hosts: ['app.example.com'],
        className: 'alb',
        lbs: ['1.2.3.4', 'foo.tld'],
      }),
    ],
    externalDns: [
      ['app.example.com', 'A', ['1.2.3.4']],
      ['app.example.com', 'CNAME', ['foo.tld']],
    ],
    dnsop: { records: [['app.example.com', 'A', ['1.2.3.4']]], why: MIXED },
  },
];

const gatewayCases: ParityCase[] = [
  {
    from: 'gateway_httproute_test.go: MultipleGateways',
    objects: [
      gw('one', [http()], ['1.2.3.4']),
      gw('two', [http()], ['2.3.4.5']),
      route('HTTPRoute', 'test', {
        hostnames: ['test.example.internal'],
        parents: [{ name: 'one' }, { name: 'two' }],
      }),
    ],
    externalDns: [['test.example.internal', 'A', ['1.2.3.4', '2.3.4.5']]],
  },
  {
    from: 'gateway_httproute_test.go: MultipleListeners',
    objects: [
      gw(
        'one',
        [
          http({ name: 'foo', hostname: 'foo.example.internal' }),
          http({ name: 'bar', hostname: 'bar.example.internal' }),
        ],
        ['1.2.3.4'],
      ),
      route('HTTPRoute', 'test', { hostnames: ['*.example.internal'], parents: [{ name: 'one' }] }),
    ],
    externalDns: [
      ['foo.example.internal', 'A', ['1.2.3.4']],
      ['bar.example.internal', 'A', ['1.2.3.4']],
    ],
  },
  {
    from: 'gateway_httproute_test.go: SectionNameMatch',
    objects: [
      defaultGw(
        http({ name: 'foo', hostname: 'foo.example.internal' }),
        http({ name: 'bar', hostname: 'bar.example.internal' }),
      ),
      route('HTTPRoute', 'test', {
        hostnames: ['*.example.internal'],
        parents: [{ name: 'test', sectionName: 'foo' }],
      }),
    ],
    externalDns: [['foo.example.internal', 'A', ['1.2.3.4']]],
  },
  {
    from: 'gateway_httproute_test.go: PortNumberMatch',
    objects: [
      defaultGw(
        http({ name: 'foo', hostname: 'foo.example.internal', port: 80 }),
        http({ name: 'bar', hostname: 'bar.example.internal', port: 80 }),
        http({ name: 'qux', hostname: 'qux.example.internal', port: 8080 }),
      ),
      route('HTTPRoute', 'test', {
        hostnames: ['*.example.internal'],
        parents: [{ name: 'test', port: 80 }],
      }),
    ],
    externalDns: [
      ['foo.example.internal', 'A', ['1.2.3.4']],
      ['bar.example.internal', 'A', ['1.2.3.4']],
    ],
  },
  {
    from: 'gateway_httproute_test.go: WildcardInGateway',
    objects: [
      defaultGw(http({ hostname: '*.example.internal' })),
      httpRoute('no-hostname', ['foo.example.internal']),
    ],
    externalDns: [['foo.example.internal', 'A', ['1.2.3.4']]],
  },
  {
    from: 'gateway_httproute_test.go: WildcardInRoute',
    objects: [
      defaultGw(http({ hostname: 'foo.example.internal' })),
      httpRoute('no-hostname', ['*.example.internal']),
    ],
    externalDns: [['foo.example.internal', 'A', ['1.2.3.4']]],
  },
  {
    from: 'gateway_httproute_test.go: WildcardInRouteAndGateway',
    objects: [
      defaultGw(http({ hostname: '*.example.internal' })),
      httpRoute('no-hostname', ['*.example.internal']),
    ],
    externalDns: [['*.example.internal', 'A', ['1.2.3.4']]],
  },
  {
    from: 'gateway_httproute_test.go: NoRouteHostname',
    objects: [
      defaultGw(http({ hostname: 'foo.example.internal' })),
      httpRoute('no-hostname', undefined),
    ],
    externalDns: [['foo.example.internal', 'A', ['1.2.3.4']]],
  },
  {
    from: 'gateway_httproute_test.go: NoHostnames',
    objects: [defaultGw(), httpRoute('no-hostname', undefined)],
    externalDns: [],
    diagnostic: 'NoHostname',
  },
  {
    from: 'gateway_httproute_test.go: HostnameAnnotation',
    objects: [
      defaultGw(),
      httpRoute('without-hostame', undefined, HOST('annotation.without-hostname.internal')),
      httpRoute(
        'with-hostame',
        ['with-hostname.internal'],
        HOST('annotation.with-hostname.internal'),
      ),
    ],
    externalDns: [
      ['annotation.without-hostname.internal', 'A', ['1.2.3.4']],
      ['annotation.with-hostname.internal', 'A', ['1.2.3.4']],
      ['with-hostname.internal', 'A', ['1.2.3.4']],
    ],
  },
  {
    from: 'gateway_httproute_test.go: SkipControllerAnnotation',
    objects: [
      defaultGw(),
      httpRoute('api', ['api.example.internal'], { [`${GA}controller`]: 'something-else' }),
    ],
    externalDns: [],
    diagnostic: 'OtherController',
  },
  {
    from: 'gateway_httproute_test.go: TTL',
    objects: [
      defaultGw(),
      httpRoute('valid-ttl', ['valid-ttl.internal'], { [`${GA}ttl`]: '15s' }),
      httpRoute('invalid-ttl', ['invalid-ttl.internal'], { [`${GA}ttl`]: 'abc' }),
    ],
    externalDns: [
      ['invalid-ttl.internal', 'A', ['1.2.3.4'], 300],
      ['valid-ttl.internal', 'A', ['1.2.3.4'], 15],
    ],
    diagnostic: 'InvalidAnnotation',
  },
  {
    from: 'gateway_httproute_test.go: DifferentHostnameDifferentGateway',
    objects: [
      gw('one', [http({ hostname: '*.one.internal' })], ['1.2.3.4']),
      gw('two', [http({ hostname: '*.two.internal' })], ['2.3.4.5']),
      route('HTTPRoute', 'test', {
        hostnames: ['test.one.internal', 'test.two.internal'],
        parents: [{ name: 'one' }, { name: 'two' }],
      }),
    ],
    externalDns: [
      ['test.one.internal', 'A', ['1.2.3.4']],
      ['test.two.internal', 'A', ['2.3.4.5']],
    ],
  },
  {
    from: 'gateway_httproute_test.go: AllowedRoutesSameNamespace',
    objects: [
      gw('test', [http({ from: 'Same' })], ['1.2.3.4'], { ns: 'same-namespace' }),
      route('HTTPRoute', 'test', {
        ns: 'same-namespace',
        hostnames: ['same-namespace.example.internal'],
        parents: [{ name: 'test', ns: 'same-namespace' }],
      }),
      route('HTTPRoute', 'test', {
        ns: 'other-namespace',
        hostnames: ['other-namespace.example.internal'],
        parents: [{ name: 'test', ns: 'same-namespace' }],
      }),
    ],
    spec: { namespaceSelector: {} },
    externalDns: [['same-namespace.example.internal', 'A', ['1.2.3.4']]],
    diagnostic: 'NotAllowedByListeners',
  },
  {
    from: 'gateway_httproute_test.go: AnnotationOverride',
    objects: [
      gw('overridden-gateway', [http({ from: 'All' })], ['1.2.3.4'], {
        ns: 'gateway-namespace',
        ann: { [`${GA}target`]: '4.3.2.1' },
      }),
      route('HTTPRoute', 'test', {
        ns: 'route-namespace',
        hostnames: ['test.example.internal'],
        parents: [{ name: 'overridden-gateway', ns: 'gateway-namespace' }],
      }),
    ],
    spec: { namespaceSelector: {} },
    externalDns: [['test.example.internal', 'A', ['4.3.2.1']]],
  },
  {
    from: 'gateway_httproute_test.go: NoParentRefs',
    objects: [
      gw('test', [http({ from: 'All' })], ['1.2.3.4'], { ns: 'gateway-namespace' }),
      route('HTTPRoute', 'test', {
        ns: 'route-namespace',
        hostnames: ['test.example.internal'],
        statusParents: [{ name: 'test', ns: 'gateway-namespace' }],
      }),
    ],
    spec: { namespaceSelector: {} },
    externalDns: [],
    diagnostic: 'NoParentRefs',
  },
  {
    from: 'gateway_httproute_test.go: ParentRefsMismatch',
    objects: [
      gw('test', [http({ from: 'All' })], ['1.2.3.4'], { ns: 'gateway-namespace' }),
      route('HTTPRoute', 'test', {
        ns: 'route-namespace',
        hostnames: ['test.example.internal'],
        parents: [{ name: 'default-gateway', ns: 'gateway-namespace' }],
        statusParents: [{ name: 'other-gateway', ns: 'gateway-namespace' }],
      }),
    ],
    spec: { namespaceSelector: {} },
    externalDns: [],
    diagnostic: 'GatewayNotFound',
  },
  {
    from: 'gateway_grpcroute_test.go: TestGatewayGRPCRouteSourceEndpoints (without the FQDN template)',
    objects: [
      gw('internal', [{ protocol: 'HTTPS' }], ['10.64.0.1', '10.64.0.2']),
      route('GRPCRoute', 'api', {
        hostnames: ['api-hostnames.foobar.internal'],
        parents: [{ name: 'internal' }],
        ann: HOST('api-annotation.foobar.internal'),
      }),
    ],
    externalDns: [
      ['api-annotation.foobar.internal', 'A', ['10.64.0.1', '10.64.0.2']],
      ['api-hostnames.foobar.internal', 'A', ['10.64.0.1', '10.64.0.2']],
    ],
  },
  {
    from: 'gateway_tlsroute_test.go: TestGatewayTLSRouteSourceEndpoints (without the FQDN template)',
    objects: [
      gw('internal', [{ protocol: 'TLS' }], ['10.64.0.1', '10.64.0.2']),
      route('TLSRoute', 'api', {
        hostnames: ['api-hostnames.foobar.internal'],
        parents: [{ name: 'internal' }],
        ann: HOST('api-annotation.foobar.internal'),
      }),
    ],
    externalDns: [
      ['api-annotation.foobar.internal', 'A', ['10.64.0.1', '10.64.0.2']],
      ['api-hostnames.foobar.internal', 'A', ['10.64.0.1', '10.64.0.2']],
    ],
  },
  {
    from: 'gateway_tcproute_test.go: TestGatewayTCPRouteSourceEndpoints (without the FQDN template)',
    objects: [
      gw('internal', [{ protocol: 'TCP' }], ['10.64.0.1', '10.64.0.2']),
      route('TCPRoute', 'api', {
        parents: [{ name: 'internal' }],
        ann: HOST('api-annotation.foobar.internal'),
      }),
    ],
    externalDns: [['api-annotation.foobar.internal', 'A', ['10.64.0.1', '10.64.0.2']]],
  },
  {
    from: 'gateway_udproute_test.go: TestGatewayUDPRouteSourceEndpoints (without the FQDN template)',
    objects: [
      gw('internal', [{ protocol: 'UDP' }], ['10.64.0.1', '10.64.0.2']),
      route('UDPRoute', 'api', {
        parents: [{ name: 'internal' }],
        ann: HOST('api-annotation.foobar.internal'),
      }),
    ],
    externalDns: [['api-annotation.foobar.internal', 'A', ['10.64.0.1', '10.64.0.2']]],
  },
  {
    from: 'gateway_tcproute_test.go: TestGatewayTCPRouteIndexer "controller mismatch is excluded"',
    objects: [
      gw('gw', [{ protocol: 'TCP', from: 'All' }], ['1.2.3.4']),
      route('TCPRoute', 'r1', {
        parents: [{ name: 'gw' }],
        ann: { [H]: 'r1.example.com', [`${GA}controller`]: 'other-controller' },
      }),
    ],
    externalDns: [],
    diagnostic: 'OtherController',
  },
];

const record = (dnsName: string, recordType: string, targets: string[], recordTTL = 180): Obj => ({
  dnsName,
  recordType,
  targets,
  recordTTL,
});

const crdCases: ParityCase[] = [
  {
    from: 'crd_test.go: valid crd gvk with single endpoint',
    objects: [dnsEndpoint('e', [record('abc.example.org', 'A', ['1.2.3.4'])])],
    externalDns: [['abc.example.org', 'A', ['1.2.3.4'], 180]],
  },
  {
    from: 'crd_test.go: valid crd gvk with multiple endpoints',
    objects: [
      dnsEndpoint('e', [
        record('abc.example.org', 'A', ['1.2.3.4']),
        record('xyz.example.org', 'CNAME', ['abc.example.org']),
      ]),
    ],
    externalDns: [
      ['abc.example.org', 'A', ['1.2.3.4'], 180],
      ['xyz.example.org', 'CNAME', ['abc.example.org'], 180],
    ],
  },
  {
    from: 'crd_test.go: no endpoints within a specific namespace',
    objects: [dnsEndpoint('e', [record('abc.example.org', 'A', ['1.2.3.4'])], 'bar')],
    namespace: 'foo',
    externalDns: [],
  },
  {
    from: 'crd_test.go: Create SRV record',
    objects: [
      dnsEndpoint('e', [
        record('_svc._tcp.example.org', 'SRV', [
          '0 0 80 abc.example.org',
          '0 0 80 def.example.org',
        ]),
      ]),
    ],
    externalDns: [
      ['_svc._tcp.example.org', 'SRV', ['0 0 80 abc.example.org', '0 0 80 def.example.org'], 180],
    ],
  },
  {
    from: 'crd_test.go: SRV target with trailing dot (RFC 2782 absolute FQDN host) is valid (#6357)',
    objects: [
      dnsEndpoint('e', [
        record('_svc._tcp.example.org', 'SRV', [
          '0 0 80 abc.example.org.',
          '10 20 443 def.example.org.',
        ]),
      ]),
    ],
    externalDns: [
      [
        '_svc._tcp.example.org',
        'SRV',
        ['0 0 80 abc.example.org.', '10 20 443 def.example.org.'],
        180,
      ],
    ],
  },
  {
    from: 'crd_test.go: CNAME target with trailing dot (RFC 1035 §5.1 absolute FQDN) is valid',
    objects: [dnsEndpoint('e', [record('example.org', 'CNAME', ['foo.example.org.'])])],
    externalDns: [['example.org', 'CNAME', ['foo.example.org.'], 180]],
  },
  {
    from: 'crd_test.go: CNAME target without trailing dot (relative name)',
    objects: [dnsEndpoint('e', [record('example.org', 'CNAME', ['foo'])])],
    externalDns: [['example.org', 'CNAME', ['foo'], 180]],
  },
  {
    from: 'crd_test.go: valid target TXT',
    objects: [dnsEndpoint('e', [record('example.org', 'TXT', ['foo.example.org.'])])],
    externalDns: [['example.org', 'TXT', ['"foo.example.org."'], 180]],
  },
  {
    from: 'crd_test.go: illegal target A',
    objects: [dnsEndpoint('e', [record('example.org', 'A', ['1.2.3.4.'])])],
    externalDns: [],
    diagnostic: 'InvalidTarget',
  },
  {
    from: 'crd_test.go: valid crd with no targets (relies on default-targets)',
    objects: [dnsEndpoint('e', [record('no-targets.example.org', 'A', [])])],
    externalDns: [['no-targets.example.org', 'A', [], 180]],
    dnsop: {
      records: [],
      why: 'external-dns fills empty targets from its --default-targets flag; dnsop has no default targets, so an entry without targets is skipped with NoTargets rather than published empty',
    },
  },
  {
    from: 'crd_test.go: Create NS record',
    objects: [dnsEndpoint('e', [record('abc.example.org', 'NS', ['ns1.k8s.io', 'ns2.k8s.io'])])],
    externalDns: [['abc.example.org', 'NS', ['ns1.k8s.io', 'ns2.k8s.io'], 180]],
    dnsop: {
      records: [],
      why: 'dnsop publishes A, AAAA, CNAME, TXT and SRV (the types its providers and registry manage); an NS, MX, NAPTR, CAA or DNAME entry is skipped with UnsupportedRecordType, never published half-way',
    },
  },
  {
    from: 'crd_test.go: MX Record allowing trailing dot in target',
    objects: [dnsEndpoint('e', [record('example.org', 'MX', ['10 mail.example.org.'])])],
    externalDns: [['example.org', 'MX', ['10 mail.example.org.'], 180]],
    dnsop: {
      records: [],
      why: 'dnsop publishes A, AAAA, CNAME, TXT and SRV only: UnsupportedRecordType',
    },
  },
];

const podCases: ParityCase[] = [
  {
    from: 'pod_test.go: internal-hostname annotated pod publishes its pod IP',
    objects: [
      pod('my-pod1', {
        ns: 'kube-system',
        ip: '10.0.1.1',
        ann: { [`${ALPHA}internal-hostname`]: 'internal.a.foo.example.org' },
      }),
    ],
    externalDns: [['internal.a.foo.example.org', 'A', ['10.0.1.1']]],
  },
  {
    from: 'pod_test.go: hostname annotated pod (external-dns: the node ExternalIP of a hostNetwork pod)',
    objects: [
      pod('my-pod1', {
        ns: 'kube-system',
        ip: '10.0.1.1',
        nodeName: 'my-node1',
        ann: { [`${ALPHA}hostname`]: 'a.foo.example.org' },
      }),
      node('my-node1', [
        ['ExternalIP', '54.10.11.1'],
        ['InternalIP', '10.0.1.1'],
      ]),
    ],
    externalDns: [['a.foo.example.org', 'A', ['54.10.11.1']]],
    dnsop: {
      records: [['a.foo.example.org', 'A', ['10.0.1.1']]],
      why: "DESIGN.md's Pod rule: the hostname annotation publishes the pod's own IP; external-dns publishes the node's ExternalIP (its pod source is meant for hostNetwork pods). Use the target annotation to publish another address",
    },
  },
];

export const PARITY_CASES: readonly ParityCase[] = [
  ...serviceCases,
  ...clusterIpCases,
  ...nodePortCases,
  ...headlessCases,
  ...externalNameCases,
  ...ingressCases,
  ...gatewayCases,
  ...crdCases,
  ...podCases,
];

/**
 * external-dns behaviours no case above covers, with why. `dnsop plan` and the README list the
 * same; kept here so the table and the list stay side by side.
 */
export const NOT_COVERED: readonly { readonly behaviour: string; readonly why: string }[] = [
  {
    behaviour: 'FQDN templates (--fqdn-template, --combine-fqdn-annotation)',
    why: 'names come from objects and their annotations; a cluster-wide Go template is a second naming language that hides which object owns a name. Not in DESIGN.md',
  },
  {
    behaviour:
      '--annotation-filter, --label-filter, --ignore-hostname-annotation, --service-type-filter',
    why: 'a DNSPolicy selects objects with sources[].selector (labels) and kinds; annotation filters and type filters are not part of the contract',
  },
  {
    behaviour: 'compatibility modes (mate, molecule, kops-dns-controller annotations)',
    why: 'legacy annotations of other tools; only dnsop.io/* and external-dns.*/* are read',
  },
  {
    behaviour:
      'external-dns.*/endpoints-type (NodeExternalIP, HostIP) and --publish-host-ip on headless Services',
    why: 'a headless Service publishes its backends (DESIGN.md); publishing node addresses is the NodePort rule',
  },
  {
    behaviour:
      'external-dns.*/access (public/private) and --expose-internal-ipv6 on NodePort Services',
    why: 'DESIGN.md fixes the rule: ExternalIP of the nodes when any has one, else InternalIP',
  },
  {
    behaviour: '--resolve-service-load-balancer-hostname',
    why: 'resolving a load balancer hostname to A records freezes addresses that the cloud changes; dnsop publishes an alias (Route 53) or a CNAME',
  },
  {
    behaviour:
      'gateway-hostname-source / ingress-hostname-source annotations, --ignore-ingress-tls-spec, --ignore-ingress-rules-spec',
    why: 'not in DESIGN.md; every name an Ingress or route declares is published, and the hostname annotation adds names',
  },
  {
    behaviour:
      'ListenerSet parents (gateway.networking.x-k8s.io) and --gateway-name/--gateway-namespace/--gateway-label-filter',
    why: 'ListenerSet is experimental beyond the channel dnsop provisions; a DNSPolicy selects routes, whose parents decide attachment',
  },
  {
    behaviour:
      'set-identifier and routing-policy provider annotations (aws-weight, aws-region, geolocation), Cloudflare/Azure properties',
    why: 'routing policies need several record sets at one name, which the ownership model (one owned set per name and type) does not express; a DNSEndpoint entry with setIdentifier is skipped with UnsupportedRecord',
  },
  {
    behaviour:
      'DNSEndpoint record types NS, MX, NAPTR, CAA, DNAME, PTR; --default-targets; DNSEndpoint status.observedGeneration',
    why: 'dnsop manages A, AAAA, CNAME, TXT and SRV; it reads DNSEndpoints and never writes them (least-privilege RBAC: list and watch)',
  },
  {
    behaviour:
      'accepted route status without regard to observedGeneration, and stale status.parents entries',
    why: 'seeds/001: a parent counts only when Accepted at the current generation; dnsop holds the records while status lags (external-dns moves them early)',
  },
  {
    behaviour: 'an alias for an IP target (seed 004)',
    why: 'an IP is never a Route 53 alias; AliasNotPossibleForIP says so',
  },
  {
    behaviour:
      'istio Gateway/VirtualService, Contour, Traefik, Gloo, Kong, F5, OpenShift Route, Skipper, Ambassador and node sources',
    why: 'DESIGN.md scopes the sources to Service, Pod, Ingress, Gateway API routes and DNSEndpoint',
  },
];
