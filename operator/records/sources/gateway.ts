/**
 * Gateway API attachment, the way the Gateway API defines it, plus the generation check of
 * seeds/001: a parent counts only when it is in spec.parentRefs AND its status.parents entry has
 * Accepted=True observed at the route's current generation. Every way a route can fail to
 * produce a record is a diagnostic with a reason (seeds/002).
 */
import type { V1Condition, V1Namespace } from '@kubernetes/client-node';
import type { Diagnostic } from '../endpoint';
import { normaliseName } from '../endpoint';
import { ANNOTATION_TARGET, otherController, readTargets } from './annotations';
import {
  GATEWAY_API_GROUP,
  ROUTE_KIND_RULES,
  type Gateway,
  type Listener,
  type ParentReference,
  type Route,
  type RouteKind,
  type RouteParentStatus,
} from './gateway-api';
import { matchesLabelSelector } from './labels';
import { objectRef } from './targets';

export type AttachmentReason =
  | 'NoParentRefs'
  | 'GatewayNotFound'
  | 'NotAccepted'
  | 'StatusLagging'
  | 'NotAllowedByListeners'
  | 'NoMatchingListener'
  | 'NoMatchingHostname'
  | 'NoHostname'
  | 'GatewayHasNoAddresses'
  | 'OtherController';

/** Lookups the attachment rules need, answered from caches. */
export interface AttachmentInputs {
  gateway(namespace: string, name: string): Gateway | undefined;
  namespace(name: string): V1Namespace | undefined;
}

/** The names a route asks for: spec.hostnames and the hostname annotation, normalised. */
export interface RouteHostnames {
  /** spec.hostnames; empty means "whatever the listener accepts" (Gateway API semantics). */
  readonly spec: readonly string[];
  readonly annotation: readonly string[];
  /** False for TCPRoute/UDPRoute: listener hostnames do not apply, annotation names pass as they are. */
  readonly matchListener: boolean;
}

/** A route of one kind, with the names it asks for and the controllers the operator answers to. */
export interface RouteRequest {
  readonly route: Route;
  readonly kind: RouteKind;
  readonly hostnames: RouteHostnames;
  /** Accepted values of the controller annotation besides "dnsop" (a Gateway naming another is skipped). */
  readonly controllers?: ReadonlySet<string>;
}

export type ParentOutcome =
  | {
      readonly kind: 'Attached';
      readonly hostnames: readonly string[];
      /** The route hostnames (spec or annotation) that produced a name through this parent. */
      readonly matched: readonly string[];
      readonly targets: readonly string[];
    }
  | {
      readonly kind: 'Lagging';
      readonly message: string;
      /** Set when our own listener checks already fail: the reason to show instead of StatusLagging. */
      readonly reason?: AttachmentReason;
    }
  | { readonly kind: 'Refused'; readonly reason: AttachmentReason; readonly message: string };

export interface ParentAttachment {
  /** "Gateway/namespace/name", with "#section" and ":port" when the parentRef names them. */
  readonly parent: string;
  readonly outcome: ParentOutcome;
}

export interface RouteAttachment {
  readonly route: string;
  /** True when a parent's status is behind the route's generation: hold published records. */
  readonly lagging: boolean;
  readonly parents: readonly ParentAttachment[];
  readonly diagnostics: readonly Diagnostic[];
}

export interface ResolvedParentRef {
  readonly group: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly sectionName?: string;
  readonly port?: number;
}

export function resolveParentRef(ref: ParentReference, routeNamespace: string): ResolvedParentRef {
  return {
    group: ref.group ?? GATEWAY_API_GROUP,
    kind: ref.kind ?? 'Gateway',
    namespace: ref.namespace ?? routeNamespace,
    name: ref.name,
    ...(ref.sectionName !== undefined && ref.sectionName !== ''
      ? { sectionName: ref.sectionName }
      : {}),
    ...(ref.port !== undefined ? { port: ref.port } : {}),
  };
}

function describeParent(ref: ResolvedParentRef): string {
  const section = ref.sectionName !== undefined ? `#${ref.sectionName}` : '';
  const port = ref.port !== undefined ? `:${ref.port}` : '';
  return `${ref.kind}/${ref.namespace}/${ref.name}${section}${port}`;
}

