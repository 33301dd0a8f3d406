/**
 * Service -> Endpoints, per type (external-dns parity, seeds/000):
 * - `spec.externalIPs`, when set, win over every other address of a non-headless Service;
 * - LoadBalancer: the ingress IPs (A/AAAA) or hostname (CNAME, or a provider alias);
 * - NodePort: the ExternalIP (else InternalIP) of its nodes, plus `_<port>._<proto>.<name>` SRV;
 * - ExternalName: a CNAME, or A/AAAA when the external name is an IP;
 * - ClusterIP: the cluster IPs, only with spec.publishInternalServices (else InternalService);
 * - headless with a selector: the selected pods that back it (a pod's `target` annotation
 *   replacing its IPs), plus `<pod hostname>.<name>` per pod;
 *   headless without a selector: its EndpointSlices.
 * `internal-hostname` names always get the cluster-internal address (the cluster IPs).
 */
import type { V1EndpointSlice, V1Pod, V1Service } from '@kubernetes/client-node';
import type { Diagnostic, Endpoint } from '../endpoint';
import { hostnameProblem } from '../hostname';
import { readTargets } from './annotations';
import { readSourceObject, requestBase, type SourceContext } from './context';
import type { Labels } from './labels';
import { nodeAddresses, nodePortNodes, type NodeInputs } from './nodes';
import { podBacksService, podIPs } from './pods';
import { buildEndpoints, type BuiltEndpoints, type RecordRequest } from './targets';

/** What the Service source needs besides the Service itself (answered from caches). */
export interface ServiceInputs extends NodeInputs {
  /** Pods in `namespace` whose labels satisfy the Service's selector map. */
  podsSelectedBy(namespace: string, selector: Labels): readonly V1Pod[];
  /** EndpointSlices labelled kubernetes.io/service-name=<service> in `namespace`. */
  endpointSlicesOf(namespace: string, service: string): readonly V1EndpointSlice[];
}

export function isHeadless(svc: V1Service): boolean {
  return svc.spec?.clusterIP === 'None';
}

function hasSelector(svc: V1Service): boolean {
  return Object.keys(svc.spec?.selector ?? {}).length > 0;
}

/** A headless Service with a non-empty selector: its records follow its pods (seeds/000). */
export function selectsPods(svc: V1Service): boolean {
  return isHeadless(svc) && hasSelector(svc);
}

/**
 * Services whose records depend on their pods: headless ones with a selector, and NodePort ones
 * with externalTrafficPolicy Local (their nodes are the nodes running their pods).
 */
export function followsPods(svc: V1Service): boolean {
  return (
    selectsPods(svc) ||
    (svc.spec?.type === 'NodePort' &&
      svc.spec.externalTrafficPolicy === 'Local' &&
      hasSelector(svc))
  );
}

interface Backend {
  readonly ips: readonly string[];
  readonly hostname?: string;
}

function selectedPods(svc: V1Service, inputs: ServiceInputs): readonly V1Pod[] {
  const selector = svc.spec?.selector;
  if (selector === undefined || Object.keys(selector).length === 0) return [];
  return inputs.podsSelectedBy(svc.metadata?.namespace ?? '', selector);
}

function headlessBackends(svc: V1Service, inputs: ServiceInputs): Backend[] {
  const namespace = svc.metadata?.namespace ?? '';
  const publishNotReady = svc.spec?.publishNotReadyAddresses === true;
  if (hasSelector(svc)) {
    return selectedPods(svc, inputs)
      .filter((pod) => podBacksService(pod, publishNotReady))
      .map((pod) => ({
        // A pod's own target annotation stands in for its IP (as external-dns reads it).
        ips: readTargets(pod.metadata?.annotations) ?? podIPs(pod),
        ...(pod.spec?.hostname ? { hostname: pod.spec.hostname } : {}),
      }));
  }
  const backends: Backend[] = [];
  for (const slice of inputs.endpointSlicesOf(namespace, svc.metadata?.name ?? '')) {
    if (slice.addressType === 'FQDN') continue;
    for (const ep of slice.endpoints ?? []) {
      // An endpoint with no ready condition counts as ready (EndpointSlice API semantics).
      const ready = ep.conditions?.ready !== false;
      if (!ready && !publishNotReady) continue;
      backends.push({ ips: ep.addresses ?? [], ...(ep.hostname ? { hostname: ep.hostname } : {}) });
    }
  }
  return backends;
}

