import type { V1EndpointSlice, V1Node, V1Pod } from '@kubernetes/client-node';
import {
  endpointSlice,
  headless,
  node,
  pod,
  service,
} from '../../../test/support/records-fixtures';
import { DEFAULT_SOURCE_CONTEXT, type SourceContext } from './context';
import { matchesMapSelector } from './labels';
import { serviceEndpoints, type ServiceInputs } from './service';

const ctx: SourceContext = DEFAULT_SOURCE_CONTEXT;
/** A policy with spec.publishInternalServices: true. */
const internal: SourceContext = { ...DEFAULT_SOURCE_CONTEXT, publishInternalServices: true };

function inputs(
  pods: V1Pod[] = [],
  slices: V1EndpointSlice[] = [],
  nodes: V1Node[] = [],
): ServiceInputs {
  return {
    nodes: () => nodes,
    node: (name) => nodes.find((n) => n.metadata?.name === name),
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
      service('app', {
        hostname: 'a.example.com, B.example.com.',
        type: 'LoadBalancer',
        ingress: [{ ip: '10.0.0.9' }],
      }),
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
    expect(records(serviceEndpoints(svc, ctx, inputs()))).toEqual(expected);
  });

  it.each([['external-dns.alpha.kubernetes.io/hostname'], ['external-dns.kubernetes.io/hostname']])(
    'reads the external-dns annotation %s for migration',
    (key) => {
      const svc = service('app', {
        annotations: { [key]: 'app.example.com', 'external-dns.alpha.kubernetes.io/ttl': '120' },
      });
      const result = serviceEndpoints(svc, internal, inputs());
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
    expect(serviceEndpoints(svc, internal, inputs()).endpoints.map((e) => e.name)).toEqual([
      'new.example.com',
    ]);
  });

  it('applies dnsop.io/ttl and reports an invalid one', () => {
    const ok = service('app', {
      hostname: 'app.example.com',
      annotations: { 'dnsop.io/ttl': '5m' },
    });
    expect(serviceEndpoints(ok, internal, inputs()).endpoints[0]?.ttl).toBe(300);
    const ok2 = service('app', {
      hostname: 'app.example.com',
      annotations: { 'dnsop.io/ttl': '42' },
    });
    expect(serviceEndpoints(ok2, internal, inputs()).endpoints[0]?.ttl).toBe(42);
    const bad = service('app', {
      hostname: 'app.example.com',
      annotations: { 'dnsop.io/ttl': 'soon' },
    });
    const result = serviceEndpoints(bad, internal, inputs());
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
    expect(serviceEndpoints(svc, ctx, inputs()).endpoints[0]?.providerSpecific).toEqual({
      alias: false,
    });
  });

  it('reports a LoadBalancer without ingress yet', () => {
    const svc = service('app', { hostname: 'app.example.com', type: 'LoadBalancer' });
    const result = serviceEndpoints(svc, ctx, inputs());
    expect(result.endpoints).toEqual([]);
    expect(result.diagnostics.map((d) => d.reason)).toEqual(['LoadBalancerPending']);
  });

  it('skips an invalid hostname with a diagnostic', () => {
    const svc = service('app', {
      hostname: 'ok.example.com,not_ok.example.com',
      clusterIP: '10.0.0.9',
    });
    const result = serviceEndpoints(svc, internal, inputs());
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
      expect(records(serviceEndpoints(pg, ctx, inputs(pods)))).toEqual([
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
      expect(records(serviceEndpoints(svc, ctx, inputs(all)))[0]).toEqual([
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
      const result = serviceEndpoints(pg, ctx, inputs(others));
      expect(result.endpoints).toEqual([]);
      expect(result.diagnostics.map((d) => d.reason)).toEqual(['NoReadyEndpoints']);
    });

    it("a pod's target annotation stands in for its IP", () => {
      const annotated = [
        pod('pg-0', {
          labels: { app: 'pg', role: 'primary' },
          ip: '10.1.0.1',
          annotations: { 'external-dns.alpha.kubernetes.io/target': '1.2.3.4' },
        }),
      ];
      expect(records(serviceEndpoints(pg, ctx, inputs(annotated)))).toEqual([
        ['pg.example.com', 'A', ['1.2.3.4']],
      ]);
    });

    it('dual-stack pods give A and AAAA', () => {
      const dual = [
        pod('pg-0', { labels: { app: 'pg', role: 'primary' }, ips: ['10.1.0.1', 'fd00::1'] }),
      ];
      expect(records(serviceEndpoints(pg, ctx, inputs(dual)))).toEqual([
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
      expect(records(serviceEndpoints(svc, ctx, inputs([], slices)))).toEqual([
        ['ext.example.com', 'A', ['10.2.0.1', '10.2.0.3']],
        ['ext.example.com', 'AAAA', ['fd00::2:1']],
        ['n1.ext.example.com', 'A', ['10.2.0.1']],
      ]);
    });
  });

  describe('by Service type (external-dns parity)', () => {
    const nodes = [
      node('n1', ['ExternalIP=54.10.11.1', 'InternalIP=10.0.1.1', 'ExternalIP=2001:db8::1']),
      node('n2', ['ExternalIP=54.10.11.2', 'InternalIP=10.0.1.2']),
      node('n3', ['ExternalIP=54.10.11.3'], { unschedulable: true }),
    ];
    const internalOnly = [node('i1', ['InternalIP=10.0.2.1']), node('i2', ['InternalIP=10.0.2.2'])];
    const ports = [{ port: 80, nodePort: 30192 }];
    const srv30192 = ['_foo._tcp.foo.example.com', 'SRV', ['0 50 30192 foo.example.com.']];
    const localNodePort = service('foo', {
      hostname: 'foo.example.com',
      type: 'NodePort',
      ports,
      selector: { app: 'w' },
      externalTrafficPolicy: 'Local',
    });
    const backends = [
      pod('w-0', { labels: { app: 'w' }, ip: '10.1.0.1', nodeName: 'n2' }),
      pod('w-1', { labels: { app: 'w' }, ip: '10.1.0.2', nodeName: 'n2' }),
      pod('w-2', { labels: { app: 'w' }, ip: '10.1.0.3', nodeName: 'n1', ready: false }),
    ];
    type Row = [string, ReturnType<typeof service>, SourceContext, V1Node[], V1Pod[], unknown[]];
    it.each<Row>([
      [
        'LoadBalancer with externalIPs: the external IPs win',
        service('app', {
          hostname: 'app.example.com',
          type: 'LoadBalancer',
          externalIPs: ['10.2.3.4', '11.2.3.4'],
          ingress: [{ ip: '1.2.3.4' }],
        }),
        ctx,
        [],
        [],
        [['app.example.com', 'A', ['10.2.3.4', '11.2.3.4']]],
      ],
      [
        'ClusterIP with externalIPs: published without publishInternalServices',
        service('app', { hostname: 'app.example.com', externalIPs: ['203.0.113.9'] }),
        ctx,
        [],
        [],
        [['app.example.com', 'A', ['203.0.113.9']]],
      ],
      [
        'dual-stack load balancer: A and AAAA',
        service('app', {
          hostname: 'app.example.com',
          type: 'LoadBalancer',
          ingress: [{ ip: '1.1.1.1' }, { ip: '2001:db8::1' }],
        }),
        ctx,
        [],
        [],
        [
          ['app.example.com', 'A', ['1.1.1.1']],
          ['app.example.com', 'AAAA', ['2001:db8::1']],
        ],
      ],
      [
        'ClusterIP without publishInternalServices: nothing',
        service('app', { hostname: 'app.example.com', clusterIP: '10.0.0.9' }),
        ctx,
        [],
        [],
        [],
      ],
      [
        'ClusterIP with publishInternalServices: the cluster IPs',
        service('app', { hostname: 'app.example.com', clusterIPs: ['10.0.0.9', 'fd00::9'] }),
        internal,
        [],
        [],
        [
          ['app.example.com', 'A', ['10.0.0.9']],
          ['app.example.com', 'AAAA', ['fd00::9']],
        ],
      ],
      [
        'ExternalName pointing at an IPv4 address: an A record',
        service('db', {
          hostname: 'db.example.com',
          type: 'ExternalName',
          externalName: '192.0.2.7',
        }),
        ctx,
        [],
        [],
        [['db.example.com', 'A', ['192.0.2.7']]],
      ],
      [
        'ExternalName pointing at an IPv6 address: an AAAA record',
        service('db', {
          hostname: 'db.example.com',
          type: 'ExternalName',
          externalName: '2001:DB8::7',
        }),
        ctx,
        [],
        [],
        [['db.example.com', 'AAAA', ['2001:db8::7']]],
      ],
      [
        'NodePort: ExternalIPs of schedulable nodes, plus SRV per node port',
        service('foo', { hostname: 'foo.example.com', type: 'NodePort', ports }),
        ctx,
        nodes,
        [],
        [
          ['foo.example.com', 'A', ['54.10.11.1', '54.10.11.2']],
          ['foo.example.com', 'AAAA', ['2001:db8::1']],
          srv30192,
        ],
      ],
      [
        'NodePort on nodes with only InternalIPs: the InternalIPs',
        service('foo', { hostname: 'foo.example.com', type: 'NodePort', ports }),
        ctx,
        internalOnly,
        [],
        [['foo.example.com', 'A', ['10.0.2.1', '10.0.2.2']], srv30192],
      ],
      [
        'NodePort, named UDP port: the SRV service label is the port name',
        service('foo', {
          hostname: 'foo.example.com',
          type: 'NodePort',
          ports: [{ name: 'dns', port: 53, nodePort: 30053, protocol: 'UDP' }],
        }),
        ctx,
        internalOnly,
        [],
        [
          ['foo.example.com', 'A', ['10.0.2.1', '10.0.2.2']],
          ['_dns._udp.foo.example.com', 'SRV', ['0 50 30053 foo.example.com.']],
        ],
      ],
      [
        'NodePort externalTrafficPolicy Local: only the nodes running ready backends',
        localNodePort,
        ctx,
        nodes,
        backends,
        [['foo.example.com', 'A', ['54.10.11.2']], srv30192],
      ],
      [
        'NodePort Local with no ready backend: the nodes running not-ready ones (kube-proxy fallback)',
        localNodePort,
        ctx,
        nodes,
        backends.slice(2),
        [
          ['foo.example.com', 'A', ['54.10.11.1']],
          ['foo.example.com', 'AAAA', ['2001:db8::1']],
          srv30192,
        ],
      ],
      [
        'NodePort with no node address: nothing without publishInternalServices',
        service('foo', { hostname: 'foo.example.com', type: 'NodePort', ports }),
        ctx,
        [],
        [],
        [],
      ],
      [
        'NodePort with no node address and publishInternalServices: the cluster IP',
        service('foo', {
          hostname: 'foo.example.com',
          type: 'NodePort',
          ports,
          clusterIP: '10.0.0.5',
        }),
        internal,
        [],
        [],
        [['foo.example.com', 'A', ['10.0.0.5']]],
      ],
      [
        'internal-hostname: the cluster IP, even without publishInternalServices',
        service('app', {
          type: 'LoadBalancer',
          clusterIP: '10.0.0.9',
          ingress: [{ ip: '1.2.3.4' }],
          annotations: {
            'external-dns.alpha.kubernetes.io/hostname': 'app.example.com',
            'external-dns.alpha.kubernetes.io/internal-hostname': 'app.internal.example.com',
          },
        }),
        ctx,
        [],
        [],
        [
          ['app.example.com', 'A', ['1.2.3.4']],
          ['app.internal.example.com', 'A', ['10.0.0.9']],
        ],
      ],
    ])('%s', (_name, svc, context, nodeList, pods, expected) => {
      expect(records(serviceEndpoints(svc, context, inputs(pods, [], nodeList)))).toEqual(expected);
    });

    it.each([
      ['ClusterIP', service('app', { hostname: 'app.example.com' })],
      [
        'NodePort without node addresses',
        service('app', { hostname: 'app.example.com', type: 'NodePort', ports }),
      ],
    ])('%s without publishInternalServices says InternalService', (_name, svc) => {
      expect(serviceEndpoints(svc, ctx, inputs()).diagnostics).toEqual([
        expect.objectContaining({ object: 'Service/shop/app', reason: 'InternalService' }),
      ]);
    });
  });

  describe('annotations for migration', () => {
    const lb = (annotations: Record<string, string>): ReturnType<typeof service> =>
      service('app', { type: 'LoadBalancer', ingress: [{ ip: '1.2.3.4' }], annotations });
    it.each([
      ['dnsop.io/'],
      ['external-dns.alpha.kubernetes.io/'],
      ['external-dns.kubernetes.io/'],
    ])('reads hostname, ttl and target under %s', (prefix) => {
      const svc = lb({
        [`${prefix}hostname`]: 'app.example.com',
        [`${prefix}ttl`]: '1m',
        [`${prefix}target`]: 'edge.example.net.',
      });
      expect(serviceEndpoints(svc, ctx, inputs()).endpoints).toEqual([
        expect.objectContaining({
          name: 'app.example.com',
          type: 'CNAME',
          targets: ['edge.example.net'],
          ttl: 60,
        }),
      ]);
    });

    it('dnsop.io/* wins over both external-dns prefixes', () => {
      const svc = lb({
        'external-dns.alpha.kubernetes.io/ttl': '10',
        'external-dns.kubernetes.io/ttl': '20',
        'dnsop.io/ttl': '30',
        'external-dns.kubernetes.io/hostname': 'ga.example.com',
        'external-dns.alpha.kubernetes.io/hostname': 'alpha.example.com',
      });
      expect(serviceEndpoints(svc, ctx, inputs()).endpoints).toEqual([
        expect.objectContaining({ name: 'alpha.example.com', ttl: 30 }),
      ]);
    });

    it.each([
      ['dnsop', new Set<string>(), true],
      ['dns-controller', new Set<string>(), false],
      ['dns-controller', new Set(['dns-controller']), true],
    ])(
      'controller "%s" with --controller-name %j: published %s',
      (value, controllers, published) => {
        const svc = lb({
          'dnsop.io/hostname': 'app.example.com',
          'external-dns.alpha.kubernetes.io/controller': value,
        });
        const result = serviceEndpoints(svc, { ...ctx, controllers }, inputs());
        expect(result.endpoints.length > 0).toBe(published);
        expect(result.diagnostics.map((d) => d.reason)).toEqual(
          published ? [] : ['OtherController'],
        );
      },
    );
  });
});