function sameParent(a: ResolvedParentRef, b: ResolvedParentRef): boolean {
  return (
    a.group === b.group &&
    a.kind === b.kind &&
    a.namespace === b.namespace &&
    a.name === b.name &&
    a.sectionName === b.sectionName &&
    a.port === b.port
  );
}

type StatusState =
  | { readonly state: 'Accepted' }
  | { readonly state: 'Lagging'; readonly message: string }
  | { readonly state: 'NotAccepted'; readonly condition: V1Condition };

function stateOfEntry(entry: RouteParentStatus, generation: number | undefined): StatusState {
  const accepted = entry.conditions?.find((c) => c.type === 'Accepted');
  if (accepted === undefined) {
    return { state: 'Lagging', message: 'its status entry has no Accepted condition yet' };
  }
  // A manifest that never met an API server has no generation; nor does its status then claim one.
  const current =
    generation === undefined
      ? accepted.observedGeneration === undefined || accepted.observedGeneration === 1
      : accepted.observedGeneration === generation;
  if (!current) {
    const seen =
      accepted.observedGeneration === undefined
        ? 'no generation'
        : `generation ${accepted.observedGeneration}`;
    return {
      state: 'Lagging',
      message: `its Accepted condition was observed at ${seen}, the route is at generation ${generation ?? 1}`,
    };
  }
  return accepted.status === 'True'
    ? { state: 'Accepted' }
    : { state: 'NotAccepted', condition: accepted };
}

/**
 * The status.parents verdict for one parentRef. Entries for parents no longer in spec.parentRefs
 * are never consulted (seeds/001: status keeps stale parents around).
 */
export function parentStatusState(route: Route, ref: ResolvedParentRef): StatusState {
  const generation = route.metadata?.generation;
  const routeNamespace = route.metadata?.namespace ?? '';
  const states = (route.status?.parents ?? [])
    .filter((entry) => sameParent(resolveParentRef(entry.parentRef, routeNamespace), ref))
    .map((entry) => stateOfEntry(entry, generation));
  const accepted = states.find((s) => s.state === 'Accepted');
  if (accepted !== undefined) return accepted;
  const lagging = states.find((s) => s.state === 'Lagging');
  if (lagging !== undefined) return lagging;
  const refused = states.find((s) => s.state === 'NotAccepted');
  if (refused !== undefined) return refused;
  return {
    state: 'Lagging',
    message: `the gateway controller has not reported on this parent for generation ${generation ?? 1} yet`,
  };
}

// ---- hostnames ------------------------------------------------------------------------------

function wildcardSuffix(hostname: string): string | undefined {
  return hostname.startsWith('*.') ? hostname.slice(2) : undefined;
}

/** True when a wildcard `*.suffix` covers `name` (one or more labels in place of the `*`). */
function wildcardCovers(suffix: string, name: string): boolean {
  const nameSuffix = wildcardSuffix(name);
  if (nameSuffix !== undefined) return nameSuffix === suffix || nameSuffix.endsWith(`.${suffix}`);
  return name.endsWith(`.${suffix}`);
}

/**
 * The hostname both a route hostname and a listener hostname accept, if any: the more specific
 * of the two (e.g. route `foo.example.com` x listener `*.example.com` -> `foo.example.com`;
 * route `*.example.com` x listener `foo.example.com` -> `foo.example.com`).
 */
export function intersectHostnames(
  routeHostname: string,
  listenerHostname: string,
): string | undefined {
  const r = normaliseName(routeHostname);
  const l = normaliseName(listenerHostname);
  if (r === l) return r;
  const lSuffix = wildcardSuffix(l);
  if (lSuffix !== undefined && wildcardCovers(lSuffix, r)) return r;
  const rSuffix = wildcardSuffix(r);
  if (rSuffix !== undefined && wildcardCovers(rSuffix, l)) return l;
  return undefined;
}

/** Names a route publishes through one listener; `unnamed` when neither side sets a hostname. */
export function hostnamesThroughListener(
  routeHostnames: readonly string[],
  listenerHostname: string | undefined,
): { readonly names: readonly string[]; readonly unnamed: boolean } {
  const listener =
    listenerHostname === undefined || listenerHostname === '' ? undefined : listenerHostname;
  if (routeHostnames.length === 0) {
    return listener === undefined
      ? { names: [], unnamed: true }
      : { names: [normaliseName(listener)], unnamed: false };
  }
  if (listener === undefined) return { names: routeHostnames.map(normaliseName), unnamed: false };
  const names = routeHostnames
    .map((h) => intersectHostnames(h, listener))
    .filter((h): h is string => h !== undefined);
  return { names, unnamed: false };
}

