import type { V1EndpointSlice, V1Pod } from '@kubernetes/client-node';
import { endpointSlice, headless, pod, service } from '../../../test/support/records-fixtures';
import { matchesMapSelector } from './labels';
import { serviceEndpoints, type ServiceInputs } from './service';

function inputs(pods: V1Pod[] = [], slices: V1EndpointSlice[] = []): ServiceInputs {
  return {
    podsSelectedBy: (ns, selector) =>
      pods.filter(
        (p) => p.metadata?.namespace === ns && matchesMapSelector(selector, p.metadata?.labels),
      ),
    endpointSlicesOf: (ns, svc) =>
      slices.filter(
        (s) =>
          s.metadata?.namespace === ns &&
          s.metadata?.labels?.['kubernetes.io/service-name'] === svc,
      ),
  };
}

const records = (r: ReturnType<typeof serviceEndpoints>): [string, string, readonly string[]][] =>
  r.endpoints.map((e) => [e.name, e.type, e.targets]);

describe('serviceEndpoints', () => {
  it.each([
    [
      'LoadBalancer IP -> A',
      service('app', {
        hostname: 'app.example.com',
        type: 'LoadBalancer',
        ingress: [{ ip: '203.0.113.7' }],
      }),
      [['app.example.com', 'A', ['203.0.113.7']]],
    ],
    [
      'LoadBalancer hostname -> CNAME',
      service('app', {
        hostname: 'app.example.com',
        type: 'LoadBalancer',
        ingress: [{ hostname: 'abc.elb.amazonaws.com' }],
      }),
      [['app.example.com', 'CNAME', ['abc.elb.amazonaws.com']]],
    ],
    [
      'ClusterIP -> cluster IP',
      service('app', { hostname: 'app.example.com', clusterIP: '10.0.0.9' }),
      [['app.example.com', 'A', ['10.0.0.9']]],
    ],
    [
      'dual-stack ClusterIP -> A and AAAA',
      service('app', { hostname: 'app.example.com', clusterIPs: ['10.0.0.9', 'fd00::9'] }),
      [
        ['app.example.com', 'A', ['10.0.0.9']],
        ['app.example.com', 'AAAA', ['fd00::9']],
      ],
    ],
    [
      'ExternalName -> CNAME',
      service('db', {
        hostname: 'db.example.com',
        type: 'ExternalName',
        externalName: 'db.rds.example.net',
      }),
      [['db.example.com', 'CNAME', ['db.rds.example.net']]],
    ],
    [
      'several hostnames, comma separated',
      service('app', { hostname: 'a.example.com, B.example.com.', clusterIP: '10.0.0.9' }),
      [
        ['a.example.com', 'A', ['10.0.0.9']],
        ['b.example.com', 'A', ['10.0.0.9']],
      ],
    ],
    [
      'dnsop.io/target overrides the status',
      service('app', {
        hostname: 'app.example.com',
        type: 'LoadBalancer',
        ingress: [{ ip: '203.0.113.7' }],
        annotations: { 'dnsop.io/target': '198.51.100.1' },
      }),
      [['app.example.com', 'A', ['198.51.100.1']]],
    ],
    ['no hostname annotation -> nothing', service('app', {}), []],
  ])('%s', (_name, svc, expected) => {
    expect(records(serviceEndpoints(svc, 300, inputs()))).toEqual(expected);
  });

  it.each([['external-dns.alpha.kubernetes.io/hostname'], ['external-dns.kubernetes.io/hostname']])(
    'reads the external-dns annotation %s for migration',
    (key) => {
      const svc = service('app', {
        annotations: { [key]: 'app.example.com', 'external-dns.alpha.kubernetes.io/ttl': '120' },
      });
      const result = serviceEndpoints(svc, 300, inputs());
      expect(result.endpoints).toEqual([
        expect.objectContaining({ name: 'app.example.com', ttl: 120 }),
      ]);
    },
  );

  it('prefers dnsop.io/hostname over the external-dns annotation', () => {
    const svc = service('app', {
      hostname: 'new.example.com',
      annotations: { 'external-dns.alpha.kubernetes.io/hostname': 'old.example.com' },
    });
    expect(serviceEndpoints(svc, 300, inputs()).endpoints.map((e) => e.name)).toEqual([
      'new.example.com',
    ]);
  });

  it('applies dnsop.io/ttl and reports an invalid one', () => {
    const ok = service('app', {
      hostname: 'app.example.com',
      annotations: { 'dnsop.io/ttl': '5m' },
    });
    expect(serviceEndpoints(ok, 300, inputs()).endpoints[0]?.ttl).toBe(300);
    const ok2 = service('app', {
      hostname: 'app.example.com',
      annotations: { 'dnsop.io/ttl': '42' },
    });
    expect(serviceEndpoints(ok2, 300, inputs()).endpoints[0]?.ttl).toBe(42);
    const bad = service('app', {
      hostname: 'app.example.com',
      annotations: { 'dnsop.io/ttl': 'soon' },
    });
    const result = serviceEndpoints(bad, 300, inputs());
    expect(result.endpoints[0]?.ttl).toBe(300);
    expect(result.diagnostics).toEqual([
      expect.objectContaining({ object: 'Service/shop/app', reason: 'InvalidAnnotation' }),
    ]);
  });

  it('dnsop.io/alias "false" marks records as plain', () => {
    const svc = service('app', {
      hostname: 'app.example.com',
      type: 'LoadBalancer',
      ingress: [{ hostname: 'x.elb.amazonaws.com' }],
      annotations: { 'dnsop.io/alias': 'false' },
    });
    expect(serviceEndpoints(svc, 300, inputs()).endpoints[0]?.providerSpecific).toEqual({
      alias: false,
    });
  });

  it('reports a LoadBalancer without ingress yet', () => {
    const svc = service('app', { hostname: 'app.example.com', type: 'LoadBalancer' });
    const result = serviceEndpoints(svc, 300, inputs());
    expect(result.endpoints).toEqual([]);
    expect(result.diagnostics.map((d) => d.reason)).toEqual(['LoadBalancerPending']);
  });

  it('skips an invalid hostname with a diagnostic', () => {
    const svc = service('app', {
      hostname: 'ok.example.com,not_ok.example.com',
      clusterIP: '10.0.0.9',
    });
    const result = serviceEndpoints(svc, 300, inputs());
    expect(result.endpoints.map((e) => e.name)).toEqual(['ok.example.com']);
    expect(result.diagnostics.map((d) => d.reason)).toEqual(['InvalidHostname']);
  });

  describe('headless with a selector (seeds/000)', () => {
    const pg = headless('pg', { app: 'pg', role: 'primary' }, 'pg.example.com');
    const pods = [
      pod('pg-0', { labels: { app: 'pg', role: 'primary' }, ip: '10.1.0.1', hostname: 'pg-0' }),
      pod('pg-1', { labels: { app: 'pg', role: 'replica' }, ip: '10.1.0.2', hostname: 'pg-1' }),
      pod('pg-2', {
        labels: { app: 'pg', role: 'primary' },
        ip: '10.1.0.3',
        ready: false,
        hostname: 'pg-2',
      }),
      pod('pg-x', { labels: { app: 'pg', role: 'primary' }, ip: '10.9.0.1', namespace: 'other' }),
    ];

    it('publishes the ready selected pods and a name per pod hostname', () => {
      expect(records(serviceEndpoints(pg, 300, inputs(pods)))).toEqual([
        ['pg.example.com', 'A', ['10.1.0.1']],
        ['pg-0.pg.example.com', 'A', ['10.1.0.1']],
      ]);
    });

    it('with publishNotReadyAddresses publishes not-ready and terminating pods too', () => {
      const svc = headless('pg', { app: 'pg', role: 'primary' }, 'pg.example.com', {
        publishNotReadyAddresses: true,
      });
      const all = [
        ...pods,
        pod('pg-3', { labels: { app: 'pg', role: 'primary' }, ip: '10.1.0.4', terminating: true }),
      ];
      expect(records(serviceEndpoints(svc, 300, inputs(all)))[0]).toEqual([
        'pg.example.com',
        'A',
        ['10.1.0.1', '10.1.0.3', '10.1.0.4'],
      ]);
    });

    it('leaves out terminating, finished and address-less pods', () => {
      const others = [
        pod('a', { labels: { app: 'pg', role: 'primary' }, ip: '10.1.1.1', terminating: true }),
        pod('b', { labels: { app: 'pg', role: 'primary' }, ip: '10.1.1.2', phase: 'Succeeded' }),
        pod('c', { labels: { app: 'pg', role: 'primary' } }),
      ];
      const result = serviceEndpoints(pg, 300, inputs(others));
      expect(result.endpoints).toEqual([]);
      expect(result.diagnostics.map((d) => d.reason)).toEqual(['NoReadyEndpoints']);
    });

    it('dual-stack pods give A and AAAA', () => {
      const dual = [
        pod('pg-0', { labels: { app: 'pg', role: 'primary' }, ips: ['10.1.0.1', 'fd00::1'] }),
      ];
      expect(records(serviceEndpoints(pg, 300, inputs(dual)))).toEqual([
        ['pg.example.com', 'A', ['10.1.0.1']],
        ['pg.example.com', 'AAAA', ['fd00::1']],
      ]);
    });
  });

  describe('headless without a selector', () => {
    const svc = headless('ext', undefined, 'ext.example.com');
    it('publishes the ready EndpointSlice addresses, per-endpoint hostnames, both families', () => {
      const slices = [
        endpointSlice('ext', [
          { addresses: ['10.2.0.1'], hostname: 'n1' },
          { addresses: ['10.2.0.2'], ready: false },
          { addresses: ['10.2.0.3'] },
        ]),
        endpointSlice('ext', [{ addresses: ['fd00::2:1'] }], {
          addressType: 'IPv6',
          name: 'ext-v6',
        }),
        endpointSlice('ext', [{ addresses: ['x.example.net'] }], {
          addressType: 'FQDN',
          name: 'ext-fqdn',
        }),
        endpointSlice('other', [{ addresses: ['10.3.0.1'] }]),
      ];
      expect(records(serviceEndpoints(svc, 300, inputs([], slices)))).toEqual([
        ['ext.example.com', 'A', ['10.2.0.1', '10.2.0.3']],
        ['ext.example.com', 'AAAA', ['fd00::2:1']],
        ['n1.ext.example.com', 'A', ['10.2.0.1']],
      ]);
    });
  });
});
