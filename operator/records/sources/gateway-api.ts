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

export interface HTTPRoute extends KubernetesObject {
  readonly metadata?: V1ObjectMeta;
  readonly spec?: {
    readonly parentRefs?: readonly ParentReference[];
    readonly hostnames?: readonly string[];
  };
  readonly status?: { readonly parents?: readonly RouteParentStatus[] };
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
