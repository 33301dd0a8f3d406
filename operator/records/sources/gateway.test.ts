import type { V1Namespace } from '@kubernetes/client-node';
import {
  gateway,
  httpRoute,
  listener,
  namespace,
  parentStatus,
} from '../../../test/support/records-fixtures';
import { DEFAULT_SOURCE_CONTEXT } from './context';
import {
  attachRouteToGateways,
  gatewayTargets,
  hostnamesThroughListener,
  intersectHostnames,
  parentGatewayKeys,
  type AttachmentInputs,
  type RouteRequest,
} from './gateway';
import type { Gateway, Route } from './gateway-api';
import { routeEndpoints, routeHostnames } from './routes';

const ctx = DEFAULT_SOURCE_CONTEXT;
const req = (route: Route): RouteRequest => ({
  route,
  kind: 'HTTPRoute',
  hostnames: routeHostnames(route, 'HTTPRoute', []),
});

function inputs(gateways: Gateway[], namespaces: V1Namespace[] = []): AttachmentInputs {
  return {
    gateway: (ns, name) =>
      gateways.find((g) => g.metadata?.namespace === ns && g.metadata?.name === name),
    namespace: (name) => namespaces.find((n) => n.metadata?.name === name),
  };
}

const external = gateway('external');

describe('intersectHostnames (Gateway API hostname intersection)', () => {
  it.each([
    ['foo.example.com', 'foo.example.com', 'foo.example.com'],
    ['foo.example.com', '*.example.com', 'foo.example.com'],
    ['a.b.example.com', '*.example.com', 'a.b.example.com'],
    ['example.com', '*.example.com', undefined],
    ['*.example.com', 'foo.example.com', 'foo.example.com'],
    ['*.example.com', '*.example.com', '*.example.com'],
    ['*.foo.example.com', '*.example.com', '*.foo.example.com'],
    ['*.example.com', '*.foo.example.com', '*.foo.example.com'],
    ['foo.example.net', '*.example.com', undefined],
    ['foo.example.com', 'bar.example.com', undefined],
    ['www.example.com', 'a.example.com', undefined],
    ['Foo.Example.com', 'foo.example.com', 'foo.example.com'],
  ])('route %s x listener %s -> %s', (route, listenerHost, expected) => {
    expect(intersectHostnames(route, listenerHost)).toBe(expected);
  });

  it.each([
    [[], 'gw.example.com', ['gw.example.com'], false],
    [['a.example.com'], undefined, ['a.example.com'], false],
    [[], undefined, [], true],
    [['a.example.com', 'b.example.net'], '*.example.com', ['a.example.com'], false],
  ])('route %j through listener %s', (routeHosts, listenerHost, names, unnamed) => {
    expect(hostnamesThroughListener(routeHosts, listenerHost)).toStrictEqual({ names, unnamed });
  });
});

