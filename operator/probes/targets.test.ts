import type { V1EndpointSlice, V1Pod, V1Service } from '@kubernetes/client-node';
import { discoverTargets, pickServicePort, type DiscoveryInput } from './targets';

const SERVICE: V1Service = {
  metadata: { name: 'kube-dns', namespace: 'kube-system' },
  spec: {
    clusterIP: '10.96.0.10',
    clusterIPs: ['10.96.0.10'],
    selector: { 'k8s-app': 'kube-dns' },
    ports: [
      { name: 'dns', port: 53, targetPort: 'dns', protocol: 'UDP' },
      { name: 'dns-tcp', port: 53, targetPort: 'dns-tcp', protocol: 'TCP' },
      { name: 'metrics', port: 9153, targetPort: 9153, protocol: 'TCP' },
    ],
  },
};

function slice(
  name: string,
  endpoints: { ip: string; pod: string; ready?: boolean; terminating?: boolean }[],
): V1EndpointSlice {
  return {
    metadata: {
      name,
      namespace: 'kube-system',
      labels: { 'kubernetes.io/service-name': 'kube-dns' },
    },
    addressType: 'IPv4',
    ports: [
      { name: 'dns', port: 5353, protocol: 'UDP' },
      { name: 'dns-tcp', port: 5354, protocol: 'TCP' },
    ],
    endpoints: endpoints.map((e) => ({
      addresses: [e.ip],
      conditions: {
        ...(e.ready !== undefined ? { ready: e.ready } : {}),
        ...(e.terminating ? { terminating: true } : {}),
      },
      targetRef: { kind: 'Pod', name: e.pod, namespace: 'kube-system', uid: `uid-${e.pod}` },
    })),
  };
}

function pod(
  name: string,
  ip: string,
  opts: {
    ready?: boolean;
    phase?: string;
    deleting?: boolean;
    labels?: Record<string, string>;
  } = {},
): V1Pod {
  return {
    metadata: {
      name,
      namespace: 'kube-system',
      uid: `uid-${name}`,
      labels: opts.labels ?? { 'k8s-app': 'kube-dns' },
      ...(opts.deleting ? { deletionTimestamp: new Date() } : {}),
    },
    spec: {
      containers: [
        {
          name: 'coredns',
          ports: [
            { name: 'dns', containerPort: 1053, protocol: 'UDP' },
            { name: 'dns-tcp', containerPort: 1053, protocol: 'TCP' },
          ],
        },
      ],
    },
    status: {
      phase: opts.phase ?? 'Running',
      podIP: ip,
      conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }],
    },
  };
}

function input(over: Partial<DiscoveryInput> = {}): DiscoveryInput {
  return {
    server: { serviceRef: { name: 'kube-dns', namespace: 'kube-system' }, port: 53 },
    namespace: 'kube-system',
    transport: 'udp',
    service: SERVICE,
    slices: [],
    pods: [],
    previous: new Set(),
    ...over,
  };
}

const keys = (d: ReturnType<typeof discoverTargets>): string[] =>
  d.targets.map((t) => t.target.key);