// ---- listeners ------------------------------------------------------------------------------

function listenerAllowsKind(listener: Listener, kind: RouteKind): boolean {
  const kinds = listener.allowedRoutes?.kinds;
  // No kinds: the protocol's default kinds, which include the route kinds of that protocol.
  if (kinds === undefined || kinds.length === 0) return true;
  return kinds.some((k) => k.kind === kind && (k.group ?? GATEWAY_API_GROUP) === GATEWAY_API_GROUP);
}

function listenerAllowsNamespace(
  listener: Listener,
  gatewayNamespace: string,
  routeNamespace: string,
  inputs: AttachmentInputs,
): boolean {
  const from = listener.allowedRoutes?.namespaces?.from ?? 'Same';
  switch (from) {
    case 'All':
      return true;
    case 'Same':
      return routeNamespace === gatewayNamespace;
    case 'Selector': {
      const selector = listener.allowedRoutes?.namespaces?.selector;
      const ns = inputs.namespace(routeNamespace);
      // A Selector listener without a selector, or an unknown namespace, admits nothing.
      return (
        selector !== undefined &&
        ns !== undefined &&
        matchesLabelSelector(selector, ns.metadata?.labels)
      );
    }
    default:
      return false;
  }
}

function listenerNames(listeners: readonly Listener[]): string {
  return listeners.map((l) => `${l.name} (${l.protocol}/${l.port})`).join(', ');
}

function describeAllowed(listener: Listener): string {
  const from = listener.allowedRoutes?.namespaces?.from ?? 'Same';
  const kinds = listener.allowedRoutes?.kinds?.map((k) => k.kind).join('|');
  return `${listener.name}: namespaces from ${from}${kinds ? `, kinds ${kinds}` : ''}`;
}

type ListenerMatch =
  | {
      readonly ok: true;
      readonly hostnames: readonly string[];
      readonly matched: readonly string[];
    }
  | { readonly ok: false; readonly reason: AttachmentReason; readonly message: string };

type ListenerFilter =
  | { readonly ok: true; readonly listeners: readonly Listener[] }
  | { readonly ok: false; readonly reason: AttachmentReason; readonly message: string };

/** The listeners a parentRef's sectionName and port point at. */
function listenersNamedByRef(ref: ResolvedParentRef, all: readonly Listener[]): ListenerFilter {
  let listeners = all;
  if (ref.sectionName !== undefined) {
    listeners = listeners.filter((l) => l.name === ref.sectionName);
    if (listeners.length === 0) {
      return {
        ok: false,
        reason: 'NoMatchingListener',
        message: `the Gateway has no listener named "${ref.sectionName}" (listeners: ${listenerNames(all) || 'none'})`,
      };
    }
  }
  if (ref.port !== undefined) {
    const port = ref.port;
    listeners = listeners.filter((l) => l.port === port);
    if (listeners.length === 0) {
      return {
        ok: false,
        reason: 'NoMatchingListener',
        message: `no listener on port ${port}${ref.sectionName !== undefined ? ` named "${ref.sectionName}"` : ''} (listeners: ${listenerNames(all) || 'none'})`,
      };
    }
  }
  return { ok: true, listeners };
}

/** Names one route hostname publishes through the listeners (none when it intersects none). */
function throughListeners(hostname: string, listeners: readonly Listener[]): string[] {
  return listeners
    .map((l) => (l.hostname ? intersectHostnames(hostname, l.hostname) : normaliseName(hostname)))
    .filter((h): h is string => h !== undefined);
}

