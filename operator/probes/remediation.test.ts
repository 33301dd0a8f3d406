import { KubeConfig } from '@kubernetes/client-node';
import fc from 'fast-check';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  assess,
  TargetWindow,
  type Assessment,
  type TargetAssessment,
  type Thresholds,
} from './detector';
import type { ProbeOutcome } from './query';
import {
  decideRemediation,
  decisionKey,
  KubeEvictionApi,
  podFacts,
  pruneHistory,
  type Decision,
  type PodFacts,
  type RemediationHistory,
  type RemediationInput,
} from './remediation';
import type { RemediationSettings } from './settings';

const TH: Thresholds = {
  consecutiveFailures: 3,
  rttSpikeSigma: 3,
  rttWindowMs: 60_000,
  nxdomainRatio: 0.85,
  nxdomainWindowMs: 5_000,
  servfailEntropyBits: 1.2,
  recoverySuccesses: 3,
};
const EVICT: RemediationSettings = {
  mode: 'Evict',
  cooldownMs: 300_000,
  maxEvictionsPerHour: 3,
  minReadyPods: 1,
};
const NOW = 10_000_000;

function target(
  pod: string,
  state: TargetAssessment['state'],
  ready: boolean | undefined,
  failures = 0,
): TargetAssessment {
  return {
    identity: { key: `${pod}:53`, address: `10.244.0.${pod.length}`, kind: 'Pod', pod },
    state,
    consecutiveFailures: failures,
    ...(ready !== undefined ? { ready } : {}),
    ...(state === 'Failing' ? { lastError: 'timeout' } : {}),
    signals:
      state === 'Failing' ? [{ signal: 'ConsecutiveFailures', value: failures, threshold: 3 }] : [],
  };
}

function assessment(targets: TargetAssessment[], over: Partial<Assessment> = {}): Assessment {
  return {
    state: 'DNSUnavailable',
    reason: 'PodFailure',
    targets,
    signals: [],
    message: 'pod failing',
    ...over,
  };
}

function rsPod(name: string, over: Partial<PodFacts> = {}): PodFacts {
  return {
    name,
    namespace: 'kube-system',
    uid: `uid-${name}`,
    controller: { kind: 'ReplicaSet', name: 'coredns-5d78c' },
    deleting: false,
    ...over,
  };
}

const HEALTHY_PODS = [target('coredns-b', 'Healthy', true), target('coredns-c', 'Healthy', true)];

function decide(over: Partial<RemediationInput> & { targets?: TargetAssessment[] } = {}): Decision {
  const targets = over.targets ?? [target('coredns-a', 'Failing', false, 5), ...HEALTHY_PODS];
  const pods = new Map(targets.map((t) => [t.identity.pod!, rsPod(t.identity.pod!)]));
  return decideRemediation({
    settings: EVICT,
    assessment: assessment(targets),
    pods,
    history: { evictions: [] },
    nowMs: NOW,
    ...over,
  });
}

