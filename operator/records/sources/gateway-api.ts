/**
 * The parts of the Gateway API (gateway.networking.k8s.io/v1) the HTTPRoute source reads.
 * Only fields dnsop uses are typed; everything is optional where the API allows omission.
 */
import type {
  KubernetesObject,
  V1Condition,
  V1LabelSelector,
  V1ObjectMeta,
} from '@kubernetes/client-node';

export const GATEWAY_API_GROUP = 'gateway.networking.k8s.io';

export interface ParentReference {
  readonly group?: string;
  readonly kind?: string;
  readonly namespace?: string;
  readonly name: string;
  readonly sectionName?: string;
  readonly port?: number;
}

export interface RouteParentStatus {
  readonly parentRef: ParentReference;
  readonly controllerName?: string;
  readonly conditions?: readonly V1Condition[];
}

/** The Gateway API route kinds dnsop publishes. */
export const ROUTE_KINDS = ['HTTPRoute', 'GRPCRoute', 'TLSRoute', 'TCPRoute', 'UDPRoute'] as const;
export type RouteKind = (typeof ROUTE_KINDS)[number];

/**
 * Any route kind: the fields dnsop reads are common to all of them. TCPRoute and UDPRoute have no
 * spec.hostnames; their names come from the hostname annotation.
 */
export interface Route extends KubernetesObject {
  readonly metadata?: V1ObjectMeta;
  readonly spec?: {
    readonly parentRefs?: readonly ParentReference[];
    readonly hostnames?: readonly string[];
  };
  readonly status?: { readonly parents?: readonly RouteParentStatus[] };
}

export type HTTPRoute = Route;

export interface RouteKindRules {
  /** Listener protocols a route of this kind attaches to. */
  readonly protocols: ReadonlySet<string>;
  /** Whether the kind has spec.hostnames (matched against listener hostnames). */
  readonly specHostnames: boolean;
}

export const ROUTE_KIND_RULES: Readonly<Record<RouteKind, RouteKindRules>> = {
  HTTPRoute: { protocols: new Set(['HTTP', 'HTTPS']), specHostnames: true },
  GRPCRoute: { protocols: new Set(['HTTP', 'HTTPS']), specHostnames: true },
  TLSRoute: { protocols: new Set(['TLS']), specHostnames: true },
  TCPRoute: { protocols: new Set(['TCP']), specHostnames: false },
  UDPRoute: { protocols: new Set(['UDP']), specHostnames: false },
};

export function isRouteKind(kind: string): kind is RouteKind {
  return (ROUTE_KINDS as readonly string[]).includes(kind);
}

export interface RouteGroupKind {
  readonly group?: string;
  readonly kind: string;
}

export interface Listener {
  readonly name: string;
  readonly hostname?: string;
  readonly port: number;
  readonly protocol: string;
  readonly allowedRoutes?: {
    readonly namespaces?: { readonly from?: string; readonly selector?: V1LabelSelector };
    readonly kinds?: readonly RouteGroupKind[];
  };
}

export interface GatewayAddress {
  /** IPAddress (default) | Hostname | implementation-specific. */
  readonly type?: string;
  readonly value: string;
}

export interface Gateway extends KubernetesObject {
  readonly metadata?: V1ObjectMeta;
  readonly spec?: {
    readonly gatewayClassName?: string;
    readonly listeners?: readonly Listener[];
  };
  readonly status?: { readonly addresses?: readonly GatewayAddress[] };
}