/** Hostnames published through the admitting listeners, or why there are none. */
function hostnamesThroughListeners(
  hostnames: RouteHostnames,
  allowed: readonly Listener[],
): ListenerMatch {
  const names = new Set<string>();
  const matched = new Set<string>();
  let unnamed = false;
  const routeHostnames = [...hostnames.spec, ...hostnames.annotation];
  if (!hostnames.matchListener) {
    hostnames.annotation.forEach((h) => (names.add(h), matched.add(h)));
    unnamed = names.size === 0;
  } else {
    if (hostnames.spec.length === 0) {
      for (const listener of allowed) {
        const through = hostnamesThroughListener([], listener.hostname);
        through.names.forEach((n) => names.add(n));
        unnamed ||= through.unnamed;
      }
    }
    for (const hostname of routeHostnames) {
      const through = throughListeners(hostname, allowed);
      through.forEach((n) => names.add(n));
      if (through.length > 0) matched.add(hostname);
    }
  }
  if (names.size > 0) return { ok: true, hostnames: [...names].sort(), matched: [...matched] };
  if (unnamed) {
    return {
      ok: false,
      reason: 'NoHostname',
      message: hostnames.matchListener
        ? 'neither the route nor its listener sets a hostname: there is no name to publish'
        : 'this route kind has no spec.hostnames: set the hostname annotation to publish a name',
    };
  }
  return {
    ok: false,
    reason: 'NoMatchingHostname',
    message: `route hostnames ${routeHostnames.join(', ')} do not intersect listener hostnames ${allowed.map((l) => l.hostname ?? '(any)').join(', ')}`,
  };
}

/**
 * Listener checks for one parentRef, in the order a user fixes them: sectionName/port, protocol,
 * allowedRoutes (kinds, namespaces), hostname intersection.
 */
export function matchListeners(
  request: RouteRequest,
  ref: ResolvedParentRef,
  gateway: Gateway,
  inputs: AttachmentInputs,
): ListenerMatch {
  const { route, kind } = request;
  const routeNamespace = route.metadata?.namespace ?? '';
  const gatewayNamespace = gateway.metadata?.namespace ?? '';
  const named = listenersNamedByRef(ref, gateway.spec?.listeners ?? []);
  if (!named.ok) return named;
  const protocols = ROUTE_KIND_RULES[kind].protocols;
  const fitting = named.listeners.filter((l) => protocols.has(l.protocol.toUpperCase()));
  if (fitting.length === 0) {
    return {
      ok: false,
      reason: 'NoMatchingListener',
      message: `this ${kind} needs a listener of protocol ${[...protocols].join(' or ')}; candidates: ${listenerNames(named.listeners) || 'none'}`,
    };
  }
  const allowed = fitting.filter(
    (l) =>
      listenerAllowsKind(l, kind) &&
      listenerAllowsNamespace(l, gatewayNamespace, routeNamespace, inputs),
  );
  if (allowed.length === 0) {
    return {
      ok: false,
      reason: 'NotAllowedByListeners',
      message: `no listener admits this ${kind} from namespace "${routeNamespace}" (${fitting.map(describeAllowed).join('; ')})`,
    };
  }
  return hostnamesThroughListeners(request.hostnames, allowed);
}

/** Addresses a Gateway's records point at: the `target` annotation if set, else status.addresses. */
export function gatewayTargets(gateway: Gateway): string[] {
  const override = readTargets(gateway.metadata?.annotations);
  if (override !== undefined) return override;
  return (gateway.status?.addresses ?? [])
    .filter((a) => a.type === undefined || a.type === 'IPAddress' || a.type === 'Hostname')
    .map((a) => a.value)
    .filter((v) => v !== '');
}

function attachParent(
  request: RouteRequest,
  ref: ResolvedParentRef,
  inputs: AttachmentInputs,
): ParentOutcome {
  const { route } = request;
  const gateway = inputs.gateway(ref.namespace, ref.name);
  if (gateway === undefined) {
    return {
      kind: 'Refused',
      reason: 'GatewayNotFound',
      message: `Gateway ${ref.namespace}/${ref.name} does not exist`,
    };
  }
  const other = otherController(
    gateway.metadata,
    `Gateway/${ref.namespace}/${ref.name}`,
    request.controllers ?? new Set(),
  );
  if (other !== undefined) {
    return { kind: 'Refused', reason: 'OtherController', message: `the Gateway: ${other.message}` };
  }
  const status = parentStatusState(route, ref);
  const listeners = matchListeners(request, ref, gateway, inputs);
  if (status.state === 'Lagging') {
    // Records stay held, but a user should see a refusal we can already tell (e.g. no gateway
    // controller has written status yet, and allowedRoutes excludes the route's namespace).
    return listeners.ok
      ? { kind: 'Lagging', message: status.message }
      : {
          kind: 'Lagging',
          reason: listeners.reason,
          message: `${listeners.message}; status: ${status.message}`,
        };
  }
  if (status.state === 'NotAccepted') {
    const controller = `the gateway controller reports Accepted=${status.condition.status} (${status.condition.reason}: ${status.condition.message})`;
    return listeners.ok
      ? { kind: 'Refused', reason: 'NotAccepted', message: controller }
      : {
          kind: 'Refused',
          reason: listeners.reason,
          message: `${listeners.message}; ${controller}`,
        };
  }
  if (!listeners.ok)
    return { kind: 'Refused', reason: listeners.reason, message: listeners.message };
  const targets = gatewayTargets(gateway);
  if (targets.length === 0) {
    return {
      kind: 'Refused',
      reason: 'GatewayHasNoAddresses',
      message: `Gateway ${ref.namespace}/${ref.name} has no status.addresses (and no ${ANNOTATION_TARGET} annotation)`,
    };
  }
  return { kind: 'Attached', hostnames: listeners.hostnames, matched: listeners.matched, targets };
}

