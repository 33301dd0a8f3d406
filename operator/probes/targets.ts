/**
 * CoreDNS discovery (pure, over cached objects): what a DNSProbe probes.
 *
 * - `addresses`: each fixed address at spec.server.port.
 * - `serviceRef`: the Service's ClusterIP(s), plus every ready pod endpoint of the Service: from
 *   its EndpointSlices when it has any, else from the Running pods its selector matches (clusters
 *   and test harnesses without an EndpointSlice controller). Pod targets use the endpoint's port
 *   for the Service port that matches spec.server.port.
 *
 * A pod target that was being probed and then turns not-ready stays a target while it exists and
 * is not terminating: a pod that fails its probes and its readiness is exactly the one remediation
 * is for, and dropping it the moment the kubelet notices would hide it. A pod that was never ready
 * (starting up) is not probed.
 */
import net from 'node:net';
import type { V1EndpointSlice, V1Pod, V1Service, V1ServicePort } from '@kubernetes/client-node';
import type { DNSProbeSpec } from '../api/types';
import type { TargetIdentity } from './detector';
import type { EngineTarget } from './engine';
import { makeTarget, type Transport } from './resolver';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export interface DiscoveredTarget extends EngineTarget {
  /** Pod targets: the pod's UID (eviction precondition) when known. */
  readonly podUid?: string;
  /** Pod targets: the endpoint (or pod) reports Ready. */
  readonly endpointReady?: boolean;
  /** Pod targets: where the pod's ready endpoint is (tenancy.ts `withPodReadiness`). */
  readonly readiness?: { readonly port: number; readonly path: string };
}

export interface DiscoveryInput {
  readonly server: DNSProbeSpec['server'];
  /** The namespace of the referenced Service (serviceRef.namespace, else the DNSProbe's). */
  readonly namespace: string;
  readonly transport: Transport;
  /** The referenced Service, when it exists. */
  readonly service?: V1Service;
  /** EndpointSlices labelled with the Service's name. */
  readonly slices: readonly V1EndpointSlice[];
  /** Pods in the Service's namespace (selector matching happens here). */
  readonly pods: readonly V1Pod[];
  /** Keys of pod targets probed until now (for the sticky not-ready rule). */
  readonly previous: ReadonlySet<string>;
}

export interface Discovery {
  readonly targets: readonly DiscoveredTarget[];
  /** Why there are fewer targets than expected (missing Service, bad address); empty when fine. */
  readonly problems: readonly { readonly reason: string; readonly message: string }[];
}

export function discoverTargets(input: DiscoveryInput): Discovery {
  const { server } = input;
  if (server.addresses !== undefined && server.addresses.length > 0)
    return fixedTargets(server.addresses, server.port);
  const ref = server.serviceRef;
  if (ref === undefined) {
    return {
      targets: [],
      problems: [
        { reason: 'NoServer', message: 'spec.server sets neither serviceRef nor addresses' },
      ],
    };
  }
  const service = input.service;
  const name = `${input.namespace}/${ref.name}`;
  if (service === undefined) {
    return {
      targets: [],
      problems: [
        {
          reason: 'ServiceNotFound',
          message: `Service ${name} not found: create it, or set spec.server.serviceRef to the cluster DNS Service`,
        },
      ],
    };
  }
  const problems: { reason: string; message: string }[] = [];
  const ports = service.spec?.ports ?? [];
  const servicePort = pickServicePort(ports, server.port, input.transport);
  if (servicePort === undefined) {
    const has = ports.map((p) => `${p.port}/${p.protocol ?? 'TCP'}`).join(', ');
    problems.push({
      reason: 'ServicePortNotFound',
      message:
        `Service ${name} has no port ${server.port} (it has ${has === '' ? 'none' : has}): ` +
        `set spec.server.port to its DNS port; probing port ${server.port} anyway`,
    });
  }
  const targets: DiscoveredTarget[] = [];
  for (const ip of clusterIps(service)) {
    targets.push(entry(ip, servicePort?.port ?? server.port, 'Service'));
  }
  const slices = input.slices.filter(
    (s) => s.metadata?.labels?.[SERVICE_NAME_LABEL] === service.metadata?.name,
  );
  const pods =
    slices.length > 0
      ? fromSlices(slices, servicePort, server.port)
      : fromPods(service, input.pods, servicePort, server.port);
  const seen = new Set(targets.map((t) => t.target.key));
  for (const pod of pods.sort(
    (a, b) =>
      (a.identity.pod ?? '').localeCompare(b.identity.pod ?? '') ||
      a.target.key.localeCompare(b.target.key),
  )) {
    if (seen.has(pod.target.key)) continue;
    if (pod.endpointReady !== true && !input.previous.has(pod.target.key)) continue;
    seen.add(pod.target.key);
    targets.push(pod);
  }
  return { targets, problems };
}

function fixedTargets(addresses: readonly string[], port: number): Discovery {
  const targets: DiscoveredTarget[] = [];
  const problems: { reason: string; message: string }[] = [];
  const seen = new Set<string>();
  for (const address of addresses) {
    if (net.isIP(address) === 0) {
      problems.push({ reason: 'InvalidAddress', message: `"${address}" is not an IP address` });
      continue;
    }
    const t = entry(address, port, 'Address');
    if (seen.has(t.target.key)) continue;
    seen.add(t.target.key);
    targets.push(t);
  }
  return { targets, problems };
}

