import type { Assessment, TargetAssessment } from './detector';
import {
  buildProbeStatus,
  invalidSpecStatus,
  statusSignature,
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
      Healthy: 'True/AllTargetsHealthy',
      Degraded: 'False/Healthy',
      DNSUnavailable: 'False/Available',
      Remediating: 'False/Idle',
    });
    expect(s.anomalies).toEqual([]);
    expect(s.conditions!.every((c) => c.observedGeneration === 2)).toBe(true);
  });

  it('reports a failing pod: Degraded, lastError, anomalies with a stable since', () => {
    const a: Assessment = {
      state: 'Degraded',
      targets: [t('10.96.0.10', 'Healthy'), t('10.244.1.7', 'Failing')],
      signals: [],
      message: '10.244.1.7 Failing',
    };
    const first = buildProbeStatus(input(a));
    expect(conditions(first)).toMatchObject({
      Healthy: 'False/Degraded',
      Degraded: 'True/TargetsUnhealthy',
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
      Healthy: 'False/UpstreamFailure',
      Degraded: 'False/UpstreamFailure',
      DNSUnavailable: 'True/UpstreamFailure',
      Remediating: 'False/UpstreamFailure',
    });
    expect(s.anomalies![0]).toMatchObject({ signal: 'AllTargetsFailing', target: '*' });
    expect(s.lastRemediation).toEqual(rem.last);
  });

  it('says why there are no results', () => {
    const s = buildProbeStatus(
      input(undefined, {
        problems: [
          { reason: 'ServiceNotFound', message: 'Service kube-system/kube-dns not found' },
        ],
      }),
    );
    expect(conditions(s)).toMatchObject({
      Healthy: 'False/ServiceNotFound',
      DNSUnavailable: 'Unknown/ServiceNotFound',
    });
    expect(s.targetsHealthy).toBe('0/0');
  });

  it('caps anomalies', () => {
    const many = Array.from({ length: 60 }, (_, i) => t(`10.244.0.${i}`, 'Failing'));
    expect(
      buildProbeStatus(input({ state: 'Degraded', targets: many, signals: [], message: '' }))
        .anomalies,
    ).toHaveLength(50);
  });
});

describe('invalidSpecStatus', () => {
  it('keeps lastRemediation and says InvalidSpec', () => {
    const s = invalidSpecStatus(
      { lastRemediation: { pod: 'p', time: 't', reason: 'r' } },
      3,
      'spec.interval: bad',
      NOW,
    );
    expect(conditions(s)).toMatchObject({
      Healthy: 'False/InvalidSpec',
      Remediating: 'False/InvalidSpec',
    });
    expect(s.lastRemediation).toEqual({ pod: 'p', time: 't', reason: 'r' });
    expect(s.observedGeneration).toBe(3);
  });
});

describe('statusSignature', () => {
  it('changes with states and signals, not with numbers', () => {
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
