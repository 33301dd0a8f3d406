/** Builders for the Kubernetes objects the records tests use; defaults are the common case. */
import type {
  V1EndpointSlice,
  V1Ingress,
  V1Namespace,
  V1Node,
  V1Pod,
  V1Service,
  V1ServicePort,
} from '@kubernetes/client-node';
import type { DNSPolicy, DNSPolicySpec } from '../../operator/api/types';
import type { DNSEndpoint, DNSEndpointRecord } from '../../operator/records/sources/dnsendpoint';
import type {
  Gateway,
  HTTPRoute,
  Listener,
  ParentReference,
  Route,
  RouteKind,
  RouteParentStatus,
} from '../../operator/records/sources/gateway-api';

type Ann = Record<string, string>;

/** Namespaced metadata with the common defaults (namespace shop, no labels or annotations). */
function objectMeta(
  name: string,
  opts: { namespace?: string; labels?: Ann; annotations?: Ann },
): { name: string; namespace: string; labels: Ann; annotations: Ann } {
  return {
    name,
    namespace: opts.namespace ?? 'shop',
    labels: opts.labels ?? {},
    annotations: opts.annotations ?? {},
  };
}

export function service(
  name: string,
  opts: {
    namespace?: string;
    hostname?: string;
    annotations?: Ann;
    labels?: Ann;
    type?: string;
    clusterIP?: string;
    clusterIPs?: string[];
    selector?: Ann;
    ingress?: { ip?: string; hostname?: string }[];
    externalName?: string;
    publishNotReadyAddresses?: boolean;
    externalIPs?: string[];
    ports?: V1ServicePort[];
    externalTrafficPolicy?: 'Cluster' | 'Local';
  } = {},
): V1Service {
  const annotations = {
    ...(opts.hostname ? { 'dnsop.io/hostname': opts.hostname } : {}),
    ...opts.annotations,
  };
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: opts.namespace ?? 'shop', annotations, labels: opts.labels ?? {} },
    spec: {
      type: opts.type ?? 'ClusterIP',
      clusterIP: opts.clusterIP ?? '10.0.0.1',
      ...(opts.clusterIPs ? { clusterIPs: opts.clusterIPs } : {}),
      ...(opts.selector ? { selector: opts.selector } : {}),
      ...(opts.externalName ? { externalName: opts.externalName } : {}),
      ...(opts.publishNotReadyAddresses ? { publishNotReadyAddresses: true } : {}),
      ...(opts.externalIPs ? { externalIPs: opts.externalIPs } : {}),
      ...(opts.ports ? { ports: opts.ports } : {}),
      ...(opts.externalTrafficPolicy ? { externalTrafficPolicy: opts.externalTrafficPolicy } : {}),
    },
    status: { loadBalancer: { ingress: opts.ingress ?? [] } },
  };
}

export function headless(
  name: string,
  selector: Ann | undefined,
  hostname: string,
  extra: { namespace?: string; publishNotReadyAddresses?: boolean } = {},
): V1Service {
  return service(name, {
    ...extra,
    hostname,
    clusterIP: 'None',
    ...(selector ? { selector } : {}),
  });
}

export function pod(
  name: string,
  opts: {
    namespace?: string;
    labels?: Ann;
    ip?: string;
    ips?: string[];
    ready?: boolean;
    hostname?: string;
    annotations?: Ann;
    phase?: string;
    terminating?: boolean;
    nodeName?: string;
  } = {},
): V1Pod {
  const ips = opts.ips ?? (opts.ip ? [opts.ip] : []);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: opts.namespace ?? 'shop',
      labels: opts.labels ?? {},
      annotations: opts.annotations ?? {},
      ...(opts.terminating ? { deletionTimestamp: new Date('2026-01-01T00:00:00Z') } : {}),
    },
    spec: {
      containers: [],
      ...(opts.hostname ? { hostname: opts.hostname } : {}),
      ...(opts.nodeName ? { nodeName: opts.nodeName } : {}),
    },
    status: {
      phase: opts.phase ?? 'Running',
      ...(ips[0] ? { podIP: ips[0] } : {}),
      podIPs: ips.map((ip) => ({ ip })),
      conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }],
    },
  };
}

export function endpointSlice(
  service: string,
  endpoints: { addresses: string[]; ready?: boolean; hostname?: string }[],
  opts: { namespace?: string; addressType?: string; name?: string } = {},
): V1EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: opts.name ?? `${service}-abc`,
      namespace: opts.namespace ?? 'shop',
      labels: { 'kubernetes.io/service-name': service },
    },
    addressType: opts.addressType ?? 'IPv4',
    endpoints: endpoints.map((e) => ({
      addresses: e.addresses,
      ...(e.ready !== undefined ? { conditions: { ready: e.ready } } : {}),
      ...(e.hostname ? { hostname: e.hostname } : {}),
    })),
  };
}

/** A node with the given addresses: "ExternalIP=1.2.3.4" or "InternalIP=10.0.0.1". */
export function node(
  name: string,
  addresses: string[],
  opts: { unschedulable?: boolean } = {},
): V1Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name },
    spec: opts.unschedulable ? { unschedulable: true } : {},
    status: {
      addresses: addresses.map((a) => {
        const [type, address] = a.split('=');
        return { type: type ?? '', address: address ?? '' };
      }),
    },
  };
}