describe('decideRemediation', () => {
  it('evicts a pod failing its own probes and not ready, with the evidence', () => {
    const d = decide();
    expect(d.kind).toBe('evict');
    if (d.kind !== 'evict') return;
    expect(d.pod.name).toBe('coredns-a');
    expect(d.reason).toBe(
      '5 consecutive probe failures (threshold reached, last error timeout) and readiness endpoint not ready',
    );
    expect(d.evidence).toMatchObject({
      pod: 'coredns-a',
      consecutiveFailures: 5,
      ready: false,
      lastError: 'timeout',
      probeState: 'DNSUnavailable',
      probeReason: 'PodFailure',
    });
    expect(d.evidence.signals.map((s) => s.signal)).toContain('ConsecutiveFailures');
  });

  it.each([
    ['failing but ready', target('coredns-a', 'Failing', true, 5)],
    ['failing, readiness unknown', target('coredns-a', 'Failing', undefined, 5)],
    ['not ready but answering', target('coredns-a', 'Degraded', false, 0)],
  ])('does nothing for a pod %s', (_label, t) => {
    expect(decide({ targets: [t, ...HEALTHY_PODS] })).toEqual({ kind: 'none' });
  });

  it('waits until every other pod has answered since the candidate began failing (an upstream fault shows on one pod first)', () => {
    const since = { failingSinceMs: 500 };
    const candidate = { ...target('coredns-a', 'Failing', false, 3), ...since };
    const stale = [
      { ...target('coredns-b', 'Healthy', true), lastSuccessAtMs: 400 },
      { ...target('coredns-c', 'Healthy', true), lastSuccessAtMs: 600 },
    ];
    expect(decide({ targets: [candidate, ...stale] })).toEqual({ kind: 'none' });
    const fresh = stale.map((t) => ({ ...t, lastSuccessAtMs: 601 }));
    expect(decide({ targets: [candidate, ...fresh] }).kind).toBe('evict');
    // An answer at the very moment the candidate began failing is not one since.
    const atOnset = [fresh[0]!, { ...fresh[1]!, lastSuccessAtMs: 500 }];
    expect(decide({ targets: [candidate, ...atOnset] })).toEqual({ kind: 'none' });
    // Only pods are waited for: not a pod that never answered, not the Service's address.
    const neverAnswered = { ...target('coredns-d', 'Unknown', undefined) };
    const service = {
      ...target('kube-dns', 'Healthy', undefined),
      identity: { key: 'svc:53', address: '10.96.0.10', kind: 'Service' as const },
      lastSuccessAtMs: 400,
    };
    expect(decide({ targets: [candidate, ...fresh, neverAnswered, service] }).kind).toBe('evict');
    // Another pod already Failing is evidence too: one at a time, the first goes.
    const twoHung = [
      candidate,
      { ...target('coredns-b', 'Failing', false, 3), lastSuccessAtMs: 400, failingSinceMs: 450 },
      { ...target('coredns-c', 'Healthy', true), lastSuccessAtMs: 601 },
    ];
    expect(decide({ targets: twoHung }).kind).toBe('evict');
  });

  it('waits until a hang is older than the probe timeout (a late answer could still withdraw it)', () => {
    const settle = { hungMs: 100, answeringMs: 300 };
    const young = { ...target('coredns-a', 'Failing', false, 3), failingForMs: 60 };
    expect(decide({ targets: [young, ...HEALTHY_PODS], settle })).toEqual({ kind: 'none' });
    const settled = { ...young, failingForMs: 100 };
    expect(decide({ targets: [settled, ...HEALTHY_PODS], settle }).kind).toBe('evict');
  });

  it('waits a few intervals for a pod answering with errors (an upstream fault may reach the others)', () => {
    const settle = { hungMs: 100, answeringMs: 300 };
    const servfail = {
      ...target('coredns-a', 'Failing', false, 3),
      lastError: 'servfail',
      failingForMs: 150,
    };
    expect(decide({ targets: [servfail, ...HEALTHY_PODS], settle })).toEqual({ kind: 'none' });
    expect(
      decide({ targets: [{ ...servfail, failingForMs: 300 }, ...HEALTHY_PODS], settle }).kind,
    ).toBe('evict');
  });

  it('DryRun decides the same and reports', () => {
    const d = decide({ settings: { ...EVICT, mode: 'DryRun' } });
    expect(d.kind).toBe('dryRun');
  });

  it('Off refuses', () => {
    expect(decide({ settings: { ...EVICT, mode: 'Off' } })).toMatchObject({
      kind: 'refuse',
      reason: 'RemediationOff',
      message: 'remediation mode is Off',
    });
  });

  it('never evicts for an upstream-wide failure', () => {
    const targets = [
      target('coredns-a', 'Failing', false, 5),
      target('coredns-b', 'Failing', false, 5),
    ];
    const d = decideRemediation({
      settings: EVICT,
      assessment: assessment(targets, {
        reason: 'UpstreamFailure',
        message: 'every target failing',
      }),
      pods: new Map(targets.map((t) => [t.identity.pod!, rsPod(t.identity.pod!)])),
      history: { evictions: [] },
      nowMs: NOW,
    });
    expect(d).toMatchObject({
      kind: 'refuse',
      reason: 'UpstreamFailure',
      message: 'every target failing; not evicting',
    });
  });

  it('evicts one at a time', () => {
    const history: RemediationHistory = {
      evictions: [],
      inProgress: { pod: 'coredns-x', atMs: NOW - 1000 },
    };
    expect(decide({ history })).toMatchObject({
      kind: 'refuse',
      reason: 'EvictionInProgress',
      message: 'eviction of coredns-x is still in progress; one at a time',
    });
  });

  it('only evicts ReplicaSet-controlled pods, moving on to an eligible candidate', () => {
    const targets = [
      target('coredns-a', 'Failing', false, 9),
      target('coredns-b', 'Failing', false, 4),
      target('coredns-c', 'Healthy', true),
    ];
    const pods = new Map<string, PodFacts>([
      ['coredns-a', rsPod('coredns-a', { controller: { kind: 'DaemonSet', name: 'ds' } })],
      ['coredns-b', rsPod('coredns-b')],
      ['coredns-c', rsPod('coredns-c')],
    ]);
    const d = decide({ targets, pods });
    expect(d).toMatchObject({ kind: 'evict', pod: { name: 'coredns-b' } });
    const onlyBad = decide({ targets: [targets[0]!, targets[2]!], pods });
    expect(onlyBad).toMatchObject({
      kind: 'refuse',
      reason: 'NotControlledByReplicaSet',
      pod: 'coredns-a',
      message: 'pod coredns-a is controlled by DaemonSet ds; only ReplicaSet pods are evicted',
    });
    const bare = new Map(pods);
    bare.set('coredns-a', rsPod('coredns-a', { controller: undefined }));
    expect(decide({ targets: [targets[0]!, targets[2]!], pods: bare })).toMatchObject({
      reason: 'NotControlledByReplicaSet',
      message: expect.stringMatching(/not controlled by anything/),
    });
  });

  it('refuses a pod already being deleted or unknown to the cache', () => {
    const t = [target('coredns-a', 'Failing', false, 5), ...HEALTHY_PODS];
    expect(
      decide({
        targets: t,
        pods: new Map([['coredns-a', rsPod('coredns-a', { deleting: true })]]),
      }),
    ).toMatchObject({
      reason: 'PodBeingDeleted',
      message: 'pod coredns-a is already being deleted',
    });
    expect(decide({ targets: t, pods: new Map() })).toMatchObject({
      reason: 'PodNotFound',
      message: 'pod coredns-a is not in the cache',
    });
  });

  it('holds the cooldown and the hourly cap', () => {
    const recent = { evictions: [{ pod: 'old', atMs: NOW - 60_000 }] };
    expect(decide({ history: recent })).toMatchObject({
      kind: 'refuse',
      reason: 'Cooldown',
      message: expect.stringMatching(/240s left/),
    });
    const three = {
      evictions: [1, 2, 3].map((i) => ({ pod: `p${i}`, atMs: NOW - 3_000_000 + i * 400_000 })),
    };
    expect(decide({ history: three })).toMatchObject({
      kind: 'refuse',
      reason: 'HourlyCapReached',
      message: '3 evictions in the last hour reach maxEvictionsPerHour 3',
    });
    // The cooldown ends exactly cooldownMs after the last eviction; an eviction exactly an hour
    // old no longer counts.
    expect(decide({ history: { evictions: [{ pod: 'old', atMs: NOW - 300_000 }] } }).kind).toBe(
      'evict',
    );
    const hourAgo = { evictions: [NOW - 3_600_000, NOW - 2_000_000, NOW - 1_000_000] };
    expect(
      decide({ history: { evictions: hourAgo.evictions.map((atMs) => ({ pod: 'p', atMs })) } })
        .kind,
    ).toBe('evict');
    const old = { evictions: [1, 2, 3].map((i) => ({ pod: `p${i}`, atMs: NOW - 4_000_000 + i })) };
    expect(decide({ history: old }).kind).toBe('evict');
    expect(decide({ settings: { ...EVICT, maxEvictionsPerHour: 0 } })).toMatchObject({
      reason: 'HourlyCapReached',
    });
  });

  it('keeps minReadyPods ready pods', () => {
    expect(decide({ settings: { ...EVICT, minReadyPods: 2 } }).kind).toBe('evict');
    expect(decide({ settings: { ...EVICT, minReadyPods: 3 } })).toMatchObject({
      reason: 'MinReadyPods',
      message: 'only 2 other ready CoreDNS pods would remain (minReadyPods 3)',
    });
    // A pod still ready but failing its probes is no pod to rely on.
    const readyButFailing = [
      target('coredns-a', 'Failing', false, 5),
      target('coredns-b', 'Failing', true, 1),
      target('coredns-c', 'Healthy', true),
    ];
    expect(
      decide({ targets: readyButFailing, settings: { ...EVICT, minReadyPods: 2 } }),
    ).toMatchObject({ reason: 'MinReadyPods' });
    const oneReady = [
      target('coredns-a', 'Failing', false, 5),
      target('coredns-b', 'Healthy', true),
      target('coredns-c', 'Healthy', undefined),
    ];
    expect(decide({ targets: oneReady, settings: { ...EVICT, minReadyPods: 2 } })).toMatchObject({
      reason: 'MinReadyPods',
    });
  });

  it('picks the pod with the most consecutive failures', () => {
    const targets = [
      target('coredns-a', 'Failing', false, 3),
      target('coredns-b', 'Failing', false, 7),
      target('coredns-c', 'Healthy', true),
    ];
    expect(decide({ targets })).toMatchObject({ kind: 'evict', pod: { name: 'coredns-b' } });
  });

  it('never evicts what it must not (property)', () => {
    const state = fc.constantFrom<TargetAssessment['state']>(
      'Healthy',
      'Degraded',
      'Failing',
      'Unknown',
    );
    const ready = fc.constantFrom<boolean | undefined>(true, false, undefined);
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            state,
            ready,
            fc.nat({ max: 9 }),
            fc.constantFrom('ReplicaSet', 'DaemonSet', 'StatefulSet'),
          ),
          { minLength: 1, maxLength: 5 },
        ),
        fc.constantFrom<RemediationSettings['mode']>('Off', 'DryRun', 'Evict'),
        fc.boolean(),
        fc.nat({ max: 4 }),
        (spec, mode, upstream, minReady) => {
          const targets = spec.map(([s, r, f], i) => target(`coredns-${i}`, s, r, f));
          const pods = new Map(
            spec.map(([, , , kind], i) => [
              `coredns-${i}`,
              rsPod(`coredns-${i}`, { controller: { kind, name: 'x' } }),
            ]),
          );
          const d = decideRemediation({
            settings: { ...EVICT, mode, minReadyPods: minReady },
            assessment: assessment(targets, upstream ? { reason: 'UpstreamFailure' } : {}),
            pods,
            history: { evictions: [] },
            nowMs: NOW,
          });
          if (d.kind !== 'evict') return;
          expect(mode).toBe('Evict');
          expect(upstream).toBe(false);
          const t = targets.find((x) => x.identity.pod === d.pod.name)!;
          expect(t.state).toBe('Failing');
          expect(t.ready).toBe(false);
          expect(d.pod.controller?.kind).toBe('ReplicaSet');
          const readyOthers = targets.filter(
            (x) => x !== t && x.ready === true && x.state !== 'Failing',
          ).length;
          expect(readyOthers).toBeGreaterThanOrEqual(minReady);
        },
      ),
    );
  });
});

