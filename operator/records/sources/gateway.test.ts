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
    expect(hostnamesThroughListener(routeHosts, listenerHost)).toEqual({ names, unnamed });
  });
});

describe('attachRouteToGateways: each reason a route yields no record', () => {
  const ref = { name: 'external', namespace: 'infra' };
  it.each([
    ['NoParentRefs (empty)', httpRoute('r', { parentRefs: [] }), [external], 'NoParentRefs'],
    [
      'NoParentRefs (no Gateway kind)',
      httpRoute('r', { parentRefs: [{ name: 'svc', kind: 'Service', group: '' }] }),
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
    ['NoHostname', httpRoute('r', { hostnames: [] }), [external], 'NoHostname'],
    [
      'GatewayHasNoAddresses',
      httpRoute('r'),
      [gateway('external', { addresses: [] })],
      'GatewayHasNoAddresses',
    ],
  ])('%s', (_name, route, gateways, reason) => {
    const attachment = attachRouteToGateways(req(route), inputs(gateways, [namespace('shop')]));
    expect(attachment.diagnostics).toEqual([
      expect.objectContaining({ object: 'HTTPRoute/shop/r', reason, message: expect.any(String) }),
    ]);
    expect(attachment.parents.every((p) => p.outcome.kind !== 'Attached')).toBe(true);
    expect(
      routeEndpoints(route, 'HTTPRoute', ctx, inputs(gateways, [namespace('shop')])).endpoints,
    ).toEqual([]);
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
      expect.objectContaining({
        reason: 'NotAllowedByListeners',
        message: expect.stringContaining('held unchanged'),
      }),
    ]);
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
