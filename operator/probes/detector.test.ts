import fc from 'fast-check';
import {
  assess,
  rttSpike,
  TargetWindow,
  type Assessment,
  type TargetIdentity,
  type TargetKind,
  type Thresholds,
} from './detector';
import { PROBE_OUTCOMES, type ProbeOutcome } from './query';

const TH: Thresholds = {
  consecutiveFailures: 3,
  rttSpikeSigma: 3,
  rttWindowMs: 60_000,
  nxdomainRatio: 0.85,
  nxdomainWindowMs: 5_000,
  servfailEntropyBits: 1.2,
};

const OK = { rttUsable: true, expectNx: false };

function id(address: string, kind: TargetKind = 'Pod'): TargetIdentity {
  return {
    key: `${address}:53`,
    address,
    kind,
    ...(kind === 'Pod' ? { pod: `coredns-${address.split('.').at(-1)}` } : {}),
  };
}

/** A cluster: the Service address plus pods, each with its own window. */
function cluster(pods: number, queries = 1): TargetWindow[] {
  return [
    new TargetWindow(id('10.96.0.10', 'Service'), queries, TH),
    ...Array.from(
      { length: pods },
      (_, i) => new TargetWindow(id(`10.244.0.${i + 1}`), queries, TH),
    ),
  ];
}

/** Feeds `count` results every `stepMs` starting at `fromMs`; returns the time after the last. */
function feed(
  w: TargetWindow,
  fromMs: number,
  count: number,
  outcome: ProbeOutcome | ((i: number) => ProbeOutcome),
  rtt: number | ((i: number) => number) = 0.5,
  stepMs = 100,
  query: number | ((i: number) => number) = 0,
): number {
  let t = fromMs;
  for (let i = 0; i < count; i++, t += stepMs) {
    w.observe(
      typeof query === 'number' ? query : query(i),
      typeof outcome === 'string' ? outcome : outcome(i),
      typeof rtt === 'number' ? rtt : rtt(i),
      t,
      OK,
    );
  }
  return t;
}

function run(
  windows: TargetWindow[],
  now: number,
  readiness: Record<string, boolean> = {},
): Assessment {
  return assess({
    targets: windows.map((w) => w.snapshot(now)),
    readiness: new Map(Object.entries(readiness).map(([addr, r]) => [`${addr}:53`, r])),
    thresholds: TH,
  });
}

function stateOf(a: Assessment, address: string): string | undefined {
  return a.targets.find((t) => t.identity.address === address)?.state;
}

describe('consecutive failures', () => {
  it('goes Failing at the threshold and back to Healthy on a success', () => {
    const [svc, pod] = cluster(1);
    feed(svc!, 0, 40, 'success');
    let t = feed(pod!, 0, 40, 'success');
    t = feed(pod!, t, 2, 'timeout');
    expect(stateOf(run([svc!, pod!], t), '10.244.0.1')).toBe('Healthy');
    t = feed(pod!, t, 1, 'timeout');
    const failing = run([svc!, pod!], t);
    expect(stateOf(failing, '10.244.0.1')).toBe('Failing');
    expect(failing.targets[1]!.signals).toContainEqual({
      signal: 'ConsecutiveFailures',
      value: 3,
      threshold: 3,
    });
    expect(failing.targets[1]!.lastError).toBe('timeout');
    feed(pod!, t, 1, 'success');
    expect(stateOf(run([svc!, pod!], t + 100), '10.244.0.1')).not.toBe('Failing');
  });

  it('counts a run across queries (a dead server is seen after 3 failures of any queries)', () => {
    const w = new TargetWindow(id('10.244.0.1'), 3, TH);
    feed(w, 0, 3, 'timeout', 0, 10, (i) => i);
    expect(w.consecutiveFailures).toBe(3);
  });

  it('counts per query too (one query failing while the others succeed)', () => {
    const w = new TargetWindow(id('10.244.0.1'), 2, TH);
    feed(
      w,
      0,
      6,
      (i) => (i % 2 === 0 ? 'servfail' : 'success'),
      0.5,
      50,
      (i) => i % 2,
    );
    expect(w.consecutiveFailures).toBe(3);
  });

  it('is Failing exactly when the longest current run reaches the threshold (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...PROBE_OUTCOMES), { minLength: 1, maxLength: 60 }),
        (outcomes) => {
          const w = new TargetWindow(id('10.244.0.1'), 1, TH);
          feed(w, 0, outcomes.length, (i) => outcomes[i]!);
          let tail = 0;
          for (let i = outcomes.length - 1; i >= 0 && outcomes[i] !== 'success'; i--) tail++;
          const a = run([w], outcomes.length * 100);
          expect(a.targets[0]!.state === 'Failing').toBe(tail >= 3);
        },
      ),
    );
  });
});

