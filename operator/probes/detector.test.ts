import fc from 'fast-check';
import {
  assess,
  rttSpike,
  servfailSignals,
  TargetWindow,
  type Assessment,
  type TargetIdentity,
  type TargetKind,
  type TargetSnapshot,
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
  recoverySuccesses: 3,
};

const OK = { rttUsable: true, expectNx: false };
const LATE = { ...OK, firstOfRun: false };

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

type SnapshotPatch = Partial<Omit<TargetSnapshot, 'identity' | 'window' | 'rtt'>> & {
  readonly window?: Partial<TargetSnapshot['window']>;
  readonly rtt?: Partial<TargetSnapshot['rtt']>;
};

/** A snapshot as TargetWindow.snapshot builds it: a target answering 20 of 20 unless patched. */
function snap(
  address: string,
  kind: TargetKind = 'Pod',
  patch: SnapshotPatch = {},
): TargetSnapshot {
  const { window, rtt, ...rest } = patch;
  return {
    identity: id(address, kind),
    observed: true,
    successes: 20,
    consecutiveFailures: 0,
    failing: false,
    failingRun: 0,
    lastSuccessAtMs: 1900,
    ...rest,
    window: {
      total: 20,
      success: 20,
      servfail: 0,
      answered: 20,
      nxEligible: 20,
      nxdomain: 0,
      ...window,
    },
    rtt: {
      baselineCount: 0,
      baselineMean: 0,
      baselineStd: 0,
      recentCount: 0,
      recentMean: 0,
      ...rtt,
    },
  };
}

/** A target failing its probes since 1000 ms (its last success at 900 ms). */
function failingSnap(
  address: string,
  kind: TargetKind = 'Pod',
  lastError = 'timeout',
): TargetSnapshot {
  return snap(address, kind, {
    consecutiveFailures: 5,
    failing: true,
    failingRun: 5,
    failingSinceMs: 1000,
    lastSuccessAtMs: 900,
    lastError,
    window: { success: 15, answered: lastError === 'timeout' ? 15 : 20 },
  });
}

function judge(
  targets: TargetSnapshot[],
  readiness: Record<string, boolean> = {},
  thresholds: Thresholds = TH,
): Assessment {
  return assess({
    targets,
    readiness: new Map(Object.entries(readiness).map(([addr, r]) => [`${addr}:53`, r])),
    thresholds,
  });
}

