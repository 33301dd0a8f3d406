import type { V1Namespace } from '@kubernetes/client-node';
import { gateway, listener, namespace, route } from '../../../test/support/records-fixtures';
import { DEFAULT_SOURCE_CONTEXT } from './context';
import type { AttachmentInputs } from './gateway';
import { ROUTE_KINDS, type Gateway, type Route, type RouteKind } from './gateway-api';
import { routeEndpoints } from './routes';

const ctx = DEFAULT_SOURCE_CONTEXT;

function inputs(gateways: Gateway[], namespaces: V1Namespace[] = []): AttachmentInputs {
  return {
    gateway: (ns, name) =>
      gateways.find((g) => g.metadata?.namespace === ns && g.metadata?.name === name),
    namespace: (name) => namespaces.find((n) => n.metadata?.name === name),
  };
}

const all = { namespaces: { from: 'All' } };
const HOSTNAME = 'external-dns.alpha.kubernetes.io/hostname';
/** A route of any kind with a name that works for every kind (annotation for TCP/UDP). */
function anyRoute(kind: RouteKind, extra: Parameters<typeof route>[2] = {}): Route {
  return route(kind, 'r', {
    hostnames: ['app.example.com'],
    annotations:
      kind === 'TCPRoute' || kind === 'UDPRoute' ? { [HOSTNAME]: 'app.example.com' } : {},
    ...extra,
  });
}
const names = (r: ReturnType<typeof routeEndpoints>): string[] =>
  r.endpoints.map((e) => `${e.name} ${e.type} ${e.targets.join(',')}`);

describe('route kinds and their listener protocols', () => {
  const fits: Record<RouteKind, string[]> = {
    HTTPRoute: ['HTTP', 'HTTPS'],
    GRPCRoute: ['HTTP', 'HTTPS'],
    TLSRoute: ['TLS'],
    TCPRoute: ['TCP'],
    UDPRoute: ['UDP'],
  };
  const protocols = ['HTTP', 'HTTPS', 'TLS', 'TCP', 'UDP'];
  const cases = ROUTE_KINDS.flatMap((kind) =>
    protocols.map((protocol) => [kind, protocol, fits[kind].includes(protocol)] as const),
  );
  it.each(cases)('%s on a %s listener: attached %s', (kind, protocol, attached) => {
    const gw = gateway('external', {
      listeners: [listener('l', { protocol, allowedRoutes: all })],
    });
    const result = routeEndpoints(anyRoute(kind), kind, ctx, inputs([gw]));
    if (attached) {
      expect(names(result)).toEqual(['app.example.com A 203.0.113.10']);
      expect(result.diagnostics).toEqual([]);
    } else {
      expect(result.endpoints).toEqual([]);
      expect(result.diagnostics).toEqual([
        expect.objectContaining({ object: `${kind}/shop/r`, reason: 'NoMatchingListener' }),
      ]);
    }
  });

  it.each(['TCPRoute', 'UDPRoute'] as const)(
    '%s without the hostname annotation has no name (NoHostname)',
    (kind) => {
      const protocol = kind === 'TCPRoute' ? 'TCP' : 'UDP';
      const gw = gateway('external', {
        listeners: [
          listener('l', { protocol, hostname: 'ignored.example.com', allowedRoutes: all }),
        ],
      });
      const result = routeEndpoints(route(kind, 'r'), kind, ctx, inputs([gw]));
      expect(result.endpoints).toEqual([]);
      expect(result.diagnostics).toEqual([
        {
          object: `${kind}/shop/r`,
          reason: 'NoHostname',
          message:
            'parent Gateway/infra/external: this route kind has no spec.hostnames: set the hostname annotation to publish a name',
        },
      ]);
    },
  );

  it('a TCPRoute annotation name is published as it is (TCP listeners have no hostnames)', () => {
    const gw = gateway('external', {
      listeners: [
        listener('l', { protocol: 'TCP', hostname: 'other.example.com', allowedRoutes: all }),
      ],
    });
    const r = route('TCPRoute', 'r', { annotations: { [HOSTNAME]: 'db.example.com' } });
    expect(names(routeEndpoints(r, 'TCPRoute', ctx, inputs([gw])))).toEqual([
      'db.example.com A 203.0.113.10',
    ]);
  });

  it('allowedRoutes kinds: an HTTPRoute-only listener refuses a GRPCRoute', () => {
    const gw = gateway('external', {
      listeners: [listener('l', { allowedRoutes: { ...all, kinds: [{ kind: 'HTTPRoute' }] } })],
    });
    const result = routeEndpoints(anyRoute('GRPCRoute'), 'GRPCRoute', ctx, inputs([gw]));
    expect(result.diagnostics).toEqual([
      expect.objectContaining({
        reason: 'NotAllowedByListeners',
        message: expect.stringContaining('GRPCRoute'),
      }),
    ]);
  });

  it('a lagging TLSRoute is held like an HTTPRoute (seeds/001)', () => {
    const gw = gateway('external', {
      listeners: [listener('l', { protocol: 'TLS', allowedRoutes: all })],
    });
    const r = anyRoute('TLSRoute', { generation: 2, status: [] });
    const result = routeEndpoints(r, 'TLSRoute', ctx, inputs([gw]));
    expect(result.held).toBe('TLSRoute/shop/r');
    expect(result.diagnostics.map((d) => d.reason)).toEqual(['StatusLagging']);
  });
});

