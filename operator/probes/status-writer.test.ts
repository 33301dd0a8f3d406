import type { DNSProbe, DNSProbeStatus } from '../api/types';
import type { Assessment, Signal, TargetAssessment, TargetState } from './detector';
import { ANOMALY_KEEP_MS, type RemediationStatus } from './probe-status';
import { STATUS_BURST, STATUS_PERIOD_MS, StatusWriter } from './status-writer';

const IDLE: RemediationStatus = { remediating: false, reason: 'Idle', message: 'idle' };
const START = Date.parse('2026-11-22T10:00:00.000Z');
const VICTIM = '10.244.1.8';
const SPIKE: Signal = { signal: 'RttSpike', value: 40.7, threshold: 5.6 };
const FAILURES: Signal = { signal: 'ConsecutiveFailures', value: 3, threshold: 3 };

function target(address: string, state: TargetState, signals: Signal[] = []): TargetAssessment {
  return {
    identity: { key: `${address}:53`, address, kind: 'Pod', pod: `coredns-${address.at(-1)}` },
    state,
    consecutiveFailures: state === 'Failing' ? 3 : 0,
    successRatio: 1,
    signals,
  };
}

/** Three pods, the victim in `state` with `signals`. */
function assessment(state: TargetState, signals: Signal[] = []): Assessment {
  const healthy = state === 'Healthy';
  return {
    state: healthy ? 'Healthy' : 'Degraded',
    ...(healthy ? {} : { reason: state === 'Failing' ? 'PodFailure' : 'TargetsUnhealthy' }),
    targets: [
      target('10.244.1.7', 'Healthy'),
      target(VICTIM, state, signals),
      target('10.244.1.9', 'Healthy'),
    ],
    signals: [],
    message: healthy ? 'all targets healthy' : `pod ${VICTIM} ${state}`,
  };
}

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A writer on a fake clock over an in-memory DNSProbe; `hold` keeps writes in flight. */
function harness(): {
  writer: StatusWriter;
  written: DNSProbeStatus[];
  run: (a: Assessment, ms: number) => Promise<void>;
  at: () => number;
  hold: (on: boolean) => void;
} {
  let clock = 0;
  let live: DNSProbe = {
    apiVersion: 'dnsop.io/v1alpha1',
    kind: 'DNSProbe',
    metadata: { name: 'cluster-dns', namespace: 'kube-system', generation: 1 },
    spec: {} as DNSProbe['spec'],
  };
  const written: DNSProbeStatus[] = [];
  let held: (() => void)[] | undefined;
  const writer = new StatusWriter({
    generation: 1,
    now: () => START + clock,
    monotonic: () => clock,
    onError: (err) => {
      throw err;
    },
    writeStatus: async (compute) => {
      if (held !== undefined) await new Promise<void>((r) => held!.push(r));
      const status = compute(live);
      if (status !== undefined) {
        live = { ...live, status };
        written.push(status);
      }
    },
  });
  return {
    writer,
    written,
    at: () => START + clock,
    // Offers `a` every 100 ms (the engine's assessment rate) for `ms`.
    run: async (a, ms) => {
      for (const end = clock + ms; clock < end; clock += 100) {
        writer.offer(a, IDLE, [], () => ({ percentiles: new Map(), evictions: [] }));
        await flush();
      }
    },
    hold: (on) => {
      const release = held;
      held = on ? [] : undefined;
      for (const r of release ?? []) r();
    },
  };
}

const spikesIn = (s: DNSProbeStatus): boolean =>
  s.anomalies?.some((x) => x.signal === 'RttSpike' && x.target === VICTIM) === true;

describe('StatusWriter', () => {
  it('a brief anomaly reaches status when the change budget is spent (the victim flapped first)', async () => {
    const h = harness();
    await h.run(assessment('Healthy'), 1000);
    // A delay injected on the victim: its first answers time out (Failing), the late ones
    // withdraw it, twice; the state-change budget is spent.
    for (let i = 0; i < STATUS_BURST; i++) {
      await h.run(assessment('Failing', [FAILURES]), 100);
      await h.run(assessment('Healthy'), 100);
    }
    const before = h.written.length;
    // Then its RTT spikes for 800 ms, and the window absorbs the delay.
    const spikeAt = h.at();
    await h.run(assessment('Degraded', [SPIKE]), 800);
    const clearedAt = h.at();
    await h.run(assessment('Healthy'), STATUS_PERIOD_MS + 1000);
    expect(h.written.slice(before).some(spikesIn)).toBe(true);
    // What a user reading status now sees: the victim Healthy, and the spike, since and until.
    const now = h.written.at(-1)!;
    expect(now.targets?.find((t) => t.address === VICTIM)?.state).toBe('Healthy');
    expect(now.anomalies?.find((x) => x.signal === 'RttSpike')).toEqual({
      signal: 'RttSpike',
      target: VICTIM,
      since: new Date(spikeAt).toISOString(),
      until: new Date(clearedAt).toISOString(),
      value: SPIKE.value,
      threshold: SPIKE.threshold,
    });
  });

  it('a brief anomaly reaches status when a write was in flight for all of it', async () => {
    const h = harness();
    await h.run(assessment('Healthy'), 1000);
    h.hold(true);
    await h.run(assessment('Failing', [FAILURES]), 100); // written once the API answers
    await h.run(assessment('Healthy'), 100);
    await h.run(assessment('Degraded', [SPIKE]), 800);
    await h.run(assessment('Healthy'), 100);
    h.hold(false);
    await h.run(assessment('Healthy'), STATUS_PERIOD_MS + 1000);
    expect(h.written.some(spikesIn)).toBe(true);
  });

  it('keeps a cleared anomaly in status for ANOMALY_KEEP_MS, then drops it', async () => {
    const h = harness();
    await h.run(assessment('Healthy'), 1000);
    await h.run(assessment('Degraded', [SPIKE]), 500);
    await h.run(assessment('Healthy'), ANOMALY_KEEP_MS - 1000);
    expect(spikesIn(h.written.at(-1)!)).toBe(true);
    await h.run(assessment('Healthy'), 2 * STATUS_PERIOD_MS);
    expect(h.written.at(-1)!.anomalies).toEqual([]);
  });
});
