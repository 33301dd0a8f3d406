import type { Assessment, TargetAssessment } from './detector';
import {
  buildProbeStatus,
  cannotRunStatus,
  evictionRecords,
  probeVerdict,
  statusSignature,
  trackAnomalies,
  ANOMALY_KEEP_MS,
  type RemediationStatus,
  type StatusInput,
} from './probe-status';

const NOW = new Date('2026-11-22T10:00:00.000Z');
const IDLE: RemediationStatus = {
  remediating: false,
  reason: 'Idle',
  message: 'no pod needs remediation',
};

function t(
  address: string,
  state: TargetAssessment['state'],
  extra: Partial<TargetAssessment> = {},
): TargetAssessment {
  return {
    identity: {
      key: `${address}:53`,
      address,
      kind: address.startsWith('10.96') ? 'Service' : 'Pod',
      ...(address.startsWith('10.96') ? {} : { pod: `coredns-${address.at(-1)}` }),
    },
    state,
    consecutiveFailures: state === 'Failing' ? 4 : 0,
    successRatio: state === 'Healthy' ? 1 : 0.5,
    lastError: 'timeout',
    signals: state === 'Failing' ? [{ signal: 'ConsecutiveFailures', value: 4, threshold: 3 }] : [],
    ...extra,
  };
}

function input(a: Assessment | undefined, over: Partial<StatusInput> = {}): StatusInput {
  return {
    generation: 2,
    previous: undefined,
    assessment: a,
    percentiles: new Map([['10.96.0.10:53', { p50Ms: 0.41234, p99Ms: 1.2 }]]),
    problems: [],
    remediation: IDLE,
    evictions: [],
    now: NOW,
    ...over,
  };
}

const conditions = (s: ReturnType<typeof buildProbeStatus>): Record<string, string> =>
  Object.fromEntries((s.conditions ?? []).map((c) => [c.type, `${c.status}/${c.reason}`]));