describe('route hostnames: spec, annotation and the listener intersection', () => {
  const wildcard = gateway('external', {
    listeners: [listener('l', { hostname: '*.example.com', allowedRoutes: all })],
  });

  it('annotation names join spec.hostnames and pass the same intersection', () => {
    const r = route('HTTPRoute', 'r', {
      hostnames: ['a.example.com'],
      annotations: { [HOSTNAME]: 'b.example.com,c.example.net' },
    });
    const result = routeEndpoints(r, 'HTTPRoute', ctx, inputs([wildcard]));
    expect(result.endpoints.map((e) => e.name)).toEqual(['a.example.com', 'b.example.com']);
    expect(result.diagnostics).toEqual([
      expect.objectContaining({
        reason: 'NoMatchingHostname',
        message: expect.stringContaining('c.example.net'),
      }),
    ]);
  });

  it('a route hostname the listener drops gets NoMatchingHostname while the others publish', () => {
    const r = route('HTTPRoute', 'r', { hostnames: ['a.example.com', 'shop.example.org'] });
    const result = routeEndpoints(r, 'HTTPRoute', ctx, inputs([wildcard]));
    expect(names(result)).toEqual(['a.example.com A 203.0.113.10']);
    expect(result.diagnostics).toEqual([
      expect.objectContaining({
        object: 'HTTPRoute/shop/r',
        reason: 'NoMatchingHostname',
        message: expect.stringContaining('shop.example.org'),
      }),
    ]);
  });

  it('a hostname another parent publishes is not reported as dropped', () => {
    const second = gateway('second', {
      listeners: [listener('l', { hostname: 'shop.example.org', allowedRoutes: all })],
      addresses: [{ value: '203.0.113.20' }],
    });
    const r = route('HTTPRoute', 'r', {
      hostnames: ['a.example.com', 'shop.example.org'],
      parentRefs: [
        { name: 'external', namespace: 'infra' },
        { name: 'second', namespace: 'infra' },
      ],
    });
    const result = routeEndpoints(r, 'HTTPRoute', ctx, inputs([wildcard, second]));
    expect(names(result)).toEqual([
      'a.example.com A 203.0.113.10',
      'shop.example.org A 203.0.113.20',
    ]);
    // The second parent refuses a.example.com and the first shop.example.org, but each publishes.
    expect(result.diagnostics).toEqual([]);
  });

  it('no spec.hostnames: the listener hostname, plus annotation names it accepts', () => {
    const gw = gateway('external', {
      listeners: [listener('l', { hostname: 'gw.example.com', allowedRoutes: all })],
    });
    const r = route('HTTPRoute', 'r', {
      hostnames: [],
      annotations: { [HOSTNAME]: 'gw.example.com' },
    });
    expect(routeEndpoints(r, 'HTTPRoute', ctx, inputs([gw])).endpoints.map((e) => e.name)).toEqual([
      'gw.example.com',
    ]);
  });

  it('the ttl annotation sets the record TTL', () => {
    const r = route('HTTPRoute', 'r', {
      hostnames: ['a.example.com'],
      annotations: { 'external-dns.alpha.kubernetes.io/ttl': '120' },
    });
    expect(routeEndpoints(r, 'HTTPRoute', ctx, inputs([wildcard])).endpoints[0]?.ttl).toBe(120);
  });
});

describe('Gateway annotations', () => {
  it('the external-dns target annotation on the Gateway replaces its addresses', () => {
    const gw = gateway('external', {
      annotations: { 'external-dns.alpha.kubernetes.io/target': 'edge.example.net' },
    });
    const r = anyRoute('HTTPRoute');
    expect(names(routeEndpoints(r, 'HTTPRoute', ctx, inputs([gw])))).toEqual([
      'app.example.com CNAME edge.example.net',
    ]);
  });

  it('a Gateway for another controller attaches nothing (OtherController)', () => {
    const gw = gateway('external', {
      annotations: { 'external-dns.alpha.kubernetes.io/controller': 'someone-else' },
    });
    const result = routeEndpoints(anyRoute('HTTPRoute'), 'HTTPRoute', ctx, inputs([gw]));
    expect(result.endpoints).toEqual([]);
    expect(result.diagnostics.map((d) => d.reason)).toEqual(['OtherController']);
  });

  it('a route for another controller is skipped (OtherController)', () => {
    const r = anyRoute('HTTPRoute', {
      annotations: { 'external-dns.kubernetes.io/controller': 'someone-else' },
    });
    const result = routeEndpoints(r, 'HTTPRoute', ctx, inputs([gateway('external')]));
    expect(result.endpoints).toEqual([]);
    expect(result.diagnostics.map((d) => d.reason)).toEqual(['OtherController']);
  });
});

describe('status of manifests that never met an API server', () => {
  const acceptedWithoutGeneration: Route['status'] = {
    parents: [
      {
        parentRef: { name: 'external', namespace: 'infra' },
        conditions: [
          {
            type: 'Accepted',
            status: 'True',
            reason: 'Accepted',
            message: '',
            lastTransitionTime: new Date(),
          },
        ],
      },
    ],
  };

  it('no metadata.generation and an Accepted condition without observedGeneration: current', () => {
    const base = anyRoute('HTTPRoute');
    const r: Route = {
      ...base,
      metadata: { ...base.metadata, generation: undefined },
      status: acceptedWithoutGeneration,
    };
    const result = routeEndpoints(
      r,
      'HTTPRoute',
      ctx,
      inputs([gateway('external')], [namespace('shop')]),
    );
    expect(names(result)).toEqual(['app.example.com A 203.0.113.10']);
    expect(result.held).toBeUndefined();
  });

  it('with metadata.generation set, a condition without observedGeneration still lags', () => {
    const base = anyRoute('HTTPRoute', { generation: 1 });
    const r: Route = {
      ...base,
      status: acceptedWithoutGeneration,
    };
    expect(routeEndpoints(r, 'HTTPRoute', ctx, inputs([gateway('external')])).held).toBe(
      'HTTPRoute/shop/r',
    );
  });
});