/** What a user reads in the policy's status and the route's Events, for each case below. */
const MESSAGES: Record<string, string> = {
  'NoParentRefs (empty)': 'spec.parentRefs is empty: the route is not attached to any Gateway',
  'NoParentRefs (no parentRefs field)':
    'spec.parentRefs is empty: the route is not attached to any Gateway',
  'NoParentRefs (no Gateway kind)': 'no parentRef names a Gateway',
  'NoParentRefs (a Gateway of another API group, a ListenerSet)': 'no parentRef names a Gateway',
  GatewayNotFound: 'parent Gateway/infra/missing: Gateway infra/missing does not exist',
  'NotAccepted (controller says False, our checks pass)':
    'parent Gateway/infra/external: the gateway controller reports Accepted=False (UnsupportedValue: refused by the controller)',
  'StatusLagging (entry at an older generation)':
    'parent Gateway/infra/external: its Accepted condition was observed at generation 1, the route is at generation 2; records already published for this route are held unchanged',
  'StatusLagging (no entry yet)':
    'parent Gateway/infra/external: the gateway controller has not reported on this parent for generation 1 yet; records already published for this route are held unchanged',
  'NotAllowedByListeners (allowedRoutes Same, route elsewhere)':
    'parent Gateway/infra/external: no listener admits this HTTPRoute from namespace "shop" (http: namespaces from Same)',
  'NotAllowedByListeners (kinds exclude HTTPRoute)':
    'parent Gateway/infra/external: no listener admits this HTTPRoute from namespace "shop" (http: namespaces from All, kinds GRPCRoute)',
  'NotAllowedByListeners (Selector does not match the namespace)':
    'parent Gateway/infra/external: no listener admits this HTTPRoute from namespace "shop" (http: namespaces from Selector)',
  'NoMatchingListener (protocol TCP)':
    'parent Gateway/infra/external: this HTTPRoute needs a listener of protocol HTTP or HTTPS; candidates: pg (TCP/5432)',
  'NoMatchingListener (sectionName)':
    'parent Gateway/infra/external#https: the Gateway has no listener named "https" (listeners: http (HTTP/80))',
  'NoMatchingListener (port)':
    'parent Gateway/infra/external:8443: no listener on port 8443 (listeners: http (HTTP/80))',
  'NoMatchingListener (sectionName and port)':
    'parent Gateway/infra/external#https:8443: no listener on port 8443 named "https" (listeners: http (HTTP/80), https (HTTPS/443))',
  'NoMatchingListener (a Gateway without listeners)':
    'parent Gateway/infra/external: this HTTPRoute needs a listener of protocol HTTP or HTTPS; candidates: none',
  'NoMatchingListener (sectionName, a Gateway without listeners)':
    'parent Gateway/infra/external#https: the Gateway has no listener named "https" (listeners: none)',
  'NoMatchingListener (port, a Gateway without listeners)':
    'parent Gateway/infra/external:443: no listener on port 443 (listeners: none)',
  'NotAllowedByListeners (two listeners, neither admits)':
    'parent Gateway/infra/external: no listener admits this HTTPRoute from namespace "shop" (grpc: namespaces from All, kinds GRPCRoute|TLSRoute; local: namespaces from Same)',
  NoMatchingHostname:
    'parent Gateway/infra/external: route hostnames shop.example.net do not intersect listener hostnames *.example.com',
  'NoMatchingHostname (several hostnames and listeners)':
    'parent Gateway/infra/external: route hostnames shop.example.net, shop.example.org do not intersect listener hostnames *.example.com, api.example.com',
  NoHostname:
    'parent Gateway/infra/external: neither the route nor its listener sets a hostname: there is no name to publish',
  GatewayHasNoAddresses:
    'parent Gateway/infra/external: Gateway infra/external has no status.addresses (and no dnsop.io/target annotation)',
};