describe('consecutive failures', () => {
  it('goes Failing at the threshold and leaves it only after recoverySuccesses successes in a row', () => {
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
    // One lucky answer, then a failure, then two more answers: still Failing (no flapping).
    t = feed(pod!, t, 1, 'success');
    expect(stateOf(run([svc!, pod!], t), '10.244.0.1')).toBe('Failing');
    t = feed(pod!, t, 1, 'timeout');
    t = feed(pod!, t, 2, 'success');
    const recovering = run([svc!, pod!], t);
    expect(stateOf(recovering, '10.244.0.1')).toBe('Failing');
    // The anomaly keeps the run that tripped it while the target recovers.
    expect(recovering.targets[1]!.signals).toContainEqual({
      signal: 'ConsecutiveFailures',
      value: 3,
      threshold: 3,
    });
    t = feed(pod!, t, 1, 'success');
    expect(stateOf(run([svc!, pod!], t), '10.244.0.1')).not.toBe('Failing');
  });

  it('leaves Failing on the first success with recoverySuccesses 1', () => {
    const w = new TargetWindow(id('10.244.0.1'), 1, { ...TH, recoverySuccesses: 1 });
    let t = feed(w, 0, 10, 'success');
    t = feed(w, t, 3, 'timeout');
    expect(w.failing).toBe(true);
    feed(w, t, 1, 'success');
    expect(w.failing).toBe(false);
  });

  it('counts a run across queries (a dead server is seen after 3 failures of any queries)', () => {
    const w = new TargetWindow(id('10.244.0.1'), 3, TH);
    feed(w, 0, 3, 'timeout', 0, 10, (i) => i);
    expect(w.consecutiveFailures).toBe(3);
  });

  it.each([0, 1])(
    'counts per query too (query %i failing while the other succeeds)',
    (failingQuery) => {
      const w = new TargetWindow(id('10.244.0.1'), 2, TH);
      feed(
        w,
        0,
        6,
        (i) => (i % 2 === failingQuery ? 'servfail' : 'success'),
        0.5,
        50,
        (i) => i % 2,
      );
      expect(w.consecutiveFailures).toBe(3);
      expect(w.failing).toBe(true);
    },
  );

  it('is Failing from a run reaching the threshold until recoverySuccesses successes in a row (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...PROBE_OUTCOMES), { minLength: 1, maxLength: 60 }),
        (outcomes) => {
          const w = new TargetWindow(id('10.244.0.1'), 1, TH);
          feed(w, 0, outcomes.length, (i) => outcomes[i]!);
          // The reference model: a latch set by a run of 3, cleared by 3 successes in a row.
          let failing = false;
          let run_ = 0;
          let ok = 0;
          for (const o of outcomes) {
            if (o === 'success') {
              run_ = 0;
              ok++;
              if (ok >= 3) failing = false;
            } else {
              ok = 0;
              run_++;
              if (run_ >= 3) failing = true;
            }
          }
          const a = run([w], outcomes.length * 100);
          expect(a.targets[0]!.state === 'Failing').toBe(failing);
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

  it('one server SERVFAIL (failing its probes and not ready) -> Degraded PodFailure, concentrated', () => {
    const [svc, a, b, c] = cluster(3);
    let t = 0;
    for (const w of [svc!, b!, c!]) t = feed(w, 0, 20, 'success');
    feed(a!, 0, 20, 'servfail');
    const result = run([svc!, a!, b!, c!], t, {
      '10.244.0.1': false,
      '10.244.0.2': true,
      '10.244.0.3': true,
    });
    expect(result.state).toBe('Degraded');
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

  it('one pod of three failing and not ready: Degraded (PodFailure), not DNSUnavailable', () => {
    const [svc, a, b, c] = cluster(3);
    let t = 0;
    for (const w of [svc!, b!, c!]) t = feed(w, 0, 20, 'success');
    feed(a!, 0, 20, (i) => (i < 15 ? 'success' : 'timeout'));
    for (const ready of [undefined, true, false]) {
      const result = run([svc!, a!, b!, c!], t, ready === undefined ? {} : { '10.244.0.1': ready });
      expect(result).toMatchObject({ state: 'Degraded', reason: 'PodFailure' });
    }
    const down = run([svc!, a!, b!, c!], t, { '10.244.0.1': false });
    expect(down.message).toMatch(
      /^pod coredns-1 \(10\.244\.0\.1\) failing its probes \(last error timeout\) \(1 not ready\); 2 of 3 pods and the Service answer$/,
    );
  });

  it('every pod failing -> UpstreamFailure even while the Service address answers', () => {
    const [svc, a, b] = cluster(2);
    let t = feed(svc!, 0, 20, 'success');
    for (const w of [a!, b!]) t = feed(w, 0, 20, (i) => (i < 10 ? 'success' : 'timeout'));
    const result = run([svc!, a!, b!], t);
    expect(result).toMatchObject({ state: 'DNSUnavailable', reason: 'UpstreamFailure' });
    expect(result.message).toMatch(/^every CoreDNS pod failing \(2\/2\)/);
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

describe('the Service target', () => {
  /** Service and three pods answering for 2 s; returns the time after. */
  function healthy(): { windows: TargetWindow[]; t: number } {
    const windows = cluster(3);
    let t = 0;
    for (const w of windows) t = feed(w, 0, 20, 'success');
    return { windows, t };
  }

  it('failing while a pod fails is that pod, not the Service: Degraded, and stays so after the pod is gone', () => {
    const { windows, t: t0 } = healthy();
    const [svc, a, b, c] = windows as [TargetWindow, TargetWindow, TargetWindow, TargetWindow];
    let t = feed(a, t0, 5, 'timeout', 0.5, 20);
    t = feed(svc, t, 3, 'timeout', 0.5, 20);
    for (const w of [b, c]) feed(w, t0, 5, 'success', 0.5, 20);
    const first = run(windows, t, { '10.244.0.1': false });
    expect(first).toMatchObject({ state: 'Degraded', reason: 'PodFailure' });
    expect(stateOf(first, '10.96.0.10')).toBe('Degraded');
    // The pod is evicted (no longer a target); the Service recovers over its next answers.
    t = feed(svc, t, 1, 'success', 0.5, 20);
    for (const w of [b, c]) feed(w, t - 20, 2, 'success', 0.5, 10);
    const after = assess({
      targets: [svc, b, c].map((w) => w.snapshot(t)),
      readiness: new Map(),
      thresholds: TH,
      previous: first,
    });
    expect(after.state).toBe('Degraded');
    expect(stateOf(after, '10.96.0.10')).toBe('Degraded');
  });

  it('failing while every pod answers is DNSUnavailable (ServiceFailure), once each pod has answered since', () => {
    const { windows, t: t0 } = healthy();
    const [svc, a, b, c] = windows as [TargetWindow, TargetWindow, TargetWindow, TargetWindow];
    const t = feed(svc, t0, 3, 'timeout', 0.5, 20);
    // Pod a has not answered since the Service's run began: it may be hanging, not yet seen.
    for (const w of [b, c]) feed(w, t0 + 10, 5, 'success', 0.5, 10);
    const pending = run(windows, t);
    expect(pending.state).toBe('Degraded');
    expect(stateOf(pending, '10.96.0.10')).toBe('Degraded');
    feed(a, t0 + 30, 1, 'success');
    const result = assess({
      targets: windows.map((w) => w.snapshot(t)),
      readiness: new Map(),
      thresholds: TH,
      previous: pending,
    });
    expect(result).toMatchObject({ state: 'DNSUnavailable', reason: 'ServiceFailure' });
    expect(stateOf(result, '10.96.0.10')).toBe('Failing');
    expect(result.message).toMatch(/^Service address 10\.96\.0\.10 failing its probes/);
  });

  it('alone (no pod targets) it is judged on its own probes', () => {
    const svc = new TargetWindow(id('10.96.0.10', 'Service'), 1, TH);
    const t = feed(svc, feed(svc, 0, 10, 'success'), 3, 'timeout');
    expect(run([svc], t)).toMatchObject({ state: 'DNSUnavailable', reason: 'UpstreamFailure' });
  });
});

describe('late answers (after the adaptive deadline, within timeout)', () => {
  it('end the failure run: a slow server is not a hung one', () => {
    const w = new TargetWindow(id('10.244.0.1'), 1, TH);
    let t = feed(w, 0, 20, 'success');
    t = feed(w, t, 2, 'timeout');
    w.observeLate(0, 'success', 30, t, LATE);
    expect(w.consecutiveFailures).toBe(0);
    t = feed(w, t, 2, 'timeout');
    expect(w.failing).toBe(false);
    expect(run([w], t).targets[0]!.state).not.toBe('Failing');
  });

  it('turn the timeout into a success in the window and add their RTT', () => {
    const w = new TargetWindow(id('10.244.0.1'), 1, TH);
    let t = feed(w, 0, 9, 'success');
    t = feed(w, t, 1, 'timeout');
    w.observeLate(0, 'success', 42, t, LATE);
    const snap = w.snapshot(t);
    expect(snap.window).toMatchObject({ total: 10, success: 10, answered: 10 });
    expect(w.recentPercentiles().p99Ms).toBe(42);
  });

  it('to the first probe of the run withdraw its Failing state: slower than 3 deadlines is still not hung', () => {
    const w = new TargetWindow(id('10.244.0.1'), 1, TH);
    let t = feed(w, 0, 10, 'success');
    // Probes at t, t+12, t+24 (12 ms deadlines) all time out: Failing at t+36.
    t = feed(w, t + 12, 3, 'timeout', 12, 12);
    expect(w.failing).toBe(true);
    // The answer to the first comes at t+40, within the timeout.
    w.observeLate(0, 'success', 40, t + 4, { ...LATE, firstOfRun: true });
    expect(w.failing).toBe(false);
  });

  it('to any other probe do not end a Failing state (that takes on-time successes) nor add their RTT', () => {
    const w = new TargetWindow(id('10.244.0.1'), 1, TH);
    let t = feed(w, 0, 10, 'success', 0.5);
    t = feed(w, t, 3, 'timeout');
    // A resumed server answers the held queries at once: their RTT is the hang's length.
    for (let i = 0; i < 5; i++) w.observeLate(0, 'success', 90, t + i, LATE);
    expect(w.failing).toBe(true);
    expect(w.recentPercentiles().p99Ms).toBe(0.5);
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

describe('what a user reads in DNSProbe status', () => {
  const SVC = '10.96.0.10';
  it('says why for each state', () => {
    // Not probed yet: Unknown even when a pod's readiness says not ready.
    expect(run(cluster(2), 0, { '10.244.0.1': false })).toMatchObject({
      state: 'Unknown',
      signals: [],
      message: 'no probe results yet',
    });
    // Every server SERVFAILs half its answers, none fails a run: spread, with no last error.
    const spread = judge([
      snap(SVC, 'Service'),
      ...[1, 2, 3].map((i) =>
        snap(`10.244.0.${i}`, 'Pod', { window: { servfail: 10, success: 10 } }),
      ),
    ]);
    expect(spread).toMatchObject({
      state: 'DNSUnavailable',
      reason: 'UpstreamFailure',
      message:
        'SERVFAIL spread over servers (entropy 1.58 bits >= 1.2): an upstream or network fault a pod restart cannot fix',
    });
    const servers = judge([
      failingSnap('192.0.2.1', 'Address'),
      failingSnap('192.0.2.2', 'Address', 'refused'),
    ]);
    expect(servers.message).toBe(
      'every target failing (2/2) (last error timeout, refused): an upstream or network fault a pod restart cannot fix',
    );
    const service = judge([failingSnap(SVC, 'Service'), snap('10.244.0.1'), snap('10.244.0.2')]);
    expect(service.message).toBe(
      'Service address 10.96.0.10 failing its probes (last error timeout) while every CoreDNS pod answers: the Service path (kube-proxy, network policy) is broken',
    );
  });

  it('names the failing pods, in the singular or plural, and what still answers', () => {
    const two = judge(
      [
        failingSnap('10.244.0.1'),
        failingSnap('10.244.0.2', 'Pod', 'servfail'),
        snap('10.244.0.3'),
        snap('10.244.0.4'),
      ],
      { '10.244.0.1': false, '10.244.0.2': true },
    );
    expect(two).toMatchObject({ state: 'Degraded', reason: 'PodFailure' });
    expect(two.message).toBe(
      'pod coredns-1 (10.244.0.1), pod coredns-2 (10.244.0.2) failing their probes (last error timeout, servfail) (1 not ready); 2 of 4 pods answer',
    );
    const one = judge([snap(SVC, 'Service'), failingSnap('10.244.0.1'), snap('10.244.0.2')], {
      '10.244.0.1': true,
    });
    expect(one.message).toBe(
      'pod coredns-1 (10.244.0.1) failing its probes (last error timeout); 1 of 2 pods and the Service answer',
    );
  });

  it('lists each unhealthy target with its signals, values rounded', () => {
    const result = judge(
      [
        snap(SVC, 'Service', { window: { nxdomain: 18 } }),
        snap('10.244.0.1', 'Pod', { window: { nxdomain: 20 } }),
        snap('192.0.2.53', 'Address', { window: { total: 30, success: 20 } }),
      ],
      { '10.244.0.1': false },
    );
    expect(result).toMatchObject({
      state: 'Degraded',
      reason: 'TargetsUnhealthy',
      message:
        'Service address 10.96.0.10 Degraded: NxdomainRatio=0.9 (threshold 0.85); pod coredns-1 (10.244.0.1) Degraded: NxdomainRatio=1 (threshold 0.85), NotReady=0 (threshold 1); server 192.0.2.53 Degraded: LowSuccessRatio=0.667 (threshold 0.9)',
    });
  });

  it('reports per target what status and remediation read, readiness for pods only', () => {
    const result = assess({
      targets: [
        failingSnap('10.244.0.1'),
        snap(SVC, 'Service', { lastSuccessAtMs: 4950 }),
        snap('10.244.0.3', 'Pod', { lastSuccessAtMs: 4960 }),
        snap('10.244.0.2', 'Pod', {
          observed: false,
          successes: 0,
          lastSuccessAtMs: undefined,
          window: { total: 0, success: 0, answered: 0, nxEligible: 0 },
        }),
      ],
      readiness: new Map([
        ['10.244.0.1:53', false],
        [`${SVC}:53`, false],
        ['10.244.0.2:53', false],
      ]),
      thresholds: TH,
      nowMs: 5000,
    });
    const [pod, service, unknownReadiness, fresh] = result.targets;
    expect(pod).toStrictEqual({
      identity: id('10.244.0.1'),
      state: 'Failing',
      consecutiveFailures: 5,
      successRatio: 0.75,
      lastError: 'timeout',
      ready: false,
      signals: [
        { signal: 'ConsecutiveFailures', value: 5, threshold: 3 },
        { signal: 'LowSuccessRatio', value: 0.75, threshold: 0.9 },
        { signal: 'NotReady', value: 0, threshold: 1 },
      ],
      failingSinceMs: 1000,
      failingForMs: 4000,
      lastSuccessAtMs: 900,
    });
    expect(service).toStrictEqual({
      identity: id(SVC, 'Service'),
      state: 'Healthy',
      consecutiveFailures: 0,
      successRatio: 1,
      signals: [],
      lastSuccessAtMs: 4950,
    });
    expect(unknownReadiness).toStrictEqual({
      identity: id('10.244.0.3'),
      state: 'Healthy',
      consecutiveFailures: 0,
      successRatio: 1,
      signals: [],
      lastSuccessAtMs: 4960,
    });
    // Not probed yet: Unknown, whatever its readiness says.
    expect(fresh).toStrictEqual({
      identity: id('10.244.0.2'),
      state: 'Unknown',
      consecutiveFailures: 0,
      ready: false,
      signals: [],
    });
  });
});

describe('signals at their thresholds', () => {
  const signals = (patch: SnapshotPatch): readonly unknown[] =>
    judge([snap('10.244.0.1', 'Pod', patch)]).targets[0]!.signals;
  it.each<[string, SnapshotPatch, unknown[]]>([
    ['9 eligible answers, all NXDOMAIN: too few', { window: { nxEligible: 9, nxdomain: 9 } }, []],
    [
      '10 eligible answers, 9 NXDOMAIN',
      { window: { nxEligible: 10, nxdomain: 9 } },
      [{ signal: 'NxdomainRatio', value: 0.9, threshold: 0.85 }],
    ],
    [
      'NXDOMAIN ratio exactly at the threshold',
      { window: { nxEligible: 20, nxdomain: 17 } },
      [{ signal: 'NxdomainRatio', value: 0.85, threshold: 0.85 }],
    ],
    [
      '10 probes, 8 successes',
      { window: { total: 10, success: 8 } },
      [{ signal: 'LowSuccessRatio', value: 0.8, threshold: 0.9 }],
    ],
    ['success ratio exactly 0.9', { window: { total: 20, success: 18 } }, []],
    [
      'RTT: 30 baseline and 5 recent samples, 3 sigma under the 1 ms floor',
      {
        rtt: {
          baselineCount: 30,
          baselineMean: 0.5,
          baselineStd: 0.1,
          recentCount: 5,
          recentMean: 3,
          recentMedian: 3,
        },
      },
      [{ signal: 'RttSpike', value: 3, threshold: 1.5 }],
    ],
    [
      'RTT: 3 sigma above the 1 ms floor',
      {
        rtt: {
          baselineCount: 100,
          baselineMean: 0.5,
          baselineStd: 2,
          recentCount: 10,
          recentMean: 8,
          recentMedian: 8,
        },
      },
      [{ signal: 'RttSpike', value: 8, threshold: 6.5 }],
    ],
    [
      'RTT: 29 baseline samples',
      {
        rtt: {
          baselineCount: 29,
          baselineMean: 0.5,
          baselineStd: 0.1,
          recentCount: 10,
          recentMean: 3,
          recentMedian: 3,
        },
      },
      [],
    ],
    [
      'RTT: the median above, the mean not',
      {
        rtt: {
          baselineCount: 100,
          baselineMean: 0.5,
          baselineStd: 0.1,
          recentCount: 10,
          recentMean: 1.4,
          recentMedian: 2,
        },
      },
      [],
    ],
    [
      'RTT: the mean exactly at the threshold',
      {
        rtt: {
          baselineCount: 100,
          baselineMean: 0.5,
          baselineStd: 0.1,
          recentCount: 10,
          recentMean: 1.5,
          recentMedian: 2,
        },
      },
      [],
    ],
    [
      'RTT: the median exactly at the threshold',
      {
        rtt: {
          baselineCount: 100,
          baselineMean: 0.5,
          baselineStd: 0.1,
          recentCount: 10,
          recentMean: 2,
          recentMedian: 1.5,
        },
      },
      [],
    ],
  ])('%s', (_, patch, expected) => {
    expect(signals(patch)).toEqual(expected);
  });
});

describe('SERVFAIL: spread over servers or concentrated on some', () => {
  /** Pods answering 20 queries each, `servfails[i]` of them SERVFAIL. */
  const pods = (servfails: number[]): TargetSnapshot[] =>
    servfails.map((n, i) =>
      snap(`10.244.0.${i + 1}`, 'Pod', { window: { servfail: n, success: 20 - n } }),
    );
  const verdict = (
    targets: TargetSnapshot[],
    bits = TH.servfailEntropyBits,
  ): { spread: boolean; concentrated: string[] } => {
    const result = servfailSignals(targets, { ...TH, servfailEntropyBits: bits });
    return { spread: result.spread !== undefined, concentrated: [...result.concentrated.keys()] };
  };
  it.each<[string, TargetSnapshot[], number, boolean, string[]]>([
    [
      'two SERVFAILs in all are no evidence yet, even as all two servers answered',
      [1, 2].map((i) =>
        snap(`10.244.0.${i}`, 'Pod', {
          window: { total: 1, answered: 1, servfail: 1, success: 0 },
        }),
      ),
      1.2,
      false,
      [],
    ],
    ['three on one server: concentrated there', pods([3, 0, 0]), 1.2, false, ['10.244.0.1:53']],
    ['a fifth of each of three servers: spread (entropy)', pods([4, 4, 4]), 1.2, true, []],
    [
      'a fifth of each of two servers: under 1.2 bits, concentrated on both',
      pods([4, 4]),
      1.2,
      false,
      ['10.244.0.1:53', '10.244.0.2:53'],
    ],
    ['two servers at exactly the entropy threshold: spread', pods([4, 4]), 1, true, []],
    ['two of three servers at exactly the threshold: spread', pods([5, 5, 0]), 1, true, []],
    [
      'one server with threshold 0: still concentrated',
      pods([5, 0, 0]),
      0,
      false,
      ['10.244.0.1:53'],
    ],
    ['two of two servers at half SERVFAIL: spread', pods([10, 10]), 1.2, true, []],
    [
      'one mostly SERVFAILing, one not: concentrated',
      pods([10, 3]),
      1.2,
      false,
      ['10.244.0.1:53', '10.244.0.2:53'],
    ],
    [
      'a single server mostly SERVFAILing: concentrated',
      [snap('192.0.2.53', 'Address', { window: { servfail: 15, success: 5 } })],
      1.2,
      false,
      ['192.0.2.53:53'],
    ],
  ])('%s', (_, targets, bits, spread, concentrated) => {
    expect(verdict(targets, bits)).toEqual({ spread, concentrated });
  });

  it('the probe says which: spread is DNSUnavailable with the ServfailSpread signal', () => {
    const result = judge(pods([10, 10]));
    expect(result).toMatchObject({ state: 'DNSUnavailable', reason: 'UpstreamFailure' });
    expect(result.signals.map((s) => s.signal)).toEqual(['ServfailSpread']);
  });
});

describe('the Service target and pods not heard from', () => {
  it('an explained Service failure stays explained whatever the order of the targets', () => {
    const svc = failingSnap('10.96.0.10', 'Service');
    const first = judge([failingSnap('10.244.0.1'), svc, snap('10.244.0.2')]);
    expect(first.targets[1]).toMatchObject({ state: 'Degraded', explainedSince: 1000 });
    // The failing pod is gone; the Service's episode is the same one.
    const after = assess({
      targets: [snap('10.244.0.2'), svc],
      readiness: new Map(),
      thresholds: TH,
      previous: first,
    });
    expect(after.state).toBe('Degraded');
    expect(after.targets[1]!.state).toBe('Degraded');
  });

  it('a pod that answered the moment the Service began failing counts as answering since', () => {
    const result = judge([
      failingSnap('10.96.0.10', 'Service'),
      snap('10.244.0.1', 'Pod', { lastSuccessAtMs: 1000 }),
    ]);
    expect(result).toMatchObject({ state: 'DNSUnavailable', reason: 'ServiceFailure' });
  });

  it('a Service failing while no pod has been probed yet is judged on its own', () => {
    const unprobed = snap('10.244.0.1', 'Pod', {
      observed: false,
      successes: 0,
      lastSuccessAtMs: undefined,
      window: { total: 0, success: 0, answered: 0, nxEligible: 0 },
    });
    const result = judge([failingSnap('10.96.0.10', 'Service'), unprobed]);
    expect(result).toMatchObject({ state: 'DNSUnavailable', reason: 'UpstreamFailure' });
  });

  it('a pod that never answered (starting, not ready) keeps a Service failure pending', () => {
    const starting = snap('10.244.0.1', 'Pod', {
      successes: 0,
      consecutiveFailures: 2,
      lastSuccessAtMs: undefined,
      lastError: 'timeout',
      window: { total: 2, success: 0, answered: 0, nxEligible: 0 },
    });
    const result = judge([failingSnap('10.96.0.10', 'Service'), starting, snap('10.244.0.2')], {
      '10.244.0.1': false,
    });
    expect(result.state).toBe('Degraded');
    expect(result.targets[0]!.state).toBe('Degraded');
  });
});

describe('TargetWindow at its edges', () => {
  it('a late SERVFAIL does not end the failure run; a late success counts as one', () => {
    const w = new TargetWindow(id('10.244.0.1'), 1, TH);
    const t = feed(w, 0, 2, 'timeout');
    w.observeLate(0, 'servfail', 30, t, LATE);
    expect(w.consecutiveFailures).toBe(2);
    w.observeLate(0, 'success', 30, t, LATE);
    expect(w.consecutiveFailures).toBe(0);
    expect(w.summary().successRatio).toBe(0.5);
    expect(run([w], t).targets[0]!.state).toBe('Healthy');
  });

  it('keeps the start of the run that made it Failing while it recovers and fails again', () => {
    const w = new TargetWindow(id('10.244.0.1'), 1, TH);
    let t = feed(w, 0, 10, 'success');
    const since = t;
    t = feed(w, t, 3, 'timeout');
    t = feed(w, t, 1, 'success');
    t = feed(w, t, 3, 'timeout');
    expect(w.failing).toBe(true);
    expect(w.snapshot(t).failingSinceMs).toBe(since);
  });

  it('reports the baseline and recent RTT it compares', () => {
    const w = new TargetWindow(id('10.244.0.1'), 1, TH);
    let t = feed(w, 0, 90, 'success', (i) => (i % 2 === 0 ? 1 : 3));
    t = feed(w, t, 10, 'success', 5);
    expect(w.snapshot(t - 100).rtt).toStrictEqual({
      baselineCount: 90,
      baselineMean: 2,
      baselineStd: 1,
      recentCount: 10,
      recentMean: 5,
      recentMedian: 5,
    });
    expect(w.snapshot(t + 5000).rtt).toMatchObject({ recentCount: 0, recentMean: 0 });
  });

  it('calls a spike on exactly 5 recent samples', () => {
    const w = new TargetWindow(id('10.244.0.1'), 1, TH);
    feed(w, 0, 95, 'success', 0.5);
    // A gap, then 5 slow answers: the recent second holds exactly these.
    const t = feed(w, 10_000, 5, 'success', 5, 200);
    expect(w.snapshot(t - 200).rtt.recentCount).toBe(5);
    const result = run([w], t - 200);
    expect(result.targets[0]!.signals.map((s) => s.signal)).toEqual(['RttSpike']);
  });

  it('with a long rttWindow, still sees a spike just after a bucket boundary', () => {
    const th = { ...TH, rttWindowMs: 600_000 };
    const w = new TargetWindow(id('10.244.0.1'), 1, th);
    let t = feed(w, 0, 600, 'success', 0.5);
    // Slow answers from 1.5 s before a whole second until 50 ms after it.
    t = feed(w, 60_500, 16, 'success', 5);
    const result = assess({
      targets: [w.snapshot(t - 100)],
      readiness: new Map(),
      thresholds: th,
    });
    expect(result.targets[0]!.signals.map((s) => s.signal)).toEqual(['RttSpike']);
  });

  it('summarises a target never probed as no probes, no percentiles', () => {
    const w = new TargetWindow(id('10.244.0.1'), 1, TH);
    expect(w.summary()).toStrictEqual({ probes: 0, successRatio: 0 });
    expect(w.recentPercentiles()).toStrictEqual({});
    feed(w, 0, 4, 'success', (i) => i + 1);
    expect(w.recentPercentiles()).toEqual({
      p50Ms: expect.any(Number),
      p99Ms: expect.any(Number),
    });
    expect(w.summary()).toEqual({
      probes: 4,
      successRatio: 1,
      p50Ms: expect.any(Number),
      p99Ms: expect.any(Number),
    });
  });
});
