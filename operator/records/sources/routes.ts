/**
 * Gateway API routes -> Endpoints: the names a route asks for (spec.hostnames and the hostname
 * annotation; TCPRoute and UDPRoute only the annotation), as accepted by the listeners of the
 * Gateways it is attached to, pointing at those Gateways' addresses. One rule set for every route
 * kind; each kind only brings its listener protocols (gateway-api.ts).
 */
import type { Diagnostic, Endpoint } from '../endpoint';
import { normaliseName } from '../endpoint';
import { readSourceObject, requestBase, type SourceContext } from './context';
import { attachRouteToGateways, type AttachmentInputs, type RouteHostnames } from './gateway';
import { ROUTE_KIND_RULES, type Route, type RouteKind } from './gateway-api';
import { mergeSameRecord } from './service';
import { buildEndpoints } from './targets';

export interface RouteEndpoints {
  readonly endpoints: readonly Endpoint[];
  readonly diagnostics: readonly Diagnostic[];
  /** Set when a parent's status lags: publish nothing new, keep what this route already owns. */
  readonly held?: string;
}

export function routeHostnames(
  route: Route,
  kind: RouteKind,
  annotation: readonly string[],
): RouteHostnames {
  const rules = ROUTE_KIND_RULES[kind];
  return {
    spec: rules.specHostnames ? [...new Set((route.spec?.hostnames ?? []).map(normaliseName))] : [],
    annotation,
    matchListener: rules.specHostnames,
  };
}

export function routeEndpoints(
  route: Route,
  kind: RouteKind,
  ctx: SourceContext,
  inputs: AttachmentInputs,
): RouteEndpoints {
  const src = readSourceObject(kind, route.metadata, ctx);
  if (src.skipped) return src.result;
  const { object, ann } = src;
  const attachment = attachRouteToGateways(
    {
      route,
      kind,
      hostnames: routeHostnames(route, kind, ann.hostnames),
      controllers: ctx.controllers,
    },
    inputs,
  );
  const diagnostics: Diagnostic[] = [...ann.diagnostics, ...attachment.diagnostics];
  if (ann.internalHostnames.length > 0) {
    diagnostics.push({
      object,
      reason: 'InvalidAnnotation',
      message: `the internal-hostname annotation applies to Services and Pods only; ignored on a ${kind}`,
    });
  }
  if (attachment.lagging) return { endpoints: [], diagnostics, held: attachment.route };

  // A hostname served by several Gateways points at all of their addresses.
  const targetsByName = new Map<string, Set<string>>();
  for (const { outcome } of attachment.parents) {
    if (outcome.kind !== 'Attached') continue;
    for (const name of outcome.hostnames) {
      const set = targetsByName.get(name) ?? new Set<string>();
      outcome.targets.forEach((t) => set.add(t));
      targetsByName.set(name, set);
    }
  }
  const endpoints: Endpoint[] = [];
  for (const [name, targets] of targetsByName) {
    const built = buildEndpoints({
      ...requestBase(object, ann, ctx),
      names: [name],
      targets: ann.targets ?? [...targets],
    });
    endpoints.push(...built.endpoints);
    diagnostics.push(...built.diagnostics);
  }
  return { endpoints: mergeSameRecord(endpoints), diagnostics };
}