function clusterIPs(svc: V1Service): string[] {
  const ips = svc.spec?.clusterIPs ?? (svc.spec?.clusterIP ? [svc.spec.clusterIP] : []);
  return ips.filter((ip) => ip !== 'None' && ip !== '');
}

/** One Service's request: the object, TTL and alias wish shared by every record it makes. */
interface ServiceRequest {
  readonly svc: V1Service;
  readonly base: Pick<RecordRequest, 'object' | 'ttl' | 'alias'>;
  readonly ctx: SourceContext;
  readonly inputs: ServiceInputs;
  readonly out: { endpoints: Endpoint[]; diagnostics: Diagnostic[] };
}

function add(req: ServiceRequest, built: BuiltEndpoints): void {
  req.out.endpoints.push(...built.endpoints);
  req.out.diagnostics.push(...built.diagnostics);
}

function publish(req: ServiceRequest, names: readonly string[], targets: readonly string[]): void {
  add(req, buildEndpoints({ ...req.base, names, targets }));
}

function diagnose(req: ServiceRequest, reason: string, message: string): void {
  req.out.diagnostics.push({ object: req.base.object, reason, message });
}

function publishHeadless(req: ServiceRequest, names: readonly string[]): void {
  const backends = headlessBackends(req.svc, req.inputs);
  if (backends.length === 0) {
    diagnose(
      req,
      'NoReadyEndpoints',
      selectsPods(req.svc)
        ? 'no ready pod matches the selector; records for this Service are removed until one is ready'
        : 'no ready address in the EndpointSlices of this headless Service',
    );
    return;
  }
  publish(
    req,
    names,
    backends.flatMap((b) => b.ips),
  );
  const plainNames = names.filter((h) => !h.startsWith('*.'));
  for (const backend of backends) {
    if (backend.hostname === undefined) continue;
    publish(
      req,
      plainNames.map((h) => `${backend.hostname}.${h}`),
      backend.ips,
    );
  }
}

function publishInternal(req: ServiceRequest, names: readonly string[], why: string): void {
  if (req.ctx.publishInternalServices) {
    publish(req, names, clusterIPs(req.svc));
    return;
  }
  diagnose(
    req,
    'InternalService',
    `${why}; its cluster IP is published only when the policy sets spec.publishInternalServices (or use the internal-hostname annotation)`,
  );
}

/** `_<port name, else Service name>._<protocol>.<name>` -> "0 50 <nodePort> <name>." per node port. */
function nodePortSrv(req: ServiceRequest, names: readonly string[]): void {
  for (const name of names.filter((n) => !n.startsWith('*.'))) {
    for (const port of req.svc.spec?.ports ?? []) {
      if (port.nodePort === undefined || port.nodePort <= 0) continue;
      const service = port.name ? port.name : (req.svc.metadata?.name ?? '');
      const proto = (port.protocol ?? 'TCP').toLowerCase();
      const srvName = `_${service}._${proto}.${name}`;
      if (hostnameProblem(srvName, { allowWildcard: false, allowMetadataLabels: true })) continue;
      req.out.endpoints.push({
        name: srvName,
        type: 'SRV',
        targets: [`0 50 ${port.nodePort} ${name}.`],
        ttl: req.base.ttl,
        source: req.base.object,
      });
    }
  }
}