describe('buildProbeStatus', () => {
  it('writes DESIGN.md status for a healthy probe', () => {
    const s = buildProbeStatus(
      input({
        state: 'Healthy',
        targets: [t('10.96.0.10', 'Healthy'), t('10.244.1.7', 'Healthy')],
        signals: [],
        message: '2 targets healthy',
      }),
    );
    expect(s.observedGeneration).toBe(2);
    expect(s.targetsHealthy).toBe('2/2');
    expect(s.targets![0]).toEqual({
      address: '10.96.0.10',
      kind: 'Service',
      successRatio: 1,
      p50Ms: 0.412,
      p99Ms: 1.2,
      consecutiveFailures: 0,
      state: 'Healthy',
    });
    expect(s.targets![1]).toEqual({
      address: '10.244.1.7',
      kind: 'Pod',
      pod: 'coredns-7',
      successRatio: 1,
      consecutiveFailures: 0,
      state: 'Healthy',
    });
    expect(conditions(s)).toEqual({
      Ready: 'True/AllTargetsHealthy',
      Reconciling: 'False/AllTargetsHealthy',
      Stalled: 'False/AllTargetsHealthy',
      Healthy: 'True/AllTargetsHealthy',
      Degraded: 'False/AllTargetsHealthy',
      DNSUnavailable: 'False/Available',
      Remediating: 'False/Idle',
    });
    expect(s.anomalies).toEqual([]);
    expect(s.conditions!.every((c) => c.observedGeneration === 2)).toBe(true);
  });

  it('reports a failing pod: Degraded, lastError, anomalies with a stable since', () => {
    const a: Assessment = {
      state: 'Degraded',
      reason: 'PodFailure',
      targets: [t('10.96.0.10', 'Healthy'), t('10.244.1.7', 'Failing')],
      signals: [],
      message: 'pod coredns-7 (10.244.1.7) failing its probes',
    };
    const first = buildProbeStatus(input(a));
    // DNS still answers: Ready (kstatus Current), Degraded with the pod as the cause.
    expect(conditions(first)).toMatchObject({
      Ready: 'True/PodFailure',
      Stalled: 'False/PodFailure',
      Healthy: 'False/PodFailure',
      Degraded: 'True/PodFailure',
      DNSUnavailable: 'False/Available',
    });
    expect(first.targets![1]).toMatchObject({
      state: 'Failing',
      consecutiveFailures: 4,
      lastError: 'timeout',
    });
    expect(first.anomalies).toEqual([
      {
        signal: 'ConsecutiveFailures',
        target: '10.244.1.7',
        since: NOW.toISOString(),
        value: 4,
        threshold: 3,
      },
    ]);
    const later = buildProbeStatus(
      input(a, { previous: first, now: new Date(NOW.getTime() + 5000) }),
    );
    expect(later.anomalies![0]!.since).toBe(NOW.toISOString());
    expect(later.conditions!.find((c) => c.type === 'Degraded')!.lastTransitionTime).toEqual(NOW);
  });

  it('reports DNSUnavailable with its reason, probe-wide anomalies and remediation', () => {
    const a: Assessment = {
      state: 'DNSUnavailable',
      reason: 'UpstreamFailure',
      targets: [t('10.96.0.10', 'Failing'), t('10.244.1.7', 'Failing')],
      signals: [{ signal: 'AllTargetsFailing', value: 2, threshold: 2 }],
      message: 'every target failing (2/2)',
    };
    const rem: RemediationStatus = {
      remediating: false,
      reason: 'UpstreamFailure',
      message: 'not evicting',
      last: { pod: 'coredns-1', time: NOW.toISOString(), reason: 'x' },
    };
    const s = buildProbeStatus(input(a, { remediation: rem }));
    expect(conditions(s)).toEqual({
      Ready: 'False/UpstreamFailure',
      Reconciling: 'False/UpstreamFailure',
      Stalled: 'True/UpstreamFailure',
      Healthy: 'False/UpstreamFailure',
      Degraded: 'False/UpstreamFailure',
      DNSUnavailable: 'True/UpstreamFailure',
      Remediating: 'False/UpstreamFailure',
    });
    expect(s.anomalies![0]).toMatchObject({ signal: 'AllTargetsFailing', target: '*' });
    expect(s.lastRemediation).toEqual(rem.last);
  });

  it('a missing Service: DNSUnavailable and Stalled with the cause', () => {
    const s = buildProbeStatus(
      input(undefined, {
        problems: [
          { reason: 'ServiceNotFound', message: 'Service kube-system/kube-dnss not found: ...' },
        ],
      }),
    );
    expect(conditions(s)).toMatchObject({
      Ready: 'False/ServiceNotFound',
      Stalled: 'True/ServiceNotFound',
      Healthy: 'False/ServiceNotFound',
      DNSUnavailable: 'True/ServiceNotFound',
    });
    expect(s.conditions!.find((c) => c.type === 'Stalled')!.message).toBe(
      'Service kube-system/kube-dnss not found: ...',
    );
    expect(s.targetsHealthy).toBe('0/0');
  });

  it('is Reconciling until the first results', () => {
    const s = buildProbeStatus(input(undefined));
    expect(conditions(s)).toMatchObject({
      Ready: 'False/Starting',
      Reconciling: 'True/Starting',
      Stalled: 'False/Starting',
      Healthy: 'Unknown/Starting',
      DNSUnavailable: 'Unknown/Starting',
    });
  });

  it('keeps the evictions of the last hour, merging the live status with its own', () => {
    const hourAgo = new Date(NOW.getTime() - 3_600_000).toISOString();
    const s = buildProbeStatus(
      input(undefined, {
        previous: {
          evictions: [
            { pod: 'coredns-old', time: hourAgo },
            { pod: 'coredns-a', uid: 'u-a', time: '2026-11-22T09:30:00.000Z' },
          ],
        },
        evictions: [
          { pod: 'coredns-a', uid: 'u-a', atMs: Date.parse('2026-11-22T09:30:00.000Z') },
          { pod: 'coredns-b', atMs: Date.parse('2026-11-22T09:59:00.000Z') },
        ],
      }),
    );
    expect(s.evictions).toEqual([
      { pod: 'coredns-a', uid: 'u-a', time: '2026-11-22T09:30:00.000Z' },
      { pod: 'coredns-b', time: '2026-11-22T09:59:00.000Z' },
    ]);
  });

  it('caps anomalies', () => {
    const many = Array.from({ length: 60 }, (_, i) => t(`10.244.0.${i}`, 'Failing'));
    expect(
      buildProbeStatus(input({ state: 'Degraded', targets: many, signals: [], message: '' }))
        .anomalies,
    ).toHaveLength(50);
  });
});