describe('with the detector: SERVFAIL patterns', () => {
  function windows(servfailing: number[]): TargetWindow[] {
    const ws = [0, 1, 2].map(
      (i) =>
        new TargetWindow(
          { key: `p${i}:53`, address: `10.244.0.${i}`, kind: 'Pod', pod: `coredns-${i}` },
          1,
          TH,
        ),
    );
    ws.forEach((w, i) => {
      for (let k = 0; k < 20; k++) {
        const outcome: ProbeOutcome = servfailing.includes(i) ? 'servfail' : 'success';
        w.observe(0, outcome, 0.5, k * 100, { rttUsable: true, expectNx: false });
      }
    });
    return ws;
  }
  const pods = new Map([0, 1, 2].map((i) => [`coredns-${i}`, rsPod(`coredns-${i}`)]));
  const readiness = new Map([0, 1, 2].map((i) => [`p${i}:53`, false]));

  it('all servers SERVFAIL -> UpstreamFailure, no eviction', () => {
    const a = assess({
      targets: windows([0, 1, 2]).map((w) => w.snapshot(2000)),
      readiness,
      thresholds: TH,
    });
    expect(a.reason).toBe('UpstreamFailure');
    expect(
      decideRemediation({
        settings: EVICT,
        assessment: a,
        pods,
        history: { evictions: [] },
        nowMs: NOW,
      }),
    ).toMatchObject({
      kind: 'refuse',
      reason: 'UpstreamFailure',
    });
  });

  it('one server SERVFAIL -> PodFailure, that pod evicted', () => {
    const ready = new Map([
      ['p0:53', false],
      ['p1:53', true],
      ['p2:53', true],
    ]);
    const a = assess({
      targets: windows([0]).map((w) => w.snapshot(2000)),
      readiness: ready,
      thresholds: TH,
    });
    expect(a.reason).toBe('PodFailure');
    expect(
      decideRemediation({
        settings: EVICT,
        assessment: a,
        pods,
        history: { evictions: [] },
        nowMs: NOW,
      }),
    ).toMatchObject({
      kind: 'evict',
      pod: { name: 'coredns-0' },
    });
  });
});