describe('attachRouteToGateways: each reason a route yields no record', () => {
  const ref = { name: 'external', namespace: 'infra' };
  it.each([
    ['NoParentRefs (empty)', httpRoute('r', { parentRefs: [] }), [external], 'NoParentRefs'],
    [
      'NoParentRefs (no parentRefs field)',
      { ...httpRoute('r'), spec: { hostnames: ['checkout.example.com'] } },
      [external],
      'NoParentRefs',
    ],
    [
      'NoParentRefs (no Gateway kind)',
      httpRoute('r', { parentRefs: [{ name: 'svc', kind: 'Service', group: '' }] }),
      [external],
      'NoParentRefs',
    ],
    [
      'NoParentRefs (a Gateway of another API group, a ListenerSet)',
      httpRoute('r', {
        parentRefs: [
          { ...ref, group: 'example.com', kind: 'Gateway' },
          { ...ref, kind: 'ListenerSet' },
        ],
      }),
      [external],
      'NoParentRefs',
    ],
    [
      'GatewayNotFound',
      httpRoute('r', { parentRefs: [{ name: 'missing', namespace: 'infra' }] }),
      [external],
      'GatewayNotFound',
    ],
    [
      'NotAccepted (controller says False, our checks pass)',
      httpRoute('r', { status: [parentStatus(ref, 1, 'False', 'UnsupportedValue')] }),
      [external],
      'NotAccepted',
    ],
    [
      'StatusLagging (entry at an older generation)',
      httpRoute('r', { generation: 2, status: [parentStatus(ref, 1)] }),
      [external],
      'StatusLagging',
    ],
    ['StatusLagging (no entry yet)', httpRoute('r', { status: [] }), [external], 'StatusLagging'],
    [
      'NotAllowedByListeners (allowedRoutes Same, route elsewhere)',
      httpRoute('r'),
      [gateway('external', { listeners: [listener('http')] })],
      'NotAllowedByListeners',
    ],
    [
      'NotAllowedByListeners (kinds exclude HTTPRoute)',
      httpRoute('r'),
      [
        gateway('external', {
          listeners: [
            listener('http', {
              allowedRoutes: { namespaces: { from: 'All' }, kinds: [{ kind: 'GRPCRoute' }] },
            }),
          ],
        }),
      ],
      'NotAllowedByListeners',
    ],
    [
      'NotAllowedByListeners (Selector does not match the namespace)',
      httpRoute('r'),
      [
        gateway('external', {
          listeners: [
            listener('http', {
              allowedRoutes: {
                namespaces: { from: 'Selector', selector: { matchLabels: { gateway: 'yes' } } },
              },
            }),
          ],
        }),
      ],
      'NotAllowedByListeners',
    ],
    [
      'NoMatchingListener (protocol TCP)',
      httpRoute('r'),
      [
        gateway('external', {
          listeners: [
            listener('pg', {
              protocol: 'TCP',
              port: 5432,
              allowedRoutes: { namespaces: { from: 'All' } },
            }),
          ],
        }),
      ],
      'NoMatchingListener',
    ],
    [
      'NoMatchingListener (sectionName)',
      httpRoute('r', { parentRefs: [{ ...ref, sectionName: 'https' }] }),
      [external],
      'NoMatchingListener',
    ],
    [
      'NoMatchingListener (port)',
      httpRoute('r', { parentRefs: [{ ...ref, port: 8443 }] }),
      [external],
      'NoMatchingListener',
    ],
    [
      'NoMatchingListener (sectionName and port)',
      httpRoute('r', { parentRefs: [{ ...ref, sectionName: 'https', port: 8443 }] }),
      [
        gateway('external', {
          listeners: [
            listener('http', { allowedRoutes: { namespaces: { from: 'All' } } }),
            listener('https', {
              protocol: 'HTTPS',
              port: 443,
              allowedRoutes: { namespaces: { from: 'All' } },
            }),
          ],
        }),
      ],
      'NoMatchingListener',
    ],
    [
      'NoMatchingListener (a Gateway without listeners)',
      httpRoute('r'),
      [gateway('external', { listeners: [] })],
      'NoMatchingListener',
    ],
    [
      'NoMatchingListener (sectionName, a Gateway without listeners)',
      httpRoute('r', { parentRefs: [{ ...ref, sectionName: 'https' }] }),
      [gateway('external', { listeners: [] })],
      'NoMatchingListener',
    ],
    [
      'NoMatchingListener (port, a Gateway without listeners)',
      httpRoute('r', { parentRefs: [{ ...ref, port: 443 }] }),
      [gateway('external', { listeners: [] })],
      'NoMatchingListener',
    ],
    [
      'NotAllowedByListeners (two listeners, neither admits)',
      httpRoute('r'),
      [
        gateway('external', {
          listeners: [
            listener('grpc', {
              allowedRoutes: {
                namespaces: { from: 'All' },
                kinds: [{ kind: 'GRPCRoute' }, { kind: 'TLSRoute' }],
              },
            }),
            listener('local', { port: 8080 }),
          ],
        }),
      ],
      'NotAllowedByListeners',
    ],
    [
      'NoMatchingHostname',
      httpRoute('r', { hostnames: ['shop.example.net'] }),
      [
        gateway('external', {
          listeners: [
            listener('http', {
              hostname: '*.example.com',
              allowedRoutes: { namespaces: { from: 'All' } },
            }),
          ],
        }),
      ],
      'NoMatchingHostname',
    ],
    [
      'NoMatchingHostname (several hostnames and listeners)',
      httpRoute('r', { hostnames: ['shop.example.net', 'shop.example.org'] }),
      [
        gateway('external', {
          listeners: [
            listener('wildcard', {
              hostname: '*.example.com',
              allowedRoutes: { namespaces: { from: 'All' } },
            }),
            listener('api', {
              hostname: 'api.example.com',
              allowedRoutes: { namespaces: { from: 'All' } },
            }),
          ],
        }),
      ],
      'NoMatchingHostname',
    ],
    ['NoHostname', httpRoute('r', { hostnames: [] }), [external], 'NoHostname'],
    [
      'GatewayHasNoAddresses',
      httpRoute('r'),
      [gateway('external', { addresses: [] })],
      'GatewayHasNoAddresses',
    ],
  ])('%s', (name, route, gateways, reason) => {
    const attachment = attachRouteToGateways(req(route), inputs(gateways, [namespace('shop')]));
    expect(attachment.diagnostics).toEqual([
      { object: 'HTTPRoute/shop/r', reason, message: MESSAGES[name] },
    ]);
    expect(attachment.parents.every((p) => p.outcome.kind !== 'Attached')).toBe(true);
    const result = routeEndpoints(route, 'HTTPRoute', ctx, inputs(gateways, [namespace('shop')]));
    expect(result.endpoints).toEqual([]);
    // Only a lagging status holds the records already published; any other reason removes them.
    expect(result.held).toBe(reason === 'StatusLagging' ? 'HTTPRoute/shop/r' : undefined);
  });

  it('prefers our precise reason when the controller refused too', () => {
    const route = httpRoute('r', {
      status: [parentStatus(ref, 1, 'False', 'NotAllowedByListeners')],
    });
    const gw = gateway('external', { listeners: [listener('http')] });
    const [diag] = attachRouteToGateways(req(route), inputs([gw])).diagnostics;
    expect(diag?.reason).toBe('NotAllowedByListeners');
    expect(diag?.message).toContain('Accepted=False');
  });

  it('names the listeners and namespaces in the NotAllowedByListeners message (seeds/002)', () => {
    const gw = gateway('external', { listeners: [listener('http')] });
    const [diag] = attachRouteToGateways(req(httpRoute('r')), inputs([gw])).diagnostics;
    expect(diag?.message).toContain('namespace "shop"');
    expect(diag?.message).toContain('http: namespaces from Same');
  });
});