export function ingress(
  name: string,
  opts: {
    namespace?: string;
    hosts?: string[];
    tlsHosts?: string[];
    className?: string;
    annotations?: Ann;
    labels?: Ann;
    lb?: { ip?: string; hostname?: string }[];
  } = {},
): V1Ingress {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: objectMeta(name, opts),
    spec: {
      ...(opts.className ? { ingressClassName: opts.className } : {}),
      rules: (opts.hosts ?? ['web.example.com']).map((host) => ({ host })),
      ...(opts.tlsHosts ? { tls: [{ hosts: opts.tlsHosts }] } : {}),
    },
    status: { loadBalancer: { ingress: opts.lb ?? [{ ip: '203.0.113.30' }] } },
  };
}

export function dnsEndpoint(
  name: string,
  endpoints: DNSEndpointRecord[],
  opts: { namespace?: string; labels?: Ann; annotations?: Ann } = {},
): DNSEndpoint {
  return {
    apiVersion: 'externaldns.k8s.io/v1alpha1',
    kind: 'DNSEndpoint',
    metadata: objectMeta(name, opts),
    spec: { endpoints },
  };
}

export function namespace(name: string, labels: Ann = {}): V1Namespace {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } };
}

export function listener(name: string, opts: Partial<Listener> = {}): Listener {
  return { name, port: 80, protocol: 'HTTP', ...opts };
}

export function gateway(
  name: string,
  opts: {
    namespace?: string;
    listeners?: Listener[];
    addresses?: { type?: string; value: string }[];
    annotations?: Ann;
  } = {},
): Gateway {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name, namespace: opts.namespace ?? 'infra', annotations: opts.annotations ?? {} },
    spec: {
      gatewayClassName: 'test',
      listeners: opts.listeners ?? [
        listener('http', { allowedRoutes: { namespaces: { from: 'All' } } }),
      ],
    },
    status: { addresses: opts.addresses ?? [{ type: 'IPAddress', value: '203.0.113.10' }] },
  };
}

/** A parent status entry that says Accepted=<status> at <generation>. */
export function parentStatus(
  ref: ParentReference,
  generation: number,
  accepted: 'True' | 'False' = 'True',
  reason = 'Accepted',
): RouteParentStatus {
  return {
    parentRef: ref,
    controllerName: 'example.com/gateway-controller',
    conditions: [
      {
        type: 'Accepted',
        status: accepted,
        reason,
        message: accepted === 'True' ? 'accepted' : 'refused by the controller',
        observedGeneration: generation,
        lastTransitionTime: new Date('2026-01-01T00:00:00Z'),
      },
    ],
  };
}

/** A route whose parents are all Accepted at its current generation unless `status` is given. */
export function httpRoute(
  name: string,
  opts: {
    namespace?: string;
    hostnames?: string[];
    parentRefs?: ParentReference[];
    generation?: number;
    status?: RouteParentStatus[];
    labels?: Ann;
    annotations?: Ann;
  } = {},
): HTTPRoute {
  const generation = opts.generation ?? 1;
  const parentRefs = opts.parentRefs ?? [{ name: 'external', namespace: 'infra' }];
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: {
      name,
      namespace: opts.namespace ?? 'shop',
      generation,
      labels: opts.labels ?? {},
      annotations: opts.annotations ?? {},
    },
    spec: { parentRefs, hostnames: opts.hostnames ?? ['checkout.example.com'] },
    status: { parents: opts.status ?? parentRefs.map((ref) => parentStatus(ref, generation)) },
  };
}

/** A route of any kind, built like httpRoute (TCPRoute/UDPRoute get no spec.hostnames). */
export function route(
  kind: RouteKind,
  name: string,
  opts: Parameters<typeof httpRoute>[1] = {},
): Route {
  const base = httpRoute(name, opts);
  const hasHostnames = kind !== 'TCPRoute' && kind !== 'UDPRoute';
  return {
    ...base,
    apiVersion:
      kind === 'HTTPRoute' || kind === 'GRPCRoute'
        ? 'gateway.networking.k8s.io/v1'
        : 'gateway.networking.k8s.io/v1alpha2',
    kind,
    spec: {
      parentRefs: base.spec?.parentRefs ?? [],
      ...(hasHostnames ? { hostnames: base.spec?.hostnames ?? [] } : {}),
    },
  };
}

export function policy(
  name: string,
  spec: Partial<DNSPolicySpec> = {},
  namespace = 'shop',
): DNSPolicy {
  return {
    apiVersion: 'dnsop.io/v1alpha1',
    kind: 'DNSPolicy',
    metadata: { name, namespace, generation: 1, uid: `uid-${namespace}-${name}` },
    spec: {
      sources: [{ kind: 'Service' }, { kind: 'Pod' }, { kind: 'HTTPRoute' }],
      domains: ['example.com'],
      provider: { inMemory: {} },
      policy: 'Sync',
      ttl: 300,
      interval: '60s',
      maxDeletePercent: 50,
      dryRun: false,
      ...spec,
    },
  };
}
