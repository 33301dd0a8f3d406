import type { KubernetesObject, V1Pod } from '@kubernetes/client-node';
import type { DNSPolicy } from '../api/types';
import {
  affectedByDNSEndpoint,
  affectedByGateway,
  affectedByIngress,
  affectedByNamespace,
  affectedByNode,
  affectedByPod,
  affectedByRoute,
  affectedByService,
  type FanoutLookups,
} from './fanout';
import { fanoutLookupsFrom, offlineCaches } from './objects';
import {
  dnsEndpoint,
  gateway,
  headless,
  httpRoute,
  ingress,
  namespace,
  node,
  pod,
  policy,
  route,
  service,
} from '../../test/support/records-fixtures';

function setup(objects: KubernetesObject[], policies: DNSPolicy[]): FanoutLookups {
  const caches = offlineCaches();
  objects.forEach((o) => caches.add(o));
  return { ...fanoutLookupsFrom(caches), policies: () => policies };
}

const scope = { trustedNamespaces: new Set<string>() };
const svcPolicy = policy('svc', {
  sources: [{ kind: 'Service', selector: { matchLabels: { expose: 'public' } } }],
});
const podPolicy = policy('pods', { sources: [{ kind: 'Pod' }] });
const otherNs = policy('other', { sources: [{ kind: 'Service' }] }, 'elsewhere');
const routePolicy = policy('routes', { sources: [{ kind: 'HTTPRoute' }] });
const pgService = {
  ...headless('pg', { app: 'pg', role: 'primary' }, 'pg.example.com'),
  metadata: {
    ...headless('pg', { app: 'pg', role: 'primary' }, 'pg.example.com').metadata,
    labels: { expose: 'public' },
  },
};
const lookups = setup([pgService, namespace('shop')], [svcPolicy, podPolicy, otherNs, routePolicy]);
const primary = pod('a', { labels: { app: 'pg', role: 'primary' }, ip: '10.0.0.1' });
const replica = pod('a', { labels: { app: 'pg', role: 'replica' }, ip: '10.0.0.1' });

describe('affectedByPod (seeds/000)', () => {
  it.each<[string, { type: 'add' | 'update' | 'delete'; obj: V1Pod; old?: V1Pod }, string[]]>([
    ['create of a selected pod', { type: 'add', obj: primary }, ['shop/svc', 'shop/pods']],
    ['delete of a selected pod', { type: 'delete', obj: primary }, ['shop/svc', 'shop/pods']],
    [
      'label change out of the selector',
      { type: 'update', obj: replica, old: primary },
      ['shop/svc', 'shop/pods'],
    ],
    [
      'label change into the selector',
      { type: 'update', obj: primary, old: replica },
      ['shop/svc', 'shop/pods'],
    ],
    [
      'readiness change',
      {
        type: 'update',
        obj: pod('a', { labels: { app: 'pg', role: 'primary' }, ip: '10.0.0.1', ready: false }),
        old: primary,
      },
      ['shop/svc', 'shop/pods'],
    ],
    ['a pod no Service selects', { type: 'add', obj: replica }, ['shop/pods']],
    [
      'an update that changes nothing records depend on',
      {
        type: 'update',
        obj: { ...primary, metadata: { ...primary.metadata, resourceVersion: '9' } },
        old: primary,
      },
      [],
    ],
  ])('%s', (_name, event, expected) => {
    expect(affectedByPod(event, lookups, scope).sort()).toEqual(expected.sort());
  });
});

describe('other fan-out', () => {
  it('a Service label change reaches policies selecting it before or after', () => {
    const before = service('app', { labels: { expose: 'public' } });
    const after = service('app', { labels: { expose: 'private' } });
    expect(affectedByService({ type: 'update', obj: after, old: before }, lookups, scope)).toEqual([
      'shop/svc',
    ]);
  });

  it('a Gateway change reaches the policies of the routes attached to it', () => {
    const l = setup(
      [httpRoute('r', { parentRefs: [{ name: 'external', namespace: 'infra' }] })],
      [routePolicy, svcPolicy],
    );
    const gw = gateway('external');
    expect(
      affectedByGateway(
        { type: 'update', obj: { ...gw, status: { addresses: [{ value: '1.2.3.4' }] } }, old: gw },
        l,
        scope,
      ),
    ).toEqual(['shop/routes']);
    expect(affectedByGateway({ type: 'add', obj: gateway('unrelated') }, l, scope)).toEqual([]);
  });

  it('a Namespace label change reaches route policies and trusted selector policies only', () => {
    const trusted = policy(
      'platform',
      { sources: [{ kind: 'Service' }], namespaceSelector: {} },
      'platform',
    );
    const l = setup([], [svcPolicy, routePolicy, trusted]);
    const event = {
      type: 'update' as const,
      obj: namespace('shop', { a: 'b' }),
      old: namespace('shop'),
    };
    expect(
      affectedByNamespace(event, l, { trustedNamespaces: new Set(['platform']) }).sort(),
    ).toEqual(['platform/platform', 'shop/routes']);
  });

  it('a change of the domain grants annotation re-plans every policy of that namespace only', () => {
    const l = setup([], [svcPolicy, podPolicy, otherNs, routePolicy]);
    const granted = (domains: string): ReturnType<typeof namespace> => {
      const ns = namespace('shop');
      return {
        ...ns,
        metadata: { ...ns.metadata, annotations: { 'dnsop.io/allowed-domains': domains } },
      };
    };
    const change = {
      type: 'update' as const,
      obj: granted('a.example.com'),
      old: namespace('shop'),
    };
    expect(affectedByNamespace(change, l, scope).sort()).toEqual([
      'shop/pods',
      'shop/routes',
      'shop/svc',
    ]);
    const same = { type: 'update' as const, obj: granted('a.com'), old: granted('a.com') };
    expect(affectedByNamespace(same, l, scope)).toEqual([]);
  });
});