describe('attachRouteToGateways: attachment', () => {
  it('attaches through a Selector listener when the namespace labels match', () => {
    const gw = gateway('external', {
      listeners: [
        listener('http', {
          allowedRoutes: {
            namespaces: { from: 'Selector', selector: { matchLabels: { gateway: 'yes' } } },
          },
        }),
      ],
    });
    const route = httpRoute('r');
    const result = routeEndpoints(
      route,
      'HTTPRoute',
      ctx,
      inputs([gw], [namespace('shop', { gateway: 'yes' })]),
    );
    expect(result.endpoints).toEqual([
      expect.objectContaining({
        name: 'checkout.example.com',
        type: 'A',
        targets: ['203.0.113.10'],
      }),
    ]);
    expect(result.diagnostics).toEqual([]);
  });

  it('attaches in the same namespace with the default allowedRoutes', () => {
    const gw = gateway('local', { namespace: 'shop', listeners: [listener('http')] });
    const route = httpRoute('r', { parentRefs: [{ name: 'local' }] });
    expect(routeEndpoints(route, 'HTTPRoute', ctx, inputs([gw])).endpoints).toHaveLength(1);
  });

  it('publishes only the hostnames the listener accepts', () => {
    const gw = gateway('external', {
      listeners: [
        listener('https', {
          protocol: 'HTTPS',
          port: 443,
          hostname: '*.example.com',
          allowedRoutes: { namespaces: { from: 'All' } },
        }),
      ],
    });
    const route = httpRoute('r', { hostnames: ['a.example.com', 'b.example.net'] });
    expect(
      routeEndpoints(route, 'HTTPRoute', ctx, inputs([gw])).endpoints.map((e) => e.name),
    ).toEqual(['a.example.com']);
  });

  it('uses the listener hostname when the route has none', () => {
    const gw = gateway('external', {
      listeners: [
        listener('http', {
          hostname: 'gw.example.com',
          allowedRoutes: { namespaces: { from: 'All' } },
        }),
      ],
    });
    const route = httpRoute('r', { hostnames: [] });
    expect(
      routeEndpoints(route, 'HTTPRoute', ctx, inputs([gw])).endpoints.map((e) => e.name),
    ).toEqual(['gw.example.com']);
  });

  it('picks the listener named by sectionName and port', () => {
    const gw = gateway('external', {
      listeners: [
        listener('a', {
          hostname: 'a.example.com',
          allowedRoutes: { namespaces: { from: 'All' } },
        }),
        listener('b', {
          hostname: 'b.example.com',
          port: 8080,
          allowedRoutes: { namespaces: { from: 'All' } },
        }),
      ],
    });
    const ref = { name: 'external', namespace: 'infra', sectionName: 'b', port: 8080 };
    const route = httpRoute('r', { hostnames: [], parentRefs: [ref] });
    expect(
      routeEndpoints(route, 'HTTPRoute', ctx, inputs([gw])).endpoints.map((e) => e.name),
    ).toEqual(['b.example.com']);
  });

  it('a hostname served by two Gateways points at both', () => {
    const second = gateway('second', { addresses: [{ value: '203.0.113.20' }] });
    const route = httpRoute('r', {
      parentRefs: [
        { name: 'external', namespace: 'infra' },
        { name: 'second', namespace: 'infra' },
      ],
    });
    expect(routeEndpoints(route, 'HTTPRoute', ctx, inputs([external, second])).endpoints).toEqual([
      expect.objectContaining({ type: 'A', targets: ['203.0.113.10', '203.0.113.20'] }),
    ]);
  });

  it('uses dnsop.io/target on the Gateway and hostname addresses as CNAME', () => {
    expect(
      gatewayTargets(gateway('g', { annotations: { 'dnsop.io/target': 'lb.example.net' } })),
    ).toEqual(['lb.example.net']);
    const gw = gateway('external', { addresses: [{ type: 'Hostname', value: 'lb.example.net' }] });
    expect(routeEndpoints(httpRoute('r'), 'HTTPRoute', ctx, inputs([gw])).endpoints).toEqual([
      expect.objectContaining({ type: 'CNAME', targets: ['lb.example.net'] }),
    ]);
  });
});