describe('RTT spike', () => {
  const jitter = (i: number): number => 0.5 + ((i * 7919) % 11) / 100;

  it('fires on the target whose RTT jumps, only that one', () => {
    const [svc, a, b] = cluster(2);
    let t = 0;
    for (const w of [svc!, a!, b!]) t = feed(w, 0, 590, 'success', jitter);
    feed(a!, t, 10, 'success', 25);
    feed(b!, t, 10, 'success', jitter);
    feed(svc!, t, 10, 'success', jitter);
    const result = run([svc!, a!, b!], t + 1000);
    expect(stateOf(result, '10.244.0.1')).toBe('Degraded');
    expect(result.targets[1]!.signals.map((s) => s.signal)).toEqual(['RttSpike']);
    expect(stateOf(result, '10.244.0.2')).toBe('Healthy');
    expect(stateOf(result, '10.96.0.10')).toBe('Healthy');
    expect(result.state).toBe('Degraded');
  });

  it('stays quiet on a stable series, on too little data and on sub-millisecond wobble', () => {
    const w = new TargetWindow(id('10.244.0.1'), 1, TH);
    const t = feed(w, 0, 600, 'success', jitter);
    expect(rttSpike(w.snapshot(t).rtt, 3)).toBeUndefined();
    const few = new TargetWindow(id('10.244.0.2'), 1, TH);
    feed(few, 0, 10, 'success', 0.5);
    feed(few, 1000, 10, 'success', 50);
    expect(rttSpike(few.snapshot(2000).rtt, 3)).toBeUndefined();
    expect(
      rttSpike(
        {
          baselineCount: 100,
          baselineMean: 0.3,
          baselineStd: 0.01,
          recentCount: 10,
          recentMean: 0.9,
        },
        3,
      ),
    ).toBeUndefined();
  });

  it('does not call one straggler a spike (the median must move too)', () => {
    const w = new TargetWindow(id('10.244.0.1'), 1, TH);
    let t = feed(w, 0, 590, 'success', jitter);
    t = feed(w, t, 9, 'success', jitter);
    t = feed(w, t, 1, 'success', 30);
    const snap = w.snapshot(t);
    expect(snap.rtt.recentMean).toBeGreaterThan(2);
    expect(rttSpike(snap.rtt, 3)).toBeUndefined();
  });

  it('ignores RTTs flagged as lag-affected', () => {
    const w = new TargetWindow(id('10.244.0.1'), 1, TH);
    let t = feed(w, 0, 590, 'success', jitter);
    for (let i = 0; i < 10; i++, t += 100)
      w.observe(0, 'success', 80, t, { rttUsable: false, expectNx: false });
    expect(rttSpike(w.snapshot(t).rtt, 3)).toBeUndefined();
  });
});

describe('NXDOMAIN ratio', () => {
  it('fires above the ratio within the window and clears once the window has passed', () => {
    const [svc, pod] = cluster(1);
    feed(svc!, 0, 50, 'success');
    const t = feed(pod!, 0, 50, (i) => (i % 10 === 0 ? 'success' : 'nxdomain'));
    const during = run([svc!, pod!], t);
    expect(during.targets[1]!.signals.map((s) => s.signal)).toContain('NxdomainRatio');
    const after = run([svc!, pod!], t + 6000);
    expect(after.targets[1]!.signals.map((s) => s.signal)).not.toContain('NxdomainRatio');
  });

  it('does not count queries that expect NXDOMAIN', () => {
    const w = new TargetWindow(id('10.244.0.1'), 1, TH);
    for (let i = 0; i < 40; i++)
      w.observe(0, 'success', 0.5, i * 100, { rttUsable: true, expectNx: true });
    expect(w.snapshot(4000).window.nxEligible).toBe(0);
  });

  it('stays quiet under the ratio', () => {
    const w = new TargetWindow(id('10.244.0.1'), 2, TH);
    const t = feed(
      w,
      0,
      40,
      (i) => (i % 2 === 0 ? 'success' : 'nxdomain'),
      0.5,
      100,
      (i) => i % 2,
    );
    expect(run([w], t).targets[0]!.signals.map((s) => s.signal)).not.toContain('NxdomainRatio');
  });
});