describe('history and keys', () => {
  it('prunes old evictions and finishes an eviction once its pod is gone or replaced', () => {
    const h: RemediationHistory = {
      evictions: [
        { pod: 'a', atMs: NOW - 4_000_000 },
        { pod: 'b', uid: 'u1', atMs: NOW - 1000 },
      ],
      inProgress: { pod: 'b', uid: 'u1', atMs: NOW - 1000 },
    };
    expect(pruneHistory(h, new Map([['b', rsPod('b', { uid: 'u1' })]]), NOW)).toEqual({
      evictions: [h.evictions[1]],
      inProgress: h.inProgress,
    });
    expect(
      pruneHistory(h, new Map([['b', rsPod('b', { uid: 'u2' })]]), NOW).inProgress,
    ).toBeUndefined();
    expect(pruneHistory(h, new Map(), NOW).inProgress).toBeUndefined();
    expect(
      pruneHistory(h, new Map([['b', rsPod('b', { uid: 'u1' })]]), NOW + 600_000).inProgress,
    ).toBeUndefined();
    // Given up after maxInProgressMs (5 minutes), exactly.
    const live = new Map([['b', rsPod('b', { uid: 'u1' })]]);
    expect(pruneHistory(h, live, NOW - 1000 + 300_000).inProgress).toBeUndefined();
    expect(pruneHistory(h, live, NOW - 1000 + 299_999).inProgress).toEqual(h.inProgress);
    // An eviction exactly an hour old is dropped.
    expect(pruneHistory(h, live, NOW - 1000 + 3_600_000).evictions).toEqual([]);
    // Recorded without a UID: any pod of that name is still the one being evicted.
    const noUid: RemediationHistory = { evictions: [], inProgress: { pod: 'b', atMs: NOW } };
    expect(pruneHistory(noUid, live, NOW).inProgress).toEqual(noUid.inProgress);
  });

  it('keys decisions so repeats can be told from changes', () => {
    expect(decisionKey(decide())).toBe('evict/coredns-a/uid-coredns-a');
    expect(decisionKey(decide({ settings: { ...EVICT, mode: 'Off' } }))).toBe(
      'refuse/RemediationOff/coredns-a',
    );
    expect(decisionKey({ kind: 'none' })).toBe('none');
  });

  it('reads pod facts from a Pod', () => {
    expect(
      podFacts({
        metadata: {
          name: 'coredns-a',
          namespace: 'kube-system',
          uid: 'u',
          ownerReferences: [
            { apiVersion: 'v1', kind: 'Node', name: 'n', uid: 'x' },
            {
              apiVersion: 'apps/v1',
              kind: 'ReplicaSet',
              name: 'coredns-5d78c',
              uid: 'y',
              controller: true,
            },
          ],
        },
      }),
    ).toEqual({
      name: 'coredns-a',
      namespace: 'kube-system',
      uid: 'u',
      controller: { kind: 'ReplicaSet', name: 'coredns-5d78c' },
      deleting: false,
    });
    expect(
      podFacts({
        metadata: {
          name: 'coredns-a',
          namespace: 'kube-system',
          deletionTimestamp: new Date(NOW),
        },
      }),
    ).toEqual({ name: 'coredns-a', namespace: 'kube-system', deleting: true });
  });
});