describe('status generation check (seeds/001)', () => {
  const ext = { name: 'external', namespace: 'infra' };
  const int = { name: 'internal', namespace: 'infra' };
  const internal = gateway('internal', { addresses: [{ value: '10.0.0.50' }] });

  it('ignores a stale status entry for a parent no longer in spec.parentRefs', () => {
    const route = httpRoute('r', {
      generation: 2,
      parentRefs: [int],
      status: [parentStatus(ext, 1), parentStatus(int, 2)],
    });
    const result = routeEndpoints(route, 'HTTPRoute', ctx, inputs([external, internal]));
    expect(result.endpoints).toEqual([expect.objectContaining({ targets: ['10.0.0.50'] })]);
    expect(result.held).toBeUndefined();
  });

  it('holds the route while the new parent has no status at the current generation', () => {
    const route = httpRoute('r', {
      generation: 2,
      parentRefs: [int],
      status: [parentStatus(ext, 1)],
    });
    const result = routeEndpoints(route, 'HTTPRoute', ctx, inputs([external, internal]));
    expect(result.endpoints).toEqual([]);
    expect(result.held).toBe('HTTPRoute/shop/r');
    expect(result.diagnostics.map((d) => d.reason)).toEqual(['StatusLagging']);
  });

  it('while status lags, reports a refusal it can already tell and still holds the route', () => {
    const sameOnly = gateway('external', { listeners: [listener('http')] });
    const result = routeEndpoints(
      httpRoute('r', { status: [] }),
      'HTTPRoute',
      ctx,
      inputs([sameOnly]),
    );
    expect(result.held).toBe('HTTPRoute/shop/r');
    expect(result.diagnostics).toEqual([
      {
        object: 'HTTPRoute/shop/r',
        reason: 'NotAllowedByListeners',
        message:
          'parent Gateway/infra/external: no listener admits this HTTPRoute from namespace "shop" (http: namespaces from Same); status: the gateway controller has not reported on this parent for generation 1 yet; records already published for this route are held unchanged',
      },
    ]);
  });

  describe('a status entry for another parent never stands in for the parent in spec', () => {
    const all = { namespaces: { from: 'All' } };
    const twoListeners = gateway('external', {
      listeners: [
        listener('http', { allowedRoutes: all }),
        listener('https', { protocol: 'HTTPS', port: 443, allowedRoutes: all }),
      ],
    });
    const edge = gateway('external', { namespace: 'edge', addresses: [{ value: '10.0.0.60' }] });
    const gateways = [twoListeners, internal, edge];
    it.each([
      ['name (moved from external to internal)', int, ext, 'Gateway/infra/internal'],
      [
        'namespace (moved to the Gateway of the same name in edge)',
        { ...ext, namespace: 'edge' },
        ext,
        'Gateway/edge/external',
      ],
      [
        'sectionName (moved from listener http to https)',
        { ...ext, sectionName: 'https' },
        { ...ext, sectionName: 'http' },
        'Gateway/infra/external#https',
      ],
      [
        'port (moved from port 80 to 443)',
        { ...ext, port: 443 },
        { ...ext, port: 80 },
        'Gateway/infra/external:443',
      ],
      [
        'kind (a ListenerSet of the same name)',
        ext,
        { ...ext, kind: 'ListenerSet' },
        'Gateway/infra/external',
      ],
      [
        'group (a Gateway of another API group, same name)',
        ext,
        { ...ext, group: 'example.com', kind: 'Gateway' },
        'Gateway/infra/external',
      ],
    ])(
      'differing in %s: held until the controller reports on it',
      (_, specRef, staleRef, parent) => {
        const stale = httpRoute('r', {
          generation: 2,
          parentRefs: [specRef],
          status: [parentStatus(staleRef, 2)],
        });
        const result = routeEndpoints(stale, 'HTTPRoute', ctx, inputs(gateways));
        expect(result.endpoints).toEqual([]);
        expect(result.held).toBe('HTTPRoute/shop/r');
        expect(result.diagnostics).toEqual([
          {
            object: 'HTTPRoute/shop/r',
            reason: 'StatusLagging',
            message: `parent ${parent}: the gateway controller has not reported on this parent for generation 2 yet; records already published for this route are held unchanged`,
          },
        ]);
        const reported = httpRoute('r', {
          generation: 2,
          parentRefs: [specRef],
          status: [parentStatus(staleRef, 2), parentStatus(specRef, 2)],
        });
        const published = routeEndpoints(reported, 'HTTPRoute', ctx, inputs(gateways));
        expect(published.endpoints).toHaveLength(1);
        expect(published.held).toBeUndefined();
      },
    );
  });

  it('holds the whole route while one of its two parents has not reported yet', () => {
    const route = httpRoute('r', {
      generation: 2,
      parentRefs: [ext, int],
      status: [parentStatus(ext, 2)],
    });
    const result = routeEndpoints(route, 'HTTPRoute', ctx, inputs([external, internal]));
    expect(result.endpoints).toEqual([]);
    expect(result.held).toBe('HTTPRoute/shop/r');
  });

  it('reads the Accepted condition wherever the controller lists it', () => {
    const entry = parentStatus(ext, 1);
    const resolvedRefs = {
      type: 'ResolvedRefs',
      status: 'False',
      reason: 'BackendNotFound',
      message: 'backend shop/checkout not found',
      observedGeneration: 1,
      lastTransitionTime: new Date('2026-01-01T00:00:00Z'),
    };
    const route = httpRoute('r', {
      status: [{ ...entry, conditions: [resolvedRefs, ...(entry.conditions ?? [])] }],
    });
    const result = routeEndpoints(route, 'HTTPRoute', ctx, inputs([external]));
    expect(result.endpoints).toEqual([
      expect.objectContaining({ name: 'checkout.example.com', targets: ['203.0.113.10'] }),
    ]);
    expect(result.diagnostics).toEqual([]);
  });

  it('holds a route whose Accepted condition carries no observedGeneration, and says so', () => {
    const entry = parentStatus(ext, 2);
    const { observedGeneration: _g, ...accepted } = entry.conditions![0]!;
    const route = httpRoute('r', {
      generation: 2,
      status: [{ ...entry, conditions: [accepted] }],
    });
    const result = routeEndpoints(route, 'HTTPRoute', ctx, inputs([external]));
    expect(result.held).toBe('HTTPRoute/shop/r');
    expect(result.diagnostics[0]?.message).toBe(
      'parent Gateway/infra/external: its Accepted condition was observed at no generation, the route is at generation 2; records already published for this route are held unchanged',
    );
  });

  it('holds the route when its Accepted condition is from an older generation, even if True', () => {
    const route = httpRoute('r', {
      generation: 3,
      parentRefs: [ext],
      status: [parentStatus(ext, 2)],
    });
    const result = routeEndpoints(route, 'HTTPRoute', ctx, inputs([external]));
    expect(result.held).toBe('HTTPRoute/shop/r');
    expect(result.diagnostics[0]?.message).toContain('generation 2');
  });
});

