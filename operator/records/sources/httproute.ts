/** HTTPRoute -> Endpoints: attached hostnames pointing at their Gateways' addresses. */
import type { Diagnostic, Endpoint } from '../endpoint';
import { readRecordAnnotations } from './annotations';
import { attachRouteToGateways, type AttachmentInputs } from './gateway';
import type { HTTPRoute } from './gateway-api';
import { mergeSameRecord } from './service';
import { buildEndpoints } from './targets';

export interface RouteEndpoints {
  readonly endpoints: readonly Endpoint[];
  readonly diagnostics: readonly Diagnostic[];
  /** Set when a parent's status lags: publish nothing new, keep what this route already owns. */
  readonly held?: string;
}

export function httpRouteEndpoints(
  route: HTTPRoute,
  defaultTtl: number,
  inputs: AttachmentInputs,
): RouteEndpoints {
  const attachment = attachRouteToGateways(route, inputs);
  const ann = readRecordAnnotations(route.metadata, attachment.route);
  const diagnostics: Diagnostic[] = [...ann.diagnostics, ...attachment.diagnostics];
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
      object: attachment.route,
      names: [name],
      targets: [...targets],
      ttl: ann.ttl ?? defaultTtl,
      ...(ann.alias !== undefined ? { alias: ann.alias } : {}),
    });
    endpoints.push(...built.endpoints);
    diagnostics.push(...built.diagnostics);
  }
  return { endpoints: mergeSameRecord(endpoints), diagnostics };
}