describe('SERVFAIL entropy: upstream versus pod', () => {
  it('all servers SERVFAIL -> DNSUnavailable UpstreamFailure', () => {
    const windows = cluster(3, 2);
    let t = 0;
    for (const w of windows)
      t = feed(
        w,
        0,
        20,
        (i) => (i % 2 === 0 ? 'servfail' : 'success'),
        0.5,
        100,
        (i) => i % 2,
      );
    const a = run(windows, t, { '10.244.0.1': true, '10.244.0.2': true, '10.244.0.3': true });
    expect(a.state).toBe('DNSUnavailable');
    expect(a.reason).toBe('UpstreamFailure');
    expect(a.signals.map((s) => s.signal)).toContain('ServfailSpread');
    expect(a.servfailEntropy).toBeCloseTo(Math.log2(3), 5);
  });

  it('one server SERVFAIL (failing its probes and not ready) -> DNSUnavailable PodFailure', () => {
    const [svc, a, b, c] = cluster(3);
    let t = 0;
    for (const w of [svc!, b!, c!]) t = feed(w, 0, 20, 'success');
    feed(a!, 0, 20, 'servfail');
    const result = run([svc!, a!, b!, c!], t, {
      '10.244.0.1': false,
      '10.244.0.2': true,
      '10.244.0.3': true,
    });
    expect(result.state).toBe('DNSUnavailable');
    expect(result.reason).toBe('PodFailure');
    expect(result.servfailEntropy).toBe(0);
    const sig = result.targets[1]!.signals.map((s) => s.signal);
    expect(sig).toEqual(
      expect.arrayContaining(['ConsecutiveFailures', 'ServfailConcentrated', 'NotReady']),
    );
    expect(stateOf(result, '10.244.0.2')).toBe('Healthy');
  });

  it('two of two servers mostly SERVFAIL -> spread even though 1 bit < 1.2', () => {
    const [svc, a, b] = cluster(2, 2);
    let t = 0;
    for (const w of [svc!, a!, b!])
      t = feed(
        w,
        0,
        20,
        (i) => (i % 2 === 0 ? 'servfail' : 'success'),
        0.5,
        100,
        (i) => i % 2,
      );
    const result = run([svc!, a!, b!], t);
    expect(result.reason).toBe('UpstreamFailure');
    expect(result.servfailEntropy).toBeCloseTo(1, 5);
  });
});

describe('probe states', () => {
  it('is Unknown before any result', () => {
    expect(run(cluster(2), 0).state).toBe('Unknown');
  });

  it('keeps a target Unknown (not Healthy) while it has only failed, below the threshold', () => {
    const w = new TargetWindow(id('10.244.0.1'), 1, TH);
    const t = feed(w, 0, 2, 'timeout');
    expect(run([w], t).targets[0]!.state).toBe('Unknown');
  });

  it('every target failing -> UpstreamFailure, whatever readiness says', () => {
    const windows = cluster(2);
    let t = 0;
    for (const w of windows) t = feed(w, 0, 5, 'timeout');
    const a = run(windows, t, { '10.244.0.1': false, '10.244.0.2': false });
    expect(a).toMatchObject({ state: 'DNSUnavailable', reason: 'UpstreamFailure' });
    expect(a.signals.map((s) => s.signal)).toEqual(['AllTargetsFailing']);
  });

  it('one pod failing: Degraded while ready or unknown, PodFailure once not ready', () => {
    const [svc, a, b] = cluster(2);
    let t = 0;
    for (const w of [svc!, b!]) t = feed(w, 0, 20, 'success');
    feed(a!, 0, 20, (i) => (i < 15 ? 'success' : 'timeout'));
    expect(run([svc!, a!, b!], t).state).toBe('Degraded');
    expect(run([svc!, a!, b!], t, { '10.244.0.1': true }).state).toBe('Degraded');
    const down = run([svc!, a!, b!], t, { '10.244.0.1': false });
    expect(down).toMatchObject({ state: 'DNSUnavailable', reason: 'PodFailure' });
    expect(down.message).toContain('coredns-1');
  });

  it('a ready=false pod that answers is Degraded (NotReady), not DNSUnavailable', () => {
    const [svc, a] = cluster(1);
    const t = feed(svc!, 0, 20, 'success');
    feed(a!, 0, 20, 'success');
    const result = run([svc!, a!], t, { '10.244.0.1': false });
    expect(result.state).toBe('Degraded');
    expect(result.targets[1]!.signals.map((s) => s.signal)).toEqual(['NotReady']);
  });

  it('flags a low success ratio without consecutive failures', () => {
    const [svc, a] = cluster(1);
    const t = feed(svc!, 0, 40, 'success');
    feed(a!, 0, 40, (i) => (i % 3 === 0 ? 'timeout' : 'success'));
    const result = run([svc!, a!], t);
    expect(stateOf(result, '10.244.0.1')).toBe('Degraded');
    expect(result.targets[1]!.signals.map((s) => s.signal)).toEqual(['LowSuccessRatio']);
  });

  it('is Healthy when every target is', () => {
    const windows = cluster(3);
    let t = 0;
    for (const w of windows) t = feed(w, 0, 50, 'success');
    expect(run(windows, t)).toMatchObject({ state: 'Healthy', message: '4 targets healthy' });
  });
});

describe('TargetWindow summaries', () => {
  it('reports totals and percentiles', () => {
    const w = new TargetWindow(id('10.244.0.1'), 1, TH);
    feed(
      w,
      0,
      100,
      (i) => (i < 98 ? 'success' : 'timeout'),
      (i) => (i < 98 ? 1 + i / 100 : 100),
    );
    const s = w.summary();
    expect(s.probes).toBe(100);
    expect(s.successRatio).toBeCloseTo(0.98);
    expect(s.p50Ms).toBeGreaterThan(1.3);
    expect(s.p50Ms).toBeLessThan(1.6);
    const recent = w.recentPercentiles();
    expect(recent.p99Ms).toBeGreaterThan(1.9);
  });
});