describe('fan-out of the other source kinds: only the policies an object concerns', () => {
  const gcePolicy = policy('gce', { sources: [{ kind: 'Ingress', ingressClassNames: ['gce'] }] });
  const anyIngress = policy('ingress', { sources: [{ kind: 'Ingress' }] });
  const labelled = policy('labelled', {
    sources: [{ kind: 'Ingress', selector: { matchLabels: { dns: 'public' } } }],
  });
  const l = setup([namespace('shop')], [gcePolicy, anyIngress, labelled, svcPolicy, routePolicy]);

  it.each<[string, Parameters<typeof affectedByIngress>[0], string[]]>([
    [
      'a new gce Ingress',
      { type: 'add', obj: ingress('w', { className: 'gce' }) },
      ['shop/gce', 'shop/ingress'],
    ],
    [
      'a new nginx Ingress',
      { type: 'add', obj: ingress('w', { className: 'nginx' }) },
      ['shop/ingress'],
    ],
    [
      'a class change from gce to nginx (before or after)',
      {
        type: 'update',
        obj: ingress('w', { className: 'nginx' }),
        old: ingress('w', { className: 'gce' }),
      },
      ['shop/gce', 'shop/ingress'],
    ],
    [
      'a status change of a labelled Ingress',
      {
        type: 'update',
        obj: ingress('w', { labels: { dns: 'public' }, lb: [{ ip: '1.1.1.1' }] }),
        old: ingress('w', { labels: { dns: 'public' }, lb: [] }),
      },
      ['shop/ingress', 'shop/labelled'],
    ],
    [
      'an update that changes nothing',
      { type: 'update', obj: ingress('w'), old: ingress('w') },
      [],
    ],
  ])('Ingress: %s', (_name, event, expected) => {
    expect(affectedByIngress(event, l, scope).sort()).toEqual(expected);
  });

  it('a route event reaches the policies with that route kind only', () => {
    const tcp = policy('tcp', { sources: [{ kind: 'TCPRoute' }] });
    const lk = setup([], [tcp, routePolicy]);
    const r = route('TCPRoute', 'db');
    expect(affectedByRoute('TCPRoute')({ type: 'add', obj: r }, lk, scope)).toEqual(['shop/tcp']);
    expect(affectedByRoute('HTTPRoute')({ type: 'add', obj: httpRoute('h') }, lk, scope)).toEqual([
      'shop/routes',
    ]);
  });

  it('a Gateway change reaches the policies of attached routes of every kind', () => {
    const grpc = policy('grpc', { sources: [{ kind: 'GRPCRoute' }] });
    const udp = policy('udp', { sources: [{ kind: 'UDPRoute' }] });
    const lk = setup(
      [
        route('GRPCRoute', 'g'),
        route('UDPRoute', 'u', { parentRefs: [{ name: 'other', namespace: 'infra' }] }),
      ],
      [grpc, udp, routePolicy],
    );
    const gw = gateway('external');
    const event = { type: 'update' as const, obj: { ...gw, status: { addresses: [] } }, old: gw };
    expect(affectedByGateway(event, lk, scope)).toEqual(['shop/grpc']);
  });

  it('a DNSEndpoint event reaches the policies with DNSEndpoint sources selecting it', () => {
    const dep = policy('dep', {
      sources: [{ kind: 'DNSEndpoint', selector: { matchLabels: { team: 'a' } } }],
    });
    const lk = setup([], [dep, svcPolicy]);
    const mine = dnsEndpoint('e', [], { labels: { team: 'a' } });
    const theirs = dnsEndpoint('e', [], { labels: { team: 'b' } });
    expect(affectedByDNSEndpoint({ type: 'add', obj: mine }, lk, scope)).toEqual(['shop/dep']);
    expect(affectedByDNSEndpoint({ type: 'add', obj: theirs }, lk, scope)).toEqual([]);
  });

  it('a node change reaches the policies of NodePort Services only', () => {
    const np = service('np', { type: 'NodePort', labels: { expose: 'public' } });
    const lb = service('lb', {
      type: 'LoadBalancer',
      labels: { expose: 'public' },
      namespace: 'elsewhere',
    });
    const lk = setup([np, lb], [svcPolicy, otherNs, podPolicy]);
    const before = node('n1', ['ExternalIP=1.1.1.1']);
    const after = node('n1', ['ExternalIP=1.1.1.2']);
    expect(affectedByNode({ type: 'update', obj: after, old: before }, lk, scope)).toEqual([
      'shop/svc',
    ]);
    expect(affectedByNode({ type: 'update', obj: before, old: before }, lk, scope)).toEqual([]);
    expect(
      affectedByNode(
        {
          type: 'update',
          obj: node('n1', ['ExternalIP=1.1.1.1'], { unschedulable: true }),
          old: before,
        },
        lk,
        scope,
      ),
    ).toEqual(['shop/svc']);
  });

  it('a pod moving reaches the policies of node-local NodePort Services selecting it', () => {
    const local = {
      ...service('np', {
        type: 'NodePort',
        selector: { app: 'w' },
        externalTrafficPolicy: 'Local',
      }),
    };
    const lk = setup(
      [{ ...local, metadata: { ...local.metadata, labels: { expose: 'public' } } }],
      [svcPolicy],
    );
    const p = pod('w-0', { labels: { app: 'w' }, ip: '10.0.0.1', nodeName: 'n1' });
    const moved = pod('w-0', { labels: { app: 'w' }, ip: '10.0.0.1', nodeName: 'n2' });
    expect(affectedByPod({ type: 'update', obj: moved, old: p }, lk, scope)).toEqual(['shop/svc']);
  });
});