describe('KubeEvictionApi (an API server faked on loopback)', () => {
  interface Seen {
    readonly method: string;
    readonly url: string;
    readonly body: unknown;
  }
  let server: http.Server;
  let seen: Seen[];
  let answer: { status: number; body: unknown };

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let text = '';
      req.on('data', (chunk: Buffer) => (text += chunk.toString()));
      req.on('end', () => {
        seen.push({
          method: req.method ?? '',
          url: req.url ?? '',
          body: JSON.parse(text || 'null'),
        });
        res.writeHead(answer.status, { 'content-type': 'application/json' });
        res.end(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    seen = [];
    answer = { status: 201, body: { kind: 'Eviction', apiVersion: 'policy/v1' } };
  });

  const api = (): KubeEvictionApi => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [
        {
          name: 'c',
          server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
          skipTLSVerify: true,
        },
      ],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    return new KubeEvictionApi(kc);
  };
  const status = (code: number, message: string): { status: number; body: unknown } => ({
    status: code,
    body: { kind: 'Status', apiVersion: 'v1', status: 'Failure', message, code },
  });

  it('asks the Eviction API for exactly that pod: a namesake with another UID is not evicted', async () => {
    await expect(api().evict(rsPod('coredns-a'))).resolves.toEqual({ kind: 'evicted' });
    expect(seen).toEqual([
      {
        method: 'POST',
        url: '/api/v1/namespaces/kube-system/pods/coredns-a/eviction',
        body: {
          apiVersion: 'policy/v1',
          kind: 'Eviction',
          metadata: { name: 'coredns-a', namespace: 'kube-system' },
          deleteOptions: { preconditions: { uid: 'uid-coredns-a' } },
        },
      },
    ]);
    const { uid: _uid, ...noUid } = rsPod('coredns-b');
    await api().evict(noUid);
    expect(seen[1]?.body).toEqual({
      apiVersion: 'policy/v1',
      kind: 'Eviction',
      metadata: { name: 'coredns-b', namespace: 'kube-system' },
    });
  });

  it("reports a PodDisruptionBudget refusal (429) in the API server's words", async () => {
    const words = "Cannot evict pod as it would violate the pod's disruption budget.";
    answer = status(429, words);
    await expect(api().evict(rsPod('coredns-a'))).resolves.toEqual({
      kind: 'blocked',
      message: words,
    });
  });

  it('a 429 whose body is not a Status (e.g. from a proxy) is still blocked, with the error', async () => {
    answer = { status: 429, body: 'Too Many Requests' };
    const result = await api().evict(rsPod('coredns-a'));
    expect(result).toMatchObject({ kind: 'blocked', message: expect.stringContaining('429') });
  });

  it.each([
    [404, 'pods "coredns-a" not found', 'gone'],
    [409, 'Precondition failed: UID in precondition: uid-coredns-a, UID in object meta: x', 'gone'],
    [403, 'pods "coredns-a" is forbidden: cannot create resource "pods/eviction"', 'failed'],
    [500, 'etcdserver: request timed out', 'failed'],
  ])('%i: %s -> %s, saying why', async (code, words, kind) => {
    answer = status(code, words);
    const result = await api().evict(rsPod('coredns-a'));
    expect(result.kind).toBe(kind);
    expect(result).toHaveProperty('message', expect.stringContaining(String(code)));
  });
});