describe('trackAnomalies', () => {
  const spike = { signal: 'RttSpike', value: 40, threshold: 5 } as const;
  const pod = (signals: TargetAssessment['signals']): Assessment => ({
    state: signals.length > 0 ? 'Degraded' : 'Healthy',
    targets: [t('10.244.1.7', signals.length > 0 ? 'Degraded' : 'Healthy', { signals })],
    signals: [],
    message: '',
  });
  const at = (ms: number): number => NOW.getTime() + ms;

  it('keeps since while tripped, sets until when cleared, drops it after ANOMALY_KEEP_MS', () => {
    let r = trackAnomalies([], pod([spike]), at(0));
    r = trackAnomalies(r, pod([{ ...spike, value: 41 }]), at(100));
    expect(r).toEqual([
      { signal: 'RttSpike', target: '10.244.1.7', sinceMs: at(0), value: 41, threshold: 5 },
    ]);
    r = trackAnomalies(r, pod([]), at(200));
    r = trackAnomalies(r, pod([]), at(300));
    expect(r).toEqual([{ ...r[0], sinceMs: at(0), untilMs: at(200), value: 41 }]);
    // In status: still listed, with when it cleared, while the target is Healthy again.
    const s = buildProbeStatus(input(pod([]), { anomalies: r, now: new Date(at(300)) }));
    expect(s.anomalies).toEqual([
      {
        signal: 'RttSpike',
        target: '10.244.1.7',
        since: new Date(at(0)).toISOString(),
        until: new Date(at(200)).toISOString(),
        value: 41,
        threshold: 5,
      },
    ]);
    expect(trackAnomalies(r, pod([]), at(200 + ANOMALY_KEEP_MS - 1))).toHaveLength(1);
    expect(trackAnomalies(r, pod([]), at(200 + ANOMALY_KEEP_MS))).toEqual([]);
  });

  it('starts anew when a cleared anomaly trips again, and lists tripped ones first', () => {
    let r = trackAnomalies([], pod([spike]), at(0));
    r = trackAnomalies(r, pod([]), at(100));
    r = trackAnomalies(
      r,
      { ...pod([]), signals: [{ signal: 'ServfailSpread', value: 2, threshold: 1.2 }] },
      at(150),
    );
    expect(r.map((x) => [x.signal, x.untilMs])).toEqual([
      ['ServfailSpread', undefined],
      ['RttSpike', at(100)],
    ]);
    r = trackAnomalies(r, pod([spike]), at(200));
    expect(r).toEqual([
      { signal: 'RttSpike', target: '10.244.1.7', sinceMs: at(200), value: 40, threshold: 5 },
      {
        signal: 'ServfailSpread',
        target: '*',
        sinceMs: at(150),
        value: 2,
        threshold: 1.2,
        untilMs: at(200),
      },
    ]);
  });

  it('keeps the since the live status shows for the same episode (a new leader, a spec edit)', () => {
    const r = trackAnomalies([], pod([spike]), at(5000));
    const previous = {
      anomalies: [
        {
          signal: 'RttSpike',
          target: '10.244.1.7',
          since: NOW.toISOString(),
          value: 40,
          threshold: 5,
        },
      ],
    };
    const s = buildProbeStatus(
      input(pod([spike]), { anomalies: r, previous, now: new Date(at(5000)) }),
    );
    expect(s.anomalies![0]!.since).toBe(NOW.toISOString());
    // One that had cleared in status is another episode.
    const cleared = {
      anomalies: [{ ...previous.anomalies[0]!, until: new Date(at(1000)).toISOString() }],
    };
    const s2 = buildProbeStatus(
      input(pod([spike]), { anomalies: r, previous: cleared, now: new Date(at(5000)) }),
    );
    expect(s2.anomalies![0]!.since).toBe(new Date(at(5000)).toISOString());
  });
});

