import { Registry } from 'prom-client';
import { createMetrics } from '../runtime/metrics';
import { TargetWindow, type Assessment, type TargetIdentity } from './detector';
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
});