function publishNodePort(req: ServiceRequest, names: readonly string[]): void {
  const nodes = nodePortNodes(req.svc, selectedPods(req.svc, req.inputs), req.inputs);
  const addresses = nodeAddresses(nodes);
  if (addresses.length === 0) {
    publishInternal(
      req,
      names,
      req.svc.spec?.externalTrafficPolicy === 'Local'
        ? 'no node runs a backend of this NodePort Service (externalTrafficPolicy Local)'
        : 'no schedulable node has an address for this NodePort Service',
    );
    return;
  }
  publish(req, names, addresses);
  nodePortSrv(req, names);
}

function publishLoadBalancer(req: ServiceRequest, names: readonly string[]): void {
  const targets = (req.svc.status?.loadBalancer?.ingress ?? [])
    .flatMap((i) => [i.ip, i.hostname])
    .filter((t): t is string => !!t);
  if (targets.length === 0) {
    diagnose(
      req,
      'LoadBalancerPending',
      'the load balancer has no ingress address yet (status.loadBalancer.ingress is empty)',
    );
    return;
  }
  publish(req, names, targets);
}

/** Records for the `hostname` names: the Service's externally reachable addresses. */
function publishHostnames(req: ServiceRequest, names: readonly string[]): void {
  const { svc } = req;
  if (isHeadless(svc)) return publishHeadless(req, names);
  const externalIPs = svc.spec?.externalIPs ?? [];
  if (externalIPs.length > 0) return publish(req, names, externalIPs);
  switch (svc.spec?.type) {
    case 'LoadBalancer':
      return publishLoadBalancer(req, names);
    case 'NodePort':
      return publishNodePort(req, names);
    case 'ExternalName': {
      const target = svc.spec.externalName;
      if (target) return publish(req, names, [target]);
      return diagnose(req, 'NoTargets', 'the ExternalName Service has no spec.externalName');
    }
    default:
      return publishInternal(
        req,
        names,
        'a ClusterIP Service is reachable only inside the cluster',
      );
  }
}

/** Records for the `internal-hostname` names: the cluster-internal address. */
function publishInternalHostnames(req: ServiceRequest, names: readonly string[]): void {
  const { svc } = req;
  if (isHeadless(svc)) return publishHeadless(req, names);
  if (svc.spec?.type === 'ExternalName') {
    if (svc.spec.externalName) publish(req, names, [svc.spec.externalName]);
    return;
  }
  const ips = clusterIPs(svc);
  if (ips.length === 0) return diagnose(req, 'NoTargets', 'the Service has no cluster IP');
  publish(req, names, ips);
}

export function serviceEndpoints(
  svc: V1Service,
  ctx: SourceContext,
  inputs: ServiceInputs,
): BuiltEndpoints {
  const src = readSourceObject('Service', svc.metadata, ctx);
  if (src.skipped) return src.result;
  const { object, ann } = src;
  const out = { endpoints: [] as Endpoint[], diagnostics: [...ann.diagnostics] };
  if (ann.hostnames.length === 0 && ann.internalHostnames.length === 0) return out;
  const req: ServiceRequest = {
    svc,
    base: requestBase(object, ann, ctx),
    ctx,
    inputs,
    out,
  };
  if (ann.targets !== undefined) {
    publish(req, [...ann.hostnames, ...ann.internalHostnames], ann.targets);
  } else {
    if (ann.hostnames.length > 0) publishHostnames(req, ann.hostnames);
    if (ann.internalHostnames.length > 0) publishInternalHostnames(req, ann.internalHostnames);
  }
  return { endpoints: mergeSameRecord(out.endpoints), diagnostics: out.diagnostics };
}

/** Joins record sets at the same name and type (e.g. two pods with one hostname) into one. */
export function mergeSameRecord(endpoints: readonly Endpoint[]): Endpoint[] {
  const byKey = new Map<string, Endpoint>();
  for (const ep of endpoints) {
    const key = `${ep.name}/${ep.type}`;
    const seen = byKey.get(key);
    if (seen === undefined) byKey.set(key, ep);
    else if (ep.type !== 'CNAME') {
      byKey.set(key, { ...seen, targets: [...new Set([...seen.targets, ...ep.targets])].sort() });
    }
  }
  return [...byKey.values()];
}