describe('discoverTargets', () => {
  it('probes the ClusterIP and every ready endpoint of the EndpointSlices, on the endpoint port', () => {
    const d = discoverTargets(
      input({
        slices: [
          slice('a', [
            { ip: '10.244.0.7', pod: 'coredns-b' },
            { ip: '10.244.0.5', pod: 'coredns-a', ready: true },
          ]),
          slice('b', [{ ip: '10.244.1.9', pod: 'coredns-c', ready: false }]),
        ],
      }),
    );
    expect(keys(d)).toEqual(['10.96.0.10:53', '10.244.0.5:5353', '10.244.0.7:5353']);
    expect(d.targets[0]!.identity).toEqual({
      key: '10.96.0.10:53',
      address: '10.96.0.10',
      kind: 'Service',
    });
    expect(d.targets[1]).toMatchObject({
      identity: { kind: 'Pod', pod: 'coredns-a', address: '10.244.0.5' },
      podUid: 'uid-coredns-a',
      endpointReady: true,
    });
    expect(d.problems).toEqual([]);
  });

  it('uses the TCP port entries in TCP mode', () => {
    const d = discoverTargets(
      input({ transport: 'tcp', slices: [slice('a', [{ ip: '10.244.0.5', pod: 'p' }])] }),
    );
    expect(keys(d)).toEqual(['10.96.0.10:53', '10.244.0.5:5354']);
  });

  it('keeps probing a pod that turned not-ready, until it terminates or disappears', () => {
    const previous = new Set(['10.244.0.5:5353']);
    const notReady = slice('a', [{ ip: '10.244.0.5', pod: 'coredns-a', ready: false }]);
    expect(keys(discoverTargets(input({ slices: [notReady], previous })))).toContain(
      '10.244.0.5:5353',
    );
    const terminating = slice('a', [
      { ip: '10.244.0.5', pod: 'coredns-a', ready: false, terminating: true },
    ]);
    expect(keys(discoverTargets(input({ slices: [terminating], previous })))).not.toContain(
      '10.244.0.5:5353',
    );
    expect(keys(discoverTargets(input({ slices: [], previous })))).toEqual(['10.96.0.10:53']);
  });

  it('ignores slices of other Services', () => {
    const other = slice('x', [{ ip: '10.244.9.9', pod: 'x' }]);
    other.metadata!.labels = { 'kubernetes.io/service-name': 'other' };
    const d = discoverTargets(input({ slices: [other], pods: [pod('coredns-a', '10.244.0.5')] }));
    // No slice of kube-dns: falls back to the selector.
    expect(keys(d)).toEqual(['10.96.0.10:53', '10.244.0.5:1053']);
  });

  it('without EndpointSlices, uses Running pods matched by the selector, resolving named target ports', () => {
    const d = discoverTargets(
      input({
        pods: [
          pod('coredns-b', '10.244.0.6'),
          pod('coredns-a', '10.244.0.5'),
          pod('coredns-starting', '10.244.0.8', { ready: false }),
          pod('coredns-pending', '10.244.0.9', { phase: 'Pending' }),
          pod('coredns-going', '10.244.0.10', { deleting: true }),
          pod('web', '10.244.0.11', { labels: { app: 'web' } }),
        ],
      }),
    );
    expect(keys(d)).toEqual(['10.96.0.10:53', '10.244.0.5:1053', '10.244.0.6:1053']);
    expect(d.targets.map((t) => t.identity.pod)).toEqual([undefined, 'coredns-a', 'coredns-b']);
  });

  it('reports a missing Service with its namespace (also when serviceRef leaves it to the default), leading with the cause', () => {
    const missing = discoverTargets(
      input({
        server: { serviceRef: { name: 'kube-dnss' }, port: 53 },
        namespace: 'kube-system',
        service: undefined,
      }),
    );
    expect(missing.targets).toEqual([]);
    expect(missing.problems).toEqual([
      {
        reason: 'ServiceNotFound',
        message:
          'Service kube-system/kube-dnss not found: create it, or set spec.server.serviceRef to the cluster DNS Service',
      },
    ]);
  });

  it('reports a missing port with the ports the Service has, and probes the asked port anyway', () => {
    const d = discoverTargets(input({ server: { serviceRef: { name: 'kube-dns' }, port: 5353 } }));
    expect(d.problems).toEqual([
      {
        reason: 'ServicePortNotFound',
        message: expect.stringMatching(
          /^Service kube-system\/kube-dns has no port 5353 \(it has 53\/UDP, 53\/TCP, 9153\/TCP\): set spec\.server\.port to its DNS port/,
        ) as string,
      },
    ]);
    expect(keys(d)).toEqual(['10.96.0.10:5353']);
  });

  it('skips a headless Service address', () => {
    const headless: V1Service = {
      ...SERVICE,
      spec: { ...SERVICE.spec, clusterIP: 'None', clusterIPs: ['None'] },
    };
    expect(
      keys(discoverTargets(input({ service: headless, pods: [pod('a', '10.244.0.5')] }))),
    ).toEqual(['10.244.0.5:1053']);
  });

  it('probes fixed addresses, deduplicated, reporting bad ones', () => {
    const d = discoverTargets(
      input({
        server: { addresses: ['10.0.0.1', 'fd00::a', '10.0.0.1', ':::'], port: 5353 },
        service: undefined,
      }),
    );
    expect(keys(d)).toEqual(['10.0.0.1:5353', '[fd00::a]:5353']);
    expect(d.targets.every((t) => t.identity.kind === 'Address')).toBe(true);
    expect(d.problems.map((p) => p.reason)).toEqual(['InvalidAddress']);
  });
});

describe('pickServicePort', () => {
  it('prefers the protocol of the transport', () => {
    expect(pickServicePort(SERVICE.spec!.ports!, 53, 'udp')?.name).toBe('dns');
    expect(pickServicePort(SERVICE.spec!.ports!, 53, 'tcp')?.name).toBe('dns-tcp');
    expect(pickServicePort(SERVICE.spec!.ports!, 54, 'udp')).toBeUndefined();
  });
});
