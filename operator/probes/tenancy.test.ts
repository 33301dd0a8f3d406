import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { makeTarget } from './resolver';
import type { DiscoveredTarget, Discovery } from './targets';
import {
  confineTargets,
  podReadinessEndpoint,
  probeRefusals,
  withPodReadiness,
  type ProbeSpecView,
} from './tenancy';

describe('probeRefusals', () => {
  const own = { serviceRef: { name: 'dns' }, port: 53 };
  it.each<[string, ProbeSpecView, string[]]>([
    ['a Service of its own namespace', { server: own }, []],
    [
      'its own namespace named explicitly',
      { server: { serviceRef: { name: 'dns', namespace: 'b' } } },
      [],
    ],
    [
      'a Service in kube-system',
      { server: { serviceRef: { name: 'kube-dns', namespace: 'kube-system' } } },
      ['spec.server.serviceRef.namespace'],
    ],
    ['fixed addresses', { server: { addresses: ['10.96.0.10'] } }, ['spec.server.addresses']],
    ['an empty address list', { server: { ...own, addresses: [] } }, []],
    ['a readiness override', { server: own, readiness: { port: 9 } }, ['spec.readiness']],
    [
      'remediation Evict',
      { server: own, remediation: { mode: 'Evict' } },
      ['spec.remediation.mode'],
    ],
    ['remediation DryRun', { server: own, remediation: { mode: 'DryRun' } }, []],
    [
      'all at once',
      {
        server: { serviceRef: { name: 'x', namespace: 'shop' }, addresses: ['1.1.1.1'] },
        readiness: { path: '/x' },
        remediation: { mode: 'Evict' },
      },
      [
        'spec.server.serviceRef.namespace',
        'spec.server.addresses',
        'spec.readiness',
        'spec.remediation.mode',
      ],
    ],
  ])('untrusted: %s', (_name, spec, fields) => {
    const refusals = probeRefusals(spec, 'b', false);
    expect(refusals.map((r) => r.field)).toEqual(fields);
    for (const r of refusals) {
      expect(r.reason).toBe('Forbidden');
      expect(r.message.startsWith(`${r.field}: `)).toBe(true);
      expect(r.message).toContain('"b" to --trusted-namespaces');
    }
  });

  it('a trusted namespace may do all of it', () => {
    const spec: ProbeSpecView = {
      server: {
        serviceRef: { name: 'kube-dns', namespace: 'kube-system' },
        addresses: ['1.1.1.1'],
      },
      readiness: { port: 8181 },
      remediation: { mode: 'Evict' },
    };
    expect(probeRefusals(spec, 'dnsop-system', true)).toEqual([]);
  });
});

function pod(name: string, ip: string, containers: V1Container[] = []): V1Pod {
  return {
    metadata: { name, namespace: 'b' },
    spec: { containers },
    status: { podIP: ip, podIPs: [{ ip }] },
  };
}

function podTarget(address: string, podName: string): DiscoveredTarget {
  const target = makeTarget(address, 53);
  return {
    target,
    identity: { key: target.key, address, kind: 'Pod', pod: podName },
    endpointReady: true,
  };
}

function serviceTarget(address: string): DiscoveredTarget {
  const target = makeTarget(address, 53);
  return { target, identity: { key: target.key, address, kind: 'Service' } };
}

describe('confineTargets', () => {
  const discovery: Discovery = {
    targets: [
      serviceTarget('10.96.0.50'),
      podTarget('10.244.0.5', 'dns-a'),
      podTarget('10.244.9.9', 'coredns-in-kube-system'),
      podTarget('203.0.113.1', '203.0.113.1'),
    ],
    problems: [],
  };
  const pods = [pod('dns-a', '10.244.0.5')];

  it('untrusted: only the IPs of pods of its namespace (and the ClusterIP) stay targets', () => {
    const out = confineTargets(discovery, pods, false);
    expect(out.targets.map((t) => t.identity.address)).toEqual(['10.96.0.50', '10.244.0.5']);
    expect(out.problems).toEqual([
      {
        reason: 'TargetNotAPod',
        message: expect.stringContaining('10.244.9.9, 203.0.113.1') as string,
      },
    ]);
  });

  it('trusted: unchanged', () => {
    expect(confineTargets(discovery, pods, true)).toBe(discovery);
  });
});

const coredns = (
  probe: V1Container['readinessProbe'],
  ports?: V1Container['ports'],
): V1Container => ({
  name: 'coredns',
  ...(probe !== undefined ? { readinessProbe: probe } : {}),
  ...(ports !== undefined ? { ports } : {}),
});

describe('podReadinessEndpoint', () => {
  it.each<[string, V1Container[], { port: number; path: string } | undefined]>([
    [
      'numbered port and path',
      [coredns({ httpGet: { port: 8181, path: '/ready' } })],
      { port: 8181, path: '/ready' },
    ],
    [
      'named port',
      [
        coredns({ httpGet: { port: 'ready', path: '/ready' } }, [
          { name: 'ready', containerPort: 8282 },
        ]),
      ],
      { port: 8282, path: '/ready' },
    ],
    [
      'named port of another container',
      [
        coredns({ httpGet: { port: 'ready', path: '/ready' } }),
        { name: 'sidecar', ports: [{ name: 'ready', containerPort: 9000 }] },
      ],
      { port: 9000, path: '/ready' },
    ],
    ['number as a string', [coredns({ httpGet: { port: '8181' } })], { port: 8181, path: '/' }],
    [
      'no path: the kubelet asks for /',
      [coredns({ httpGet: { port: 8080 } })],
      { port: 8080, path: '/' },
    ],
    ['unknown port name', [coredns({ httpGet: { port: 'nope' } })], undefined],
    ['HTTPS', [coredns({ httpGet: { port: 8443, scheme: 'HTTPS' } })], undefined],
    ['exec probe', [coredns({ exec: { command: ['true'] } })], undefined],
    ['no probe', [coredns(undefined)], undefined],
    [
      'the first container with an httpGet probe',
      [{ name: 'a' }, coredns({ httpGet: { port: 8181, path: '/ready' } })],
      { port: 8181, path: '/ready' },
    ],
  ])('%s', (_name, containers, expected) => {
    expect(podReadinessEndpoint(pod('p', '10.0.0.1', containers))).toEqual(expected);
  });
});

describe('withPodReadiness', () => {
  const fallback = { port: 8181, path: '/ready' };
  const pods = [
    pod('own-probe', '10.0.0.1', [
      coredns({ httpGet: { port: 'ready', path: '/health-ready' } }, [
        { name: 'ready', containerPort: 8282 },
      ]),
    ]),
    pod('no-probe', '10.0.0.2'),
  ];
  const discovery: Discovery = {
    targets: [
      serviceTarget('10.96.0.10'),
      podTarget('10.0.0.1', 'own-probe'),
      podTarget('10.0.0.2', 'no-probe'),
      podTarget('10.0.0.3', 'gone'),
    ],
    problems: [],
  };

  it("uses each pod's own readinessProbe, else the ready plugin's default", () => {
    const out = withPodReadiness(discovery, pods, undefined, fallback);
    expect(out.targets.map((t) => t.readiness)).toEqual([
      undefined,
      { port: 8282, path: '/health-ready' },
      fallback,
      fallback,
    ]);
  });

  it('a (trusted) override wins for every pod', () => {
    const override = { port: 9999, path: '/x' };
    const out = withPodReadiness(discovery, pods, override, fallback);
    expect(out.targets.slice(1).map((t) => t.readiness)).toEqual([override, override, override]);
  });
});
