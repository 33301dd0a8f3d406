import { LoopLagMonitor, NO_LAG, serverRttMs, type LagSource } from './loop-lag';
import { prepareQuery, type PreparedQuery } from './query';
import { makeTarget, type ProbeResult, type ProbeTarget, type ResultHandler } from './resolver';
import {
  NamespaceBuckets,
  ProbeScheduler,
  TokenBucket,
  type ProbeSender,
  type ProbeSlot,
  type SchedulerSettings,
} from './scheduler';

/** A manual clock: time moves only when the test says, timers are Jest's fake timers. */
class Clock {
  ms = 0;
  skewMs = 0;
  now = (): number => this.ms + this.skewMs;
  advance(ms: number): void {
    for (let i = 0; i < ms; i++) {
      this.ms++;
      jest.advanceTimersByTime(1);
    }
  }
}

type Slot = ProbeSlot<string>;

/** A sender that answers after `answerAfterMs` (or never), recording every query. */
class FakeSender implements ProbeSender<Slot> {
  readonly sent: { at: number; target: string; query: string }[] = [];
  readonly pending: { slot: Slot; dueAt: number; sentAt: number }[] = [];
  inFlightMax = new Map<string, number>();
  readonly #inFlight = new Map<string, number>();
  closed = false;
  constructor(
    readonly clock: Clock,
    readonly onResult: ResultHandler<Slot>,
    public answerAfterMs: number | undefined,
  ) {}
  query(
    target: ProbeTarget,
    query: PreparedQuery,
    _timeoutMs: number,
    _t: 'udp' | 'tcp',
    slot: Slot,
  ): void {
    const key = `${target.key}/${query.label}`;
    this.sent.push({ at: this.clock.now(), target: target.key, query: query.label });
    const n = (this.#inFlight.get(key) ?? 0) + 1;
    this.#inFlight.set(key, n);
    this.inFlightMax.set(key, Math.max(n, this.inFlightMax.get(key) ?? 0));
    if (this.answerAfterMs !== undefined) {
      this.pending.push({
        slot,
        dueAt: this.clock.now() + this.answerAfterMs,
        sentAt: this.clock.now(),
      });
    }
  }
  /** Delivers answers that are due. */
  deliver(outcome: ProbeResult['outcome'] = 'success'): void {
    const now = this.clock.now();
    for (let i = 0; i < this.pending.length;) {
      const p = this.pending[i]!;
      if (p.dueAt > now) {
        i++;
        continue;
      }
      this.pending.splice(i, 1);
      const key = `${p.slot.target.key}/${p.slot.query.label}`;
      this.#inFlight.set(key, (this.#inFlight.get(key) ?? 1) - 1);
      this.onResult(p.slot, {
        outcome,
        rttMs: now - p.sentAt,
        answers: 1,
        tcp: false,
        timerLateMs: 0,
        sentAtNs: BigInt(Math.round(p.sentAt * 1e6)),
      });
    }
  }
  close(): void {
    this.closed = true;
  }
}

/** Deterministic randomness (mulberry32), so jitter and phases are the same on every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const SEED = Number(process.env['PROBE_TEST_SEED'] ?? 42);

const Q1 = prepareQuery('a.example');
const Q2 = prepareQuery('b.example', 'SRV');
const T = (n: number): ProbeTarget => makeTarget(`10.0.0.${n}`, 53);

function setup(
  settings: Partial<SchedulerSettings> = {},
  opts: {
    answerAfterMs?: number;
    queries?: PreparedQuery[];
    lag?: LagSource;
    ns?: TokenBucket;
    clock?: Clock;
  } = {},
) {
  const clock = opts.clock ?? new Clock();
  const results: {
    slot: Slot;
    result: ProbeResult;
    counted: boolean;
    stallMs: number;
    active: boolean;
  }[] = [];
  let sender!: FakeSender;
  const scheduler = new ProbeScheduler<string>(
    { intervalMs: 100, timeoutMs: 100, transport: 'udp', maxQps: 1000, ...settings },
    opts.queries ?? [Q1],
    {
      sink: {
        onProbeResult: (slot, result, counted, stallMs) => {
          results.push({ slot, result, counted, stallMs, active: slot.active });
        },
      },
      lag: opts.lag ?? NO_LAG,
      sender: (onResult) =>
        (sender = new FakeSender(
          clock,
          onResult,
          'answerAfterMs' in opts ? opts.answerAfterMs : 1,
        )),
      now: clock.now,
      random: seeded(SEED + (opts.queries?.length ?? 0)),
      ...(opts.ns !== undefined ? { namespaceBucket: opts.ns } : {}),
    },
  );
  const run = (ms: number): void => {
    for (let i = 0; i < ms; i++) {
      clock.advance(1);
      sender.deliver();
    }
  };
  return { clock, scheduler, results, run, sender: () => sender };
}

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

describe('ProbeScheduler', () => {
  it('probes every target x query once per interval', () => {
    const { scheduler, run, sender } = setup({}, { queries: [Q1, Q2] });
    scheduler.setTargets([T(1), T(2)], (t) => t.key);
    scheduler.start();
    run(10_000);
    const counts = new Map<string, number>();
    for (const s of sender().sent)
      counts.set(`${s.target}/${s.query}`, (counts.get(`${s.target}/${s.query}`) ?? 0) + 1);
    expect(counts.size).toBe(4);
    for (const n of counts.values()) {
      expect(n).toBeGreaterThanOrEqual(97);
      expect(n).toBeLessThanOrEqual(101);
    }
    scheduler.stop();
    expect(sender().closed).toBe(true);
  });

  it('jitters the interval a little', () => {
    const { scheduler, run, sender } = setup();
    scheduler.setTargets([T(1)], (t) => t.key);
    scheduler.start();
    run(3000);
    const gaps = sender()
      .sent.slice(1)
      .map((s, i) => s.at - sender().sent[i]!.at);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(88);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(112);
    expect(new Set(gaps).size).toBeGreaterThan(1);
  });

  it('keeps at most one probe in flight per target x query, sending the late one as soon as the previous ends', () => {
    const { scheduler, run, sender } = setup({}, { answerAfterMs: 250, queries: [Q1, Q2] });
    scheduler.setTargets([T(1)], (t) => t.key);
    scheduler.start();
    run(5000);
    for (const n of sender().inFlightMax.values()) expect(n).toBe(1);
    expect(scheduler.stats.deferred).toBeGreaterThan(0);
    // One probe every ~250 ms per slot: the answer time, not the interval, paces it.
    expect(sender().sent.length).toBeGreaterThanOrEqual(2 * 18);
    expect(sender().sent.length).toBeLessThanOrEqual(2 * 21);
  });

  it('never exceeds maxQPS, and stretches the interval so every slot still gets its turn', () => {
    const { scheduler, run, sender } = setup({ maxQps: 20 }, { queries: [Q1, Q2] });
    scheduler.setTargets([1, 2, 3, 4, 5].map(T), (t) => t.key);
    scheduler.start();
    run(10_000);
    expect(scheduler.periodMs).toBe(500);
    expect(sender().sent.length).toBeLessThanOrEqual(20 * 10 + 2);
    const perSlot = new Map<string, number>();
    for (const s of sender().sent)
      perSlot.set(`${s.target}/${s.query}`, (perSlot.get(`${s.target}/${s.query}`) ?? 0) + 1);
    expect(perSlot.size).toBe(10);
    for (const n of perSlot.values()) expect(n).toBeGreaterThanOrEqual(15);
  });

  it('shares the namespace cap between DNSProbes', () => {
    const clock = new Clock();
    const buckets = new NamespaceBuckets(30, clock.now);
    const ns = buckets.get('kube-system');
    expect(buckets.get('kube-system')).toBe(ns);
    const a = setup({}, { ns, clock });
    const b = setup({}, { ns, clock });
    a.scheduler.setTargets([T(1), T(2)], (t) => t.key);
    b.scheduler.setTargets([T(3), T(4)], (t) => t.key);
    a.scheduler.start();
    b.scheduler.start();
    for (let i = 0; i < 5000; i++) {
      clock.ms++;
      jest.advanceTimersByTime(1);
      a.sender().deliver();
      b.sender().deliver();
    }
    const total = a.sender().sent.length + b.sender().sent.length;
    expect(total).toBeLessThanOrEqual(30 * 5 + 3);
    expect(total).toBeGreaterThanOrEqual(30 * 5 - 10);
    expect(a.scheduler.stats.throttled + b.scheduler.stats.throttled).toBeGreaterThan(0);
  });

  it('probes a new target within one interval and stops a removed one at once', () => {
    const { scheduler, run, sender, results } = setup({}, { answerAfterMs: 50 });
    scheduler.setTargets([T(1)], (t) => t.key);
    scheduler.start();
    run(1000);
    const addedAt = 1000;
    scheduler.setTargets([T(1), T(2)], (t) => t.key);
    run(100);
    const first = sender().sent.find((s) => s.target === T(2).key);
    expect(first).toBeDefined();
    expect(first!.at - addedAt).toBeLessThanOrEqual(100);
    scheduler.setTargets([T(1)], (t) => t.key);
    const removedAt = 1100;
    run(1000);
    expect(sender().sent.filter((s) => s.target === T(2).key && s.at > removedAt)).toEqual([]);
    // A result in flight for the removed target is dropped, not reported.
    expect(
      results.filter((r) => r.slot.target.key === T(2).key && r.result.rttMs > 0).length,
    ).toBeLessThanOrEqual(2);
    expect(results.every((r) => r.active)).toBe(true);
  });

  it('does not send a probe that would go out later than half the timeout', () => {
    const { scheduler, clock, run, results, sender } = setup({}, { answerAfterMs: 1 });
    scheduler.setTargets([T(1)], (t) => t.key);
    scheduler.start();
    run(500);
    // The clock jumps 80 ms without timers running: the event loop was stuck, so the next due
    // probe fires 80 ms late and is re-phased instead of sent.
    clock.skewMs += 80;
    run(100);
    expect(scheduler.stats.lateRephased).toBe(1);
    const before = sender().sent.length;
    run(300);
    expect(sender().sent.length).toBeGreaterThan(before);
    expect(results.every((r) => r.counted)).toBe(true);
  });

  it('does not count a probe that overlapped a long loop stall, and reports the stall to the sink', () => {
    let stall = 0;
    const lag: LagSource = { maxStallSince: () => stall };
    const { scheduler, run, results } = setup({}, { lag });
    scheduler.setTargets([T(1)], (t) => t.key);
    scheduler.start();
    run(300);
    stall = 20;
    run(200);
    stall = 70;
    run(200);
    const small = results.filter((r) => r.counted && r.stallMs > 0);
    const big = results.filter((r) => !r.counted);
    expect(small.length).toBeGreaterThan(0);
    expect(big.length).toBeGreaterThan(0);
    expect(big.every((r) => r.stallMs === 70)).toBe(true);
  });

  it('after a long stall spreads the missed probes over one period instead of bursting', () => {
    const { scheduler, clock, run, sender } = setup({}, { queries: [Q1, Q2] });
    scheduler.setTargets([1, 2, 3, 4, 5].map(T), (t) => t.key);
    scheduler.start();
    run(1000);
    const before = sender().sent.length;
    clock.skewMs += 2000;
    run(210);
    // Every slot was overdue: none was sent late, each was re-phased over the next period.
    expect(scheduler.stats.lateRephased).toBe(10);
    const after = sender().sent.slice(before);
    expect(after.length).toBeGreaterThanOrEqual(10);
    const perMs = new Map<number, number>();
    for (const s of after) perMs.set(s.at, (perMs.get(s.at) ?? 0) + 1);
    expect(Math.max(...perMs.values())).toBeLessThanOrEqual(3);
  });
});

describe('TokenBucket', () => {
  it('refills at its rate up to its burst', () => {
    const b = new TokenBucket(10, 2, 0);
    expect(b.tryTake(0)).toBe(true);
    expect(b.tryTake(0)).toBe(true);
    expect(b.tryTake(0)).toBe(false);
    expect(b.tryTake(99)).toBe(false);
    expect(b.tryTake(100)).toBe(true);
    expect(b.available(10_000)).toBe(2);
  });

  it('takeAll takes from both buckets or neither', () => {
    const a = new TokenBucket(1, 1, 0);
    const b = new TokenBucket(1, 1, 0);
    b.tryTake(0);
    expect(TokenBucket.takeAll(0, a, b)).toBe(false);
    expect(a.available(0)).toBe(1);
    expect(TokenBucket.takeAll(1000, a, b)).toBe(true);
    expect(a.available(1000)).toBe(0);
    expect(b.available(1000)).toBe(0);
  });
});

describe('TokenBucket parents and the cluster budget', () => {
  it('a bucket with a parent needs a token from both', () => {
    const parent = new TokenBucket(1, 1, 0);
    const child = new TokenBucket(10, 5, 0, [parent]);
    expect(child.tryTake(0)).toBe(true);
    expect(child.available(0)).toBe(0);
    expect(child.tryTake(0)).toBe(false);
    expect(child.tryTake(1000)).toBe(true);
    expect(parent.available(1000)).toBe(0);
  });

  it('--probe-cluster-max-qps caps all namespaces; tenants together get at most half', () => {
    let now = 0;
    const buckets = new NamespaceBuckets(1000, () => now, {
      ratePerSec: 100,
      trusted: (ns) => ns === 'kube-system',
    });
    const tenants = ['a', 'b', 'c', 'd', 'e'].map((ns) => buckets.get(ns));
    const system = buckets.get('kube-system');
    let tenantTokens = 0;
    let systemTokens = 0;
    // Every namespace asks for a token every millisecond for 10 s, tenants first.
    for (now = 0; now < 10_000; now++) {
      for (const t of tenants) if (t.tryTake(now)) tenantTokens++;
      if (system.tryTake(now)) systemTokens++;
    }
    // 100/s over 10 s, plus the initial bursts (10 each).
    expect(tenantTokens + systemTokens).toBeLessThanOrEqual(100 * 10 + 10);
    expect(tenantTokens).toBeLessThanOrEqual(50 * 10 + 5);
    expect(systemTokens).toBeGreaterThanOrEqual(50 * 10 - 10);
  });

  it('without a cluster budget, namespaces are independent (as before)', () => {
    const buckets = new NamespaceBuckets(1, () => 0);
    expect(buckets.get('a').tryTake(0)).toBe(true);
    expect(buckets.get('b').tryTake(0)).toBe(true);
  });
});

describe('LoopLagMonitor', () => {
  it('logs a stall that ends after a probe was sent', async () => {
    jest.useRealTimers();
    const monitor = new LoopLagMonitor({ sampleMs: 5 });
    monitor.start();
    await new Promise((r) => setTimeout(r, 20));
    const sentAt = process.hrtime.bigint();
    const until = Date.now() + 60;
    while (Date.now() < until) {
      // busy: the event loop is stuck
    }
    await new Promise((r) => setTimeout(r, 20));
    expect(monitor.maxStallSince(sentAt)).toBeGreaterThanOrEqual(30);
    expect(monitor.maxStallSince(process.hrtime.bigint())).toBe(0);
    monitor.stop();
  });
});

describe('serverRttMs', () => {
  it.each([
    [40, 0, 40],
    [40, 10, 30],
    [40, 20, undefined],
    [0.4, 5, undefined],
  ])('measured %d ms with a %d ms stall of our own -> %s', (measured, stall, expected) => {
    expect(serverRttMs(measured, stall)).toBe(expected);
  });
});
