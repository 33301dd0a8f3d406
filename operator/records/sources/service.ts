/**
 * Service -> Endpoints. LoadBalancer: ingress IPs (A/AAAA) or hostname (CNAME); ExternalName: CNAME;
 * ClusterIP: the cluster IPs; headless with a selector: the selected pods that back it, plus
 * `<pod hostname>.<name>` per pod; headless without a selector: its EndpointSlices.
 */
import type { V1EndpointSlice, V1Pod, V1Service } from '@kubernetes/client-node';
import type { Diagnostic, Endpoint } from '../endpoint';
import { readRecordAnnotations } from './annotations';
import type { Labels } from './labels';
import { podBacksService, podIPs } from './pods';
import { buildEndpoints, objectRef, type BuiltEndpoints } from './targets';

/** What the Service source needs besides the Service itself (answered from caches). */
export interface ServiceInputs {
  /** Pods in `namespace` whose labels satisfy the Service's selector map. */
  podsSelectedBy(namespace: string, selector: Labels): readonly V1Pod[];
  /** EndpointSlices labelled kubernetes.io/service-name=<service> in `namespace`. */
  endpointSlicesOf(namespace: string, service: string): readonly V1EndpointSlice[];
}

export function isHeadless(svc: V1Service): boolean {
  return svc.spec?.clusterIP === 'None';
}

/** A headless Service with a non-empty selector: its records follow its pods (seeds/000). */
export function selectsPods(svc: V1Service): boolean {
  return isHeadless(svc) && Object.keys(svc.spec?.selector ?? {}).length > 0;
}

interface Backend {
  readonly ips: readonly string[];
  readonly hostname?: string;
}

function headlessBackends(svc: V1Service, inputs: ServiceInputs): Backend[] {
  const namespace = svc.metadata?.namespace ?? '';
  const publishNotReady = svc.spec?.publishNotReadyAddresses === true;
  const selector = svc.spec?.selector;
  if (selector !== undefined && Object.keys(selector).length > 0) {
    return inputs
      .podsSelectedBy(namespace, selector)
      .filter((pod) => podBacksService(pod, publishNotReady))
      .map((pod) => ({
        ips: podIPs(pod),
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

function statusTargets(svc: V1Service): string[] {
  switch (svc.spec?.type) {
    case 'ExternalName':
      return svc.spec.externalName ? [svc.spec.externalName] : [];
    case 'LoadBalancer':
      return (svc.status?.loadBalancer?.ingress ?? [])
        .flatMap((i) => [i.ip, i.hostname])
        .filter((t): t is string => !!t);
    default: {
      const ips = svc.spec?.clusterIPs ?? (svc.spec?.clusterIP ? [svc.spec.clusterIP] : []);
      return ips.filter((ip) => ip !== 'None' && ip !== '');
    }
  }
}

export function serviceEndpoints(
  svc: V1Service,
  defaultTtl: number,
  inputs: ServiceInputs,
): BuiltEndpoints {
  const object = objectRef('Service', svc.metadata);
  const ann = readRecordAnnotations(svc.metadata, object);
  if (ann.hostnames.length === 0) return { endpoints: [], diagnostics: ann.diagnostics };
  const ttl = ann.ttl ?? defaultTtl;
  const alias = ann.alias !== undefined ? { alias: ann.alias } : {};
  const endpoints: Endpoint[] = [];
  const diagnostics: Diagnostic[] = [...ann.diagnostics];
  const add = (built: BuiltEndpoints): void => {
    endpoints.push(...built.endpoints);
    diagnostics.push(...built.diagnostics);
  };

  if (ann.targets !== undefined) {
    add(buildEndpoints({ object, names: ann.hostnames, targets: ann.targets, ttl, ...alias }));
    return { endpoints, diagnostics };
  }
  if (!isHeadless(svc)) {
    const targets = statusTargets(svc);
    if (targets.length === 0) {
      const pending = svc.spec?.type === 'LoadBalancer';
      diagnostics.push({
        object,
        reason: pending ? 'LoadBalancerPending' : 'NoTargets',
        message: pending
          ? 'the load balancer has no ingress address yet (status.loadBalancer.ingress is empty)'
          : 'the Service has no cluster IP or external name to publish',
      });
    }
    add(buildEndpoints({ object, names: ann.hostnames, targets, ttl, ...alias }));
    return { endpoints, diagnostics };
  }

  const backends = headlessBackends(svc, inputs);
  if (backends.length === 0) {
    diagnostics.push({
      object,
      reason: 'NoReadyEndpoints',
      message: selectsPods(svc)
        ? 'no ready pod matches the selector; records for this Service are removed until one is ready'
        : 'no ready address in the EndpointSlices of this headless Service',
    });
    return { endpoints, diagnostics };
  }
  add(
    buildEndpoints({
      object,
      names: ann.hostnames,
      targets: backends.flatMap((b) => b.ips),
      ttl,
      ...alias,
    }),
  );
  const plainNames = ann.hostnames.filter((h) => !h.startsWith('*.'));
  for (const backend of backends) {
    if (backend.hostname === undefined) continue;
    const names = plainNames.map((h) => `${backend.hostname}.${h}`);
    add(buildEndpoints({ object, names, targets: backend.ips, ttl, ...alias }));
  }
  return { endpoints: mergeSameRecord(endpoints), diagnostics };
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