/**
 * Route hostnames that publish through no attached parent although another does: the listener
 * intersection dropped them, and a user should hear why there are fewer records.
 */
function droppedHostnames(request: RouteRequest, parents: readonly ParentAttachment[]): string[] {
  const attached = parents.flatMap((p) => (p.outcome.kind === 'Attached' ? [p.outcome] : []));
  if (attached.length === 0 || !request.hostnames.matchListener) return [];
  const matched = new Set(attached.flatMap((o) => o.matched));
  return [...request.hostnames.spec, ...request.hostnames.annotation].filter(
    (h) => !matched.has(h),
  );
}

/** Evaluates every Gateway parentRef of a route. Pure: reads only the route and the lookups. */
export function attachRouteToGateways(
  request: RouteRequest,
  inputs: AttachmentInputs,
): RouteAttachment {
  const { route } = request;
  const routeRef = objectRef(request.kind, route.metadata);
  const routeNamespace = route.metadata?.namespace ?? '';
  const refs = (route.spec?.parentRefs ?? [])
    .map((r) => resolveParentRef(r, routeNamespace))
    .filter((r) => r.group === GATEWAY_API_GROUP && r.kind === 'Gateway');
  if (refs.length === 0) {
    const any = (route.spec?.parentRefs ?? []).length > 0;
    return {
      route: routeRef,
      lagging: false,
      parents: [],
      diagnostics: [
        {
          object: routeRef,
          reason: 'NoParentRefs',
          message: any
            ? 'no parentRef names a Gateway'
            : 'spec.parentRefs is empty: the route is not attached to any Gateway',
        },
      ],
    };
  }
  const parents: ParentAttachment[] = refs.map((ref) => ({
    parent: describeParent(ref),
    outcome: attachParent(request, ref, inputs),
  }));
  const diagnostics: Diagnostic[] = [];
  for (const { parent, outcome } of parents) {
    if (outcome.kind === 'Lagging') {
      diagnostics.push({
        object: routeRef,
        reason: outcome.reason ?? 'StatusLagging',
        message: `parent ${parent}: ${outcome.message}; records already published for this route are held unchanged`,
      });
    } else if (outcome.kind === 'Refused') {
      diagnostics.push({
        object: routeRef,
        reason: outcome.reason,
        message: `parent ${parent}: ${outcome.message}`,
      });
    }
  }
  const dropped = droppedHostnames(request, parents);
  if (dropped.length > 0) {
    diagnostics.push({
      object: routeRef,
      reason: 'NoMatchingHostname',
      message: `${dropped.join(', ')}: no attached listener accepts ${dropped.length > 1 ? 'these hostnames' : 'this hostname'}, so ${dropped.length > 1 ? 'they are' : 'it is'} not published (the route's other hostnames are)`,
    });
  }
  return {
    route: routeRef,
    lagging: parents.some((p) => p.outcome.kind === 'Lagging'),
    parents,
    diagnostics,
  };
}

/** Gateways a route names as parents, "namespace/name", for the route-by-gateway index. */
export function parentGatewayKeys(route: Route): string[] {
  const routeNamespace = route.metadata?.namespace ?? '';
  return (route.spec?.parentRefs ?? [])
    .map((r) => resolveParentRef(r, routeNamespace))
    .filter((r) => r.group === GATEWAY_API_GROUP && r.kind === 'Gateway')
    .map((r) => `${r.namespace}/${r.name}`);
}
