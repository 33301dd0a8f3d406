/**
 * Ingress (networking.k8s.io/v1) -> Endpoints (seeds/004 is a GKE Ingress published to Route 53).
 * Names: `spec.rules[].host`, `spec.tls[].hosts` and the hostname annotation. Targets: the
 * `target` annotation, else `status.loadBalancer.ingress`: an IP is an A/AAAA record and never an
 * alias; a hostname is a CNAME, or an alias where the provider makes one.
 */
import type { V1Ingress } from '@kubernetes/client-node';
import type { PolicySource } from '../../api/types';
import { normaliseName } from '../endpoint';
import { readSourceObject, requestBase, type SourceContext } from './context';
import { buildEndpoints, type BuiltEndpoints } from './targets';

/** The legacy annotation older Ingresses name their class with (before spec.ingressClassName). */
export const INGRESS_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';

/** The Ingress's class: spec.ingressClassName, else the legacy annotation. */
export function ingressClassOf(ingress: V1Ingress): string | undefined {
  const name = ingress.spec?.ingressClassName;
  if (name !== undefined && name !== '') return name;
  return ingress.metadata?.annotations?.[INGRESS_CLASS_ANNOTATION];
}

/** True when a source entry's `ingressClassNames` admits the Ingress (no list admits all). */
export function sourceAdmitsIngressClass(source: PolicySource, ingress: V1Ingress): boolean {
  const names = source.ingressClassNames;
  if (names === undefined || names.length === 0) return true;
  const cls = ingressClassOf(ingress);
  return cls !== undefined && names.includes(cls);
}

function ingressHosts(ingress: V1Ingress): string[] {
  const rules = (ingress.spec?.rules ?? []).map((r) => r.host);
  const tls = (ingress.spec?.tls ?? []).flatMap((t) => t.hosts ?? []);
  return [...rules, ...tls]
    .filter((h): h is string => h !== undefined && h !== '')
    .map(normaliseName);
}

export function ingressEndpoints(ingress: V1Ingress, ctx: SourceContext): BuiltEndpoints {
  const src = readSourceObject('Ingress', ingress.metadata, ctx);
  if (src.skipped) return src.result;
  const { object, ann } = src;
  const diagnostics = [...ann.diagnostics];
  if (ann.internalHostnames.length > 0) {
    diagnostics.push({
      object,
      reason: 'InvalidAnnotation',
      message:
        'the internal-hostname annotation applies to Services and Pods only; ignored on an Ingress',
    });
  }
  const names = [...new Set([...ingressHosts(ingress), ...ann.hostnames])];
  if (names.length === 0) {
    diagnostics.push({
      object,
      reason: 'NoHostname',
      message:
        'no rule sets a host and there is no hostname annotation: there is no name to publish',
    });
    return { endpoints: [], diagnostics };
  }
  const targets =
    ann.targets ??
    (ingress.status?.loadBalancer?.ingress ?? [])
      .flatMap((i) => [i.ip, i.hostname])
      .filter((t): t is string => !!t);
  if (targets.length === 0) {
    diagnostics.push({
      object,
      reason: 'NoLoadBalancerAddress',
      message:
        'the Ingress has no address yet (status.loadBalancer.ingress is empty); its ingress controller sets it',
    });
    return { endpoints: [], diagnostics };
  }
  const built = buildEndpoints({ ...requestBase(object, ann, ctx), names, targets });
  return { endpoints: built.endpoints, diagnostics: [...diagnostics, ...built.diagnostics] };
}