describe('attachRouteToGateways: listeners, status and addresses at their edges', () => {
  const ref = { name: 'external', namespace: 'infra' };
  const reasons = (route: Route, gateways: Gateway[], namespaces: V1Namespace[] = []): string[] =>
    attachRouteToGateways(req(route), inputs(gateways, namespaces)).diagnostics.map(
      (d) => d.reason,
    );
  const onlyListener = (l: Parameters<typeof listener>[1]): Gateway =>
    gateway('external', { listeners: [listener('http', l)] });

  it('admits a route kind only from the Gateway API group', () => {
    const kinds = (group?: string): Gateway =>
      onlyListener({
        allowedRoutes: {
          namespaces: { from: 'All' },
          kinds: [{ kind: 'HTTPRoute', ...(group !== undefined ? { group } : {}) }],
        },
      });
    expect(reasons(httpRoute('r'), [kinds()])).toEqual([]);
    expect(reasons(httpRoute('r'), [kinds('gateway.networking.k8s.io')])).toEqual([]);
    expect(reasons(httpRoute('r'), [kinds('example.com')])).toEqual(['NotAllowedByListeners']);
  });

  it('a listener with an empty kinds list, or listing several kinds, admits an HTTPRoute', () => {
    const kinds = (list: { kind: string }[]): Gateway =>
      onlyListener({ allowedRoutes: { namespaces: { from: 'All' }, kinds: list } });
    expect(reasons(httpRoute('r'), [kinds([])])).toEqual([]);
    expect(
      reasons(httpRoute('r'), [kinds([{ kind: 'HTTPRoute' }, { kind: 'GRPCRoute' }])]),
    ).toEqual([]);
    expect(
      reasons(httpRoute('r'), [kinds([{ kind: 'GRPCRoute' }, { kind: 'HTTPRoute' }])]),
    ).toEqual([]);
  });

  it('a Selector listener without a selector, or a namespace not in the cache, admits nothing', () => {
    const selector = { matchLabels: { gateway: 'yes' } };
    const labelled = [namespace('shop', { gateway: 'yes' })];
    const noSelector = onlyListener({ allowedRoutes: { namespaces: { from: 'Selector' } } });
    const withSelector = onlyListener({
      allowedRoutes: { namespaces: { from: 'Selector', selector } },
    });
    expect(reasons(httpRoute('r'), [withSelector], labelled)).toEqual([]);
    expect(reasons(httpRoute('r'), [noSelector], labelled)).toEqual(['NotAllowedByListeners']);
    expect(reasons(httpRoute('r'), [withSelector], [])).toEqual(['NotAllowedByListeners']);
    const unknownFrom = onlyListener({ allowedRoutes: { namespaces: { from: 'Nowhere' } } });
    expect(reasons(httpRoute('r'), [unknownFrom], labelled)).toEqual(['NotAllowedByListeners']);
  });

  it('holds a route whose status entry has no Accepted condition yet', () => {
    const route = httpRoute('r', { status: [{ ...parentStatus(ref, 1), conditions: [] }] });
    const [diag] = attachRouteToGateways(req(route), inputs([external])).diagnostics;
    expect(diag).toMatchObject({
      reason: 'StatusLagging',
      message:
        'parent Gateway/infra/external: its status entry has no Accepted condition yet; records already published for this route are held unchanged',
    });
  });

  it('a manifest never applied (no generation) attaches when its status claims none or 1', () => {
    const route = (observedGeneration: number | undefined): Route => {
      const r = httpRoute('r');
      const entry = parentStatus(ref, 1);
      const [accepted] = entry.conditions!;
      const { observedGeneration: _g, ...rest } = accepted!;
      return {
        ...r,
        metadata: { ...r.metadata, generation: undefined },
        status: {
          parents: [
            {
              ...entry,
              conditions: [
                observedGeneration === undefined ? rest : { ...rest, observedGeneration },
              ],
            },
          ],
        },
      };
    };
    expect(reasons(route(undefined), [external])).toEqual([]);
    expect(reasons(route(1), [external])).toEqual([]);
    const [diag] = attachRouteToGateways(req(route(2)), inputs([external])).diagnostics;
    expect(diag?.message).toContain(
      'its Accepted condition was observed at generation 2, the route is at generation 1',
    );
  });

  it('with several entries for one parent (several controllers), Accepted wins, then lagging, then refused', () => {
    const refused = parentStatus(ref, 1, 'False', 'NotAllowedByListeners');
    const lagging = { ...parentStatus(ref, 1), conditions: [] };
    expect(
      reasons(httpRoute('r', { status: [refused, parentStatus(ref, 1)] }), [external]),
    ).toEqual([]);
    expect(reasons(httpRoute('r', { status: [refused, lagging] }), [external])).toEqual([
      'StatusLagging',
    ]);
    expect(reasons(httpRoute('r', { status: [lagging, refused] }), [external])).toEqual([
      'StatusLagging',
    ]);
  });

  it('a Gateway naming another controller publishes nothing', () => {
    const other = gateway('external', { annotations: { 'dnsop.io/controller': 'other' } });
    const [diag] = attachRouteToGateways(req(httpRoute('r')), inputs([other])).diagnostics;
    expect(diag).toMatchObject({ reason: 'OtherController' });
    expect(diag?.message).toMatch(
      /^parent Gateway\/infra\/external: the Gateway: dnsop.io\/controller/,
    );
  });

  it('points at IP and hostname addresses only, never an empty one', () => {
    const gw = gateway('g', {
      addresses: [
        { value: '203.0.113.10' },
        { type: 'IPAddress', value: '203.0.113.11' },
        { type: 'Hostname', value: 'lb.example.net' },
        { type: 'example.com/NamedAddress', value: 'pool-a' },
        { type: 'IPAddress', value: '' },
      ],
    });
    expect(gatewayTargets(gw)).toEqual(['203.0.113.10', '203.0.113.11', 'lb.example.net']);
  });

  it('says which of several route hostnames no listener accepts, in the singular or plural', () => {
    const gw = onlyListener({
      hostname: '*.example.com',
      allowedRoutes: { namespaces: { from: 'All' } },
    });
    const messages = (hostnames: string[]): string[] =>
      attachRouteToGateways(req(httpRoute('r', { hostnames })), inputs([gw])).diagnostics.map(
        (d) => `${d.reason}: ${d.message}`,
      );
    expect(messages(['a.example.com', 'b.example.net'])).toEqual([
      "NoMatchingHostname: b.example.net: no attached listener accepts this hostname, so it is not published (the route's other hostnames are)",
    ]);
    expect(messages(['a.example.com', 'b.example.net', 'c.example.org'])).toEqual([
      "NoMatchingHostname: b.example.net, c.example.org: no attached listener accepts these hostnames, so they are not published (the route's other hostnames are)",
    ]);
  });

  it('indexes a route under the Gateways it names, in its own namespace by default', () => {
    const route = httpRoute('r', {
      parentRefs: [
        { name: 'external', namespace: 'infra' },
        { name: 'local' },
        { name: 'svc', kind: 'Service', group: '' },
        { name: 'mesh', group: 'example.com', kind: 'Gateway' },
        { name: 'ls', kind: 'ListenerSet' },
      ],
    });
    expect(parentGatewayKeys(route)).toEqual(['infra/external', 'shop/local']);
  });

  it('an empty sectionName names no listener in particular', () => {
    const route = httpRoute('r', { parentRefs: [{ ...ref, sectionName: '' }] });
    expect(reasons(route, [external])).toEqual([]);
    expect(hostnamesThroughListener(['a.example.com'], '')).toEqual({
      names: ['a.example.com'],
      unnamed: false,
    });
  });
});
