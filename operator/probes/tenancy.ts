/**
 * Tenancy rules for DNSProbe (DESIGN.md, Tenancy). A DNSProbe in a namespace the operator does not
 * trust (--trusted-namespaces) probes its own namespace's Services only: the operator's probe
 * traffic, readiness checks and (never, for a tenant) evictions must not be aimed elsewhere.
 * Pure functions the controller applies at one place:
 *
 * - `probeRefusals`: spec fields that need a trusted namespace (serviceRef to another namespace,
 *   fixed addresses, readiness overrides, remediation mode Evict). A refused DNSProbe does not run.
 * - `confineTargets`: pod targets of an untrusted DNSProbe must be pods of the Service's namespace
 *   (a hand-written EndpointSlice could otherwise point the prober at any IP).
 * - `withPodReadiness`: where each pod's ready endpoint is: the spec's override (trusted only), else
 *   the pod's own readinessProbe (httpGet port, named or numbered, and path), so the check asks what
 *   the kubelet asks and nobody can point it at a port that always says "not ready".
 */
import net from 'node:net';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import type { DNSProbeSpec } from '../api/types';
import { trustHint, type Refusal } from '../runtime/refusal';
import type { DiscoveredTarget, Discovery } from './targets';

export interface ReadinessEndpoint {
  readonly port: number;
  readonly path: string;
}

/** A spec as the controller sees it (defaulted fields may be absent in tests and old objects). */
export type ProbeSpecView = {
  readonly server?: Partial<DNSProbeSpec['server']>;
  readonly readiness?: Partial<ReadinessEndpoint>;
  readonly remediation?: { readonly mode?: string };
};

/** Everything in a DNSProbe's spec that its namespace may not use; empty when it may run. */
export function probeRefusals(spec: ProbeSpecView, namespace: string, trusted: boolean): Refusal[] {
  if (trusted) return [];
  const out: Refusal[] = [];
  const forbid = (field: string, what: string): void => {
    out.push({ reason: 'Forbidden', field, message: `${field}: ${what}; ${trustHint(namespace)}` });
  };
  const refNs = spec.server?.serviceRef?.namespace;
  if (refNs !== undefined && refNs !== '' && refNs !== namespace) {
    forbid(
      'spec.server.serviceRef.namespace',
      `a DNSProbe in "${namespace}" may only probe Services in "${namespace}", not in "${refNs}"; probe a Service of this namespace`,
    );
  }
  if ((spec.server?.addresses?.length ?? 0) > 0) {
    forbid(
      'spec.server.addresses',
      `fixed addresses would aim the operator's probes at any IP; use serviceRef to a Service in "${namespace}"`,
    );
  }
  if (spec.readiness !== undefined) {
    forbid(
      'spec.readiness',
      "only trusted namespaces may override the ready endpoint (each pod's own readinessProbe is used); remove it",
    );
  }
  if (spec.remediation?.mode === 'Evict') {
    forbid(
      'spec.remediation.mode',
      `Evict is for the cluster's DNS pods, run from a trusted namespace; use DryRun to see what would be evicted`,
    );
  }
  return out;
}

/**
 * For an untrusted DNSProbe: keeps pod targets whose address is an IP of a pod in `pods` (the
 * Service's own namespace); the others become a problem (TargetNotAPod). Trusted: unchanged.
 */
export function confineTargets(
  discovery: Discovery,
  pods: readonly V1Pod[],
  trusted: boolean,
): Discovery {
  if (trusted) return discovery;
  const podIps = new Set(pods.flatMap(podIpsOf));
  const kept: DiscoveredTarget[] = [];
  const strays: string[] = [];
  for (const t of discovery.targets) {
    if (t.identity.kind !== 'Pod' || podIps.has(t.identity.address)) kept.push(t);
    else strays.push(t.identity.address);
  }
  if (strays.length === 0) return discovery;
  return {
    targets: kept,
    problems: [
      ...discovery.problems,
      {
        reason: 'TargetNotAPod',
        message: `not probing ${strays.join(', ')}: endpoints of a DNSProbe outside trusted namespaces must be pods of its own namespace`,
      },
    ],
  };
}

function podIpsOf(pod: V1Pod): string[] {
  const ips = pod.status?.podIPs?.map((p) => p.ip) ?? [];
  if (pod.status?.podIP !== undefined) ips.push(pod.status.podIP);
  return ips.filter((ip) => net.isIP(ip) !== 0);
}

/**
 * The ready endpoint of a pod from its own readinessProbe: the first container with an HTTP
 * httpGet probe; a named port is looked up in that container's ports, then in the others'.
 * Undefined when there is none (HTTPS, exec and TCP probes cannot be asked over plain HTTP).
 */
export function podReadinessEndpoint(pod: V1Pod): ReadinessEndpoint | undefined {
  const containers = pod.spec?.containers ?? [];
  for (const container of containers) {
    const get = container.readinessProbe?.httpGet;
    if (get === undefined || (get.scheme ?? 'HTTP').toUpperCase() !== 'HTTP') continue;
    const port = resolvePort(get.port, container, containers);
    if (port === undefined) continue;
    const path = get.path === undefined || get.path === '' ? '/' : get.path;
    return { port, path: path.startsWith('/') ? path : `/${path}` };
  }
  return undefined;
}

function resolvePort(
  port: number | string | undefined,
  own: V1Container,
  all: readonly V1Container[],
): number | undefined {
  if (typeof port === 'number') return validPort(port);
  if (port === undefined || port === '') return undefined;
  if (/^[0-9]+$/.test(port)) return validPort(Number(port));
  for (const c of [own, ...all]) {
    const named = c.ports?.find((p) => p.name === port);
    if (named !== undefined) return validPort(named.containerPort);
  }
  return undefined;
}

function validPort(port: number): number | undefined {
  return Number.isInteger(port) && port >= 1 && port <= 65535 ? port : undefined;
}

/**
 * Sets each pod target's ready endpoint: `override` (the spec's readiness, trusted namespaces
 * only) for all, else the pod's own readinessProbe, else `fallback` (the ready plugin's default).
 */
export function withPodReadiness(
  discovery: Discovery,
  pods: readonly V1Pod[],
  override: ReadinessEndpoint | undefined,
  fallback: ReadinessEndpoint,
): Discovery {
  const byName = new Map(pods.map((p) => [p.metadata?.name ?? '', p]));
  const targets = discovery.targets.map((t): DiscoveredTarget => {
    if (t.identity.kind !== 'Pod') return t;
    const pod = t.identity.pod === undefined ? undefined : byName.get(t.identity.pod);
    const readiness =
      override ?? (pod === undefined ? undefined : podReadinessEndpoint(pod)) ?? fallback;
    return { ...t, readiness };
  });
  return { ...discovery, targets };
}