describe('cannotRunStatus', () => {
  it('is Stalled with the reason and keeps the eviction history and lastRemediation', () => {
    const evictions = [{ pod: 'p', time: '2026-11-22T09:59:00.000Z' }];
    const s = cannotRunStatus(
      { evictions, lastRemediation: { pod: 'p', time: 't', reason: 'r' } },
      3,
      'InvalidSpec',
      'spec.interval: bad',
      NOW,
    );
    expect(conditions(s)).toMatchObject({
      Ready: 'False/InvalidSpec',
      Reconciling: 'False/InvalidSpec',
      Stalled: 'True/InvalidSpec',
      Healthy: 'False/InvalidSpec',
      Remediating: 'False/InvalidSpec',
    });
    expect(s.evictions).toEqual(evictions);
    expect(s.lastRemediation).toEqual({ pod: 'p', time: 't', reason: 'r' });
    expect(s.observedGeneration).toBe(3);
  });
});

describe('probeVerdict', () => {
  const failingAll: Assessment = {
    state: 'DNSUnavailable',
    reason: 'UpstreamFailure',
    targets: [t('10.96.0.10', 'Failing'), t('10.244.1.7', 'Failing')],
    signals: [],
    message: 'every target failing (2/2): an upstream or network fault a pod restart cannot fix',
  };

  it('a wrong port leads: the reason is ServicePortNotFound, not UpstreamFailure', () => {
    const v = probeVerdict(failingAll, [
      { reason: 'ServicePortNotFound', message: 'Service kube-system/kube-dns has no port 53' },
    ]);
    expect(v).toMatchObject({
      state: 'DNSUnavailable',
      reason: 'ServicePortNotFound',
      kstatus: 'Stalled',
    });
    expect(v.message).toMatch(
      /^Service kube-system\/kube-dns has no port 53; every target failing/,
    );
  });

  it('a problem stays the verdict while no target has answered yet (no Starting in between)', () => {
    const starting: Assessment = {
      state: 'Unknown',
      targets: [t('10.96.0.10', 'Unknown')],
      signals: [],
      message: 'no probe results yet',
    };
    const problems = [
      { reason: 'ServicePortNotFound', message: 'Service kube-system/kube-dns has no port 53' },
    ];
    expect(probeVerdict(starting, problems)).toEqual(probeVerdict(undefined, problems));
    expect(probeVerdict(starting, problems)).toMatchObject({
      state: 'DNSUnavailable',
      reason: 'ServicePortNotFound',
    });
    expect(probeVerdict(starting, []).reason).toBe('Starting');
  });

  it('without a problem, the assessment speaks', () => {
    expect(probeVerdict(failingAll, [])).toMatchObject({
      reason: 'UpstreamFailure',
      message: failingAll.message,
    });
  });
});

describe('evictionRecords', () => {
  it('reads status.evictions, and lastRemediation from a status written before the history was kept', () => {
    expect(
      evictionRecords({
        lastRemediation: { pod: 'p', time: '2026-11-22T09:59:00.000Z', reason: 'r' },
      }),
    ).toEqual([{ pod: 'p', atMs: Date.parse('2026-11-22T09:59:00.000Z') }]);
    expect(
      evictionRecords({
        evictions: [
          { pod: 'a', time: '2026-11-22T09:10:00.000Z' },
          { pod: 'p', uid: 'u', time: '2026-11-22T09:59:00.000Z' },
        ],
        lastRemediation: { pod: 'p', time: '2026-11-22T09:59:00.000Z', reason: 'r' },
      }).map((e) => e.pod),
    ).toEqual(['a', 'p']);
  });
});

describe('statusSignature', () => {
  it('changes with states, not with numbers or signal values', () => {
    const a = (ratio: number, state: TargetAssessment['state']): Assessment => ({
      state: 'Healthy',
      targets: [t('10.244.1.7', state, { successRatio: ratio })],
      signals: [],
      message: '',
    });
    expect(statusSignature(a(1, 'Healthy'), IDLE, [])).toBe(
      statusSignature(a(0.97, 'Healthy'), IDLE, []),
    );
    expect(statusSignature(a(1, 'Healthy'), IDLE, [])).not.toBe(
      statusSignature(a(1, 'Failing'), IDLE, []),
    );
    expect(statusSignature(a(1, 'Healthy'), IDLE, [])).not.toBe(
      statusSignature(a(1, 'Healthy'), { ...IDLE, remediating: true }, []),
    );
  });
});
