import { Registry } from 'prom-client';
import { createMetrics } from '../runtime/metrics';
import { TargetWindow, type Assessment, type SignalName, type TargetIdentity } from './detector';
import { AdaptiveDeadline, SilenceTolerance } from './deadline';
import { TargetEntry } from './engine';
import { ProbeMetricsRecorder } from './probe-metrics';
import { prepareQuery } from './query';
import { makeTarget, type ProbeResult } from './resolver';
import { probeSettings } from './settings';

const settings = probeSettings({ queries: [{ name: 'a.example' }] });

function entry(address: string): TargetEntry {
  const target = makeTarget(address, 53);
  const identity: TargetIdentity = { key: target.key, address, kind: 'Pod', pod: `p-${address}` };
  return new TargetEntry(
    target,
    identity,
    new TargetWindow(identity, 1, settings.thresholds),
    new AdaptiveDeadline(settings.timeoutMs),
    new SilenceTolerance(settings.timeoutMs),
  );
}

const result = (outcome: ProbeResult['outcome'], rttMs = 0.4): ProbeResult => ({
  outcome,
  rttMs,
  answers: 1,
  tcp: false,
  timerLateMs: 0,
  sentAtNs: 0n,
});

describe('ProbeMetricsRecorder', () => {
  it('counts results, times answers (sub-ms buckets), skips lag-excluded probes', async () => {
    const m = createMetrics(new Registry(), { processMetrics: false });
    const rec = new ProbeMetricsRecorder(m, 'kube-system/dns');
    const a = entry('10.0.0.1');
    const q = prepareQuery('a.example', 'SRV');
    rec.onProbe(a, q, result('success', 0.3), true);
    rec.onProbe(a, q, result('timeout', 100), true);
    rec.onProbe(a, q, result('timeout', 100), false);
    const text = await m.registry.metrics();
    expect(text).toContain(
      'dnsop_probe_total{probe="kube-system/dns",target="10.0.0.1",result="success"} 1',
    );
    expect(text).toContain(
      'dnsop_probe_total{probe="kube-system/dns",target="10.0.0.1",result="timeout"} 1',
    );
    expect(text).toContain(
      'dnsop_probe_duration_seconds_count{probe="kube-system/dns",target="10.0.0.1",qtype="SRV"} 1',
    );
    expect(text).toMatch(
      /dnsop_probe_duration_seconds_bucket\{le="0\.0005",probe="kube-system\/dns",target="10\.0\.0\.1",qtype="SRV"\} 1/,
    );
  });

  it('sets anomaly gauges to 1 and back to 0, and removes the series of gone targets', async () => {
    const m = createMetrics(new Registry(), { processMetrics: false });
    const rec = new ProbeMetricsRecorder(m, 'ns/p');
    const a = entry('10.0.0.1');
    const b = entry('10.0.0.2');
    rec.onProbe(a, settings.queries[0]!, result('success'), true);
    rec.onProbe(b, settings.queries[0]!, result('success'), true);
    const failing: Assessment = {
      state: 'DNSUnavailable',
      reason: 'PodFailure',
      targets: [
        {
          identity: b.identity,
          state: 'Failing',
          consecutiveFailures: 3,
          signals: [{ signal: 'ConsecutiveFailures', value: 3, threshold: 3 }],
        },
      ],
      signals: [],
      message: '',
    };
    rec.onVerdict(failing, true);
    let text = await m.registry.metrics();
    expect(text).toContain(
      'dnsop_probe_anomaly{probe="ns/p",target="10.0.0.2",signal="ConsecutiveFailures"} 1',
    );
    expect(text).toContain('dnsop_dns_unavailable{probe="ns/p"} 1');
    rec.onVerdict({ ...failing, state: 'Healthy', targets: [] }, false);
    text = await m.registry.metrics();
    expect(text).toContain(
      'dnsop_probe_anomaly{probe="ns/p",target="10.0.0.2",signal="ConsecutiveFailures"} 0',
    );
    rec.retainTargets(new Set(['10.0.0.1']));
    text = await m.registry.metrics();
    expect(text).not.toContain('target="10.0.0.2"');
    expect(text).toContain('target="10.0.0.1"');
    rec.clear();
    text = await m.registry.metrics();
    expect(text).not.toContain('probe="ns/p"');
  });

  describe('anomaly episodes (dnsop_probe_anomalies_total)', () => {
    const PROBE = 'ns/p';
    const spikeOn = (e: TargetEntry, signal: SignalName = 'RttSpike'): Assessment => ({
      state: 'Degraded',
      reason: 'TargetsUnhealthy',
      targets: [
        {
          identity: e.identity,
          state: 'Degraded',
          consecutiveFailures: 0,
          signals: [{ signal, value: 9, threshold: 2 }],
        },
      ],
      signals: [],
      message: '',
    });
    const healthy: Assessment = { state: 'Healthy', targets: [], signals: [], message: '' };

    /** The counter's value per "target|signal" of this probe, read from the real registry. */
    async function episodes(m: ReturnType<typeof createMetrics>): Promise<Map<string, number>> {
      const out = new Map<string, number>();
      for (const v of (await m.probeAnomalies.get()).values) {
        if (v.labels['probe'] === PROBE)
          out.set(`${v.labels['target']}|${v.labels['signal']}`, v.value);
      }
      return out;
    }

    function recorder(): {
      m: ReturnType<typeof createMetrics>;
      rec: ProbeMetricsRecorder;
      a: TargetEntry;
    } {
      const m = createMetrics(new Registry(), { processMetrics: false });
      const rec = new ProbeMetricsRecorder(m, PROBE);
      const a = entry('10.0.0.1');
      rec.onProbe(a, settings.queries[0]!, result('success'), true);
      return { m, rec, a };
    }

    it('counts a brief anomaly (one assessment) once, and a second episode again', async () => {
      const { m, rec, a } = recorder();
      rec.onVerdict(healthy, false);
      rec.onVerdict(spikeOn(a), false);
      for (let tick = 0; tick < 5; tick++) rec.onVerdict(healthy, false);
      expect((await episodes(m)).get('10.0.0.1|RttSpike')).toBe(1);
      // Gone before any scrape saw it: the gauge is back at 0, the counter keeps the episode.
      expect(await m.registry.metrics()).toContain(
        `dnsop_probe_anomaly{probe="${PROBE}",target="10.0.0.1",signal="RttSpike"} 0`,
      );
      rec.onVerdict(spikeOn(a), false);
      rec.onVerdict(healthy, false);
      expect((await episodes(m)).get('10.0.0.1|RttSpike')).toBe(2);
    });

    it('counts an anomaly active across many assessments once', async () => {
      const { m, rec, a } = recorder();
      for (let tick = 0; tick < 50; tick++) rec.onVerdict(spikeOn(a), false);
      const text = await m.registry.metrics();
      expect(text).toContain(
        `dnsop_probe_anomalies_total{probe="${PROBE}",target="10.0.0.1",signal="RttSpike"} 1`,
      );
      expect(text).toContain(
        `dnsop_probe_anomaly{probe="${PROBE}",target="10.0.0.1",signal="RttSpike"} 1`,
      );
    });

    it('counts each signal of a target on its own, and probe-wide signals under target "*"', async () => {
      const { m, rec, a } = recorder();
      const both: Assessment = {
        ...spikeOn(a),
        targets: [
          {
            ...spikeOn(a).targets[0]!,
            signals: [
              { signal: 'RttSpike', value: 9, threshold: 2 },
              { signal: 'LowSuccessRatio', value: 0.5, threshold: 0.9 },
            ],
          },
        ],
        signals: [{ signal: 'AllTargetsFailing', value: 1, threshold: 1 }],
      };
      rec.onVerdict(spikeOn(a), false);
      rec.onVerdict(both, false);
      rec.onVerdict(spikeOn(a), false);
      rec.onVerdict(both, false);
      const n = await episodes(m);
      expect(n.get('10.0.0.1|RttSpike')).toBe(1);
      expect(n.get('10.0.0.1|LowSuccessRatio')).toBe(2);
      expect(n.get('*|AllTargetsFailing')).toBe(2);
    });

    it('exists at 0 from a target’s first probe (increase() sees the first episode), and goes with the target and the probe', async () => {
      const { m, rec } = recorder();
      const before = await episodes(m);
      expect(before.get('10.0.0.1|RttSpike')).toBe(0);
      expect(before.get('10.0.0.1|NotReady')).toBe(0);
      expect(before.get('*|AllTargetsFailing')).toBe(0);
      const b = entry('10.0.0.2');
      rec.onProbe(b, settings.queries[0]!, result('success'), true);
      rec.onVerdict(spikeOn(b, 'ConsecutiveFailures'), true);
      rec.retainTargets(new Set(['10.0.0.1']));
      const kept = await episodes(m);
      expect([...kept.keys()].filter((k) => k.startsWith('10.0.0.2|'))).toEqual([]);
      expect(kept.get('10.0.0.1|RttSpike')).toBe(0);
      rec.clear();
      expect(await episodes(m)).toEqual(new Map());
      expect(await m.registry.metrics()).not.toContain(`probe="${PROBE}"`);
    });
  });
});