function entry(
  address: string,
  port: number,
  kind: TargetIdentity['kind'],
  pod?: { name: string; uid?: string; ready: boolean },
): DiscoveredTarget {
  const target = makeTarget(address, port);
  return {
    target,
    identity: {
      key: target.key,
      address: target.address,
      kind,
      ...(pod !== undefined ? { pod: pod.name } : {}),
    },
    ...(pod?.uid !== undefined ? { podUid: pod.uid } : {}),
    ...(pod !== undefined ? { endpointReady: pod.ready } : {}),
  };
}

/** The Service port for spec.server.port, preferring the transport's protocol. */
export function pickServicePort(
  ports: readonly V1ServicePort[],
  port: number,
  transport: Transport,
): V1ServicePort | undefined {
  const candidates = ports.filter((p) => p.port === port);
  const protocol = transport === 'tcp' ? 'TCP' : 'UDP';
  return candidates.find((p) => (p.protocol ?? 'TCP') === protocol) ?? candidates[0];
}

function clusterIps(service: V1Service): string[] {
  const ips =
    service.spec?.clusterIPs ??
    (service.spec?.clusterIP !== undefined ? [service.spec.clusterIP] : []);
  return ips.filter((ip) => ip !== 'None' && net.isIP(ip) !== 0);
}

function fromSlices(
  slices: readonly V1EndpointSlice[],
  servicePort: V1ServicePort | undefined,
  fallbackPort: number,
): DiscoveredTarget[] {
  const out: DiscoveredTarget[] = [];
  for (const slice of slices) {
    if (slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6') continue;
    const port = slicePort(slice, servicePort) ?? numericTargetPort(servicePort) ?? fallbackPort;
    for (const ep of slice.endpoints ?? []) {
      if (ep.conditions?.terminating === true) continue;
      // Per the API, a nil ready condition means ready.
      const ready = ep.conditions?.ready !== false;
      const ref = ep.targetRef?.kind === 'Pod' ? ep.targetRef : undefined;
      for (const address of ep.addresses) {
        if (net.isIP(address) === 0) continue;
        out.push(
          entry(address, port, 'Pod', {
            name: ref?.name ?? address,
            ...(ref?.uid !== undefined ? { uid: ref.uid } : {}),
            ready,
          }),
        );
      }
    }
  }
  return out;
}

function slicePort(
  slice: V1EndpointSlice,
  servicePort: V1ServicePort | undefined,
): number | undefined {
  const ports = slice.ports ?? [];
  const match =
    ports.find(
      (p) =>
        p.name === servicePort?.name && (p.protocol ?? 'TCP') === (servicePort?.protocol ?? 'TCP'),
    ) ?? ports.find((p) => (p.name ?? '') === (servicePort?.name ?? ''));
  return match?.port;
}

function numericTargetPort(sp: V1ServicePort | undefined): number | undefined {
  const tp = sp?.targetPort;
  if (typeof tp === 'number') return tp;
  if (typeof tp === 'string' && /^[0-9]+$/.test(tp)) return Number(tp);
  return undefined;
}

/** Pods selected by the Service's selector, Running, not being deleted, with an IP. */
function fromPods(
  service: V1Service,
  pods: readonly V1Pod[],
  servicePort: V1ServicePort | undefined,
  fallbackPort: number,
): DiscoveredTarget[] {
  const selector = service.spec?.selector;
  if (selector === undefined || Object.keys(selector).length === 0) return [];
  const out: DiscoveredTarget[] = [];
  for (const pod of pods) {
    if (!selectedLivePod(pod, service.metadata?.namespace, selector)) continue;
    const port = podPort(pod, servicePort) ?? fallbackPort;
    const ref = {
      name: pod.metadata?.name ?? '',
      ...(pod.metadata?.uid !== undefined ? { uid: pod.metadata.uid } : {}),
      ready: isPodReady(pod),
    };
    for (const ip of podIps(pod)) out.push(entry(ip, port, 'Pod', ref));
  }
  return out;
}

function selectedLivePod(
  pod: V1Pod,
  namespace: string | undefined,
  selector: Record<string, string>,
): boolean {
  const labels = pod.metadata?.labels ?? {};
  return (
    pod.metadata?.namespace === namespace &&
    Object.entries(selector).every(([k, v]) => labels[k] === v) &&
    pod.metadata?.deletionTimestamp === undefined &&
    pod.status?.phase === 'Running'
  );
}

export function isPodReady(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
}

function podIps(pod: V1Pod): string[] {
  const ips =
    pod.status?.podIPs?.map((p) => p.ip) ??
    (pod.status?.podIP !== undefined ? [pod.status.podIP] : []);
  return ips.filter((ip) => net.isIP(ip) !== 0);
}

function podPort(pod: V1Pod, sp: V1ServicePort | undefined): number | undefined {
  const numeric = numericTargetPort(sp);
  if (numeric !== undefined) return numeric;
  const name = typeof sp?.targetPort === 'string' ? sp.targetPort : undefined;
  if (name === undefined) return sp?.port;
  for (const c of pod.spec?.containers ?? []) {
    const p = c.ports?.find(
      (cp) => cp.name === name && (cp.protocol ?? 'TCP') === (sp?.protocol ?? 'TCP'),
    );
    if (p !== undefined) return p.containerPort;
  }
  return undefined;
}
