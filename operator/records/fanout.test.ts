import type { KubernetesObject, V1Pod } from '@kubernetes/client-node';
import type { DNSPolicy } from '../api/types';
import {
  affectedByGateway,
  affectedByNamespace,
  affectedByPod,
  affectedByService,
  type FanoutLookups,
} from './fanout';
import { INDEX, offlineCaches, servicesSelectingLabels } from './objects';
import {
  gateway,
  headless,
  httpRoute,
  namespace,
  pod,
  policy,
  service,
} from '../../test/support/records-fixtures';

function setup(objects: KubernetesObject[], policies: DNSPolicy[]): FanoutLookups {
  const caches = offlineCaches();
  objects.forEach((o) => caches.add(o));
  return {
    policies: () => policies,
    namespaceLabels: (ns) => caches.namespaces.get('', ns)?.metadata?.labels,
    servicesSelecting: (ns, labels) => servicesSelectingLabels(caches.services, ns, labels),
    service: (ns, name) => caches.services.get(ns, name),
    routesOfGateway: (key) => caches.httproutes.byIndex(INDEX.routeGateway, key),
  };
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
