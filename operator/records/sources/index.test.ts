import type { KubernetesObject } from '@kubernetes/client-node';
import type { DNSPolicySpec } from '../../api/types';
import {
  dnsEndpoint,
  gateway,
  ingress,
  namespace,
  node,
  policy,
  route,
  service,
} from '../../../test/support/records-fixtures';
import { offlineCaches, sourceObjectsFrom } from '../objects';
import { collectDesiredRecords } from './index';

function collect(
  objects: KubernetesObject[],
  spec: Partial<DNSPolicySpec>,
  controllerName?: string,
) {
  const caches = offlineCaches();
  objects.forEach((o) => caches.add(o));
  return collectDesiredRecords(policy('p', spec), sourceObjectsFrom(caches), {
    trustedNamespaces: new Set(),
    ...(controllerName ? { controllerName } : {}),
  });
}
const lb = (name: string, hostname: string, ip = '203.0.113.1'): KubernetesObject =>
  service(name, { hostname, type: 'LoadBalancer', ingress: [{ ip }] });

describe('collectDesiredRecords', () => {
  it.each<[string, Partial<DNSPolicySpec>, string, string]>([
    [
      'a name outside domains',
      { domains: ['example.org'] },
      'a.example.com',
      "a.example.com is not under the policy's domains (example.org)",
    ],
    [
      'a name under excludeDomains',
      { excludeDomains: ['internal.example.com'] },
      'a.internal.example.com',
      'a.internal.example.com is under excludeDomains entry internal.example.com',
    ],
  ])('drops %s with an OutsideDomains diagnostic', (_name, spec, hostname, message) => {
    const result = collect([lb('a', hostname)], { sources: [{ kind: 'Service' }], ...spec });
    expect(result.endpoints).toEqual([]);
    expect(result.diagnostics).toEqual([
      { object: 'Service/shop/a', reason: 'OutsideDomains', message: `${message}; not published` },
    ]);
  });

  it('reports each dropped name once per object, and keeps the names in domains', () => {
    const result = collect([lb('b', 'b.example.com,b.example.org')], {
      sources: [{ kind: 'Service' }],
    });
    expect(result.endpoints.map((e) => e.name)).toEqual(['b.example.com']);
    expect(result.diagnostics).toEqual([
      expect.objectContaining({
        object: 'Service/shop/b',
        reason: 'OutsideDomains',
        message: expect.stringContaining('b.example.org'),
      }),
    ]);
  });

  it('an Ingress source with ingressClassNames publishes only those classes', () => {
    const result = collect(
      [
        ingress('gce', { className: 'gce', hosts: ['gce.example.com'] }),
        ingress('nginx', { className: 'nginx', hosts: ['nginx.example.com'] }),
      ],
      { sources: [{ kind: 'Ingress', ingressClassNames: ['gce'] }] },
    );
    expect(result.endpoints.map((e) => e.name)).toEqual(['gce.example.com']);
  });

  it('reads every source kind of the policy', () => {
    const tls = gateway('tls', {
      listeners: [
        { name: 'tls', port: 443, protocol: 'TLS', allowedRoutes: { namespaces: { from: 'All' } } },
      ],
      addresses: [{ value: '203.0.113.40' }],
    });
    const result = collect(
      [
        namespace('shop'),
        tls,
        route('TLSRoute', 'secure', {
          hostnames: ['secure.example.com'],
          parentRefs: [{ name: 'tls', namespace: 'infra' }],
        }),
        ingress('web'),
        dnsEndpoint('rec', [
          { dnsName: 'rec.example.com', recordType: 'A', targets: ['192.0.2.1'] },
        ]),
        node('n1', ['ExternalIP=198.51.100.1']),
        service('np', {
          hostname: 'np.example.com',
          type: 'NodePort',
          ports: [{ port: 80, nodePort: 30080 }],
        }),
      ],
      {
        sources: [
          { kind: 'Service' },
          { kind: 'Ingress' },
          { kind: 'TLSRoute' },
          { kind: 'DNSEndpoint' },
        ],
      },
    );
    expect(result.diagnostics).toEqual([]);
    expect(result.endpoints.map((e) => `${e.name} ${e.type} ${e.source}`).sort()).toEqual([
      '_np._tcp.np.example.com SRV Service/shop/np',
      'np.example.com A Service/shop/np',
      'rec.example.com A DNSEndpoint/shop/rec',
      'secure.example.com A TLSRoute/shop/secure',
      'web.example.com A Ingress/shop/web',
    ]);
  });

  it('--controller-name admits objects annotated for that controller', () => {
    const svc = service('app', {
      type: 'LoadBalancer',
      ingress: [{ ip: '203.0.113.1' }],
      annotations: {
        'external-dns.alpha.kubernetes.io/hostname': 'app.example.com',
        'external-dns.alpha.kubernetes.io/controller': 'dns-controller',
      },
    });
    const spec = { sources: [{ kind: 'Service' as const }] };
    expect(collect([svc], spec).diagnostics.map((d) => d.reason)).toEqual(['OtherController']);
    expect(collect([svc], spec, 'dns-controller').endpoints).toHaveLength(1);
  });
});
