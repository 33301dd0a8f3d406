/**
 * The engine's speed rules (DESIGN.md, DNSProbe "Speed") on a virtual clock: a fake sender that
 * honours each probe's deadline and hard deadline the way the Resolver does, Jest's fake timers,
 * seeded randomness. Times here are virtual, so the assertions are exact, never wall-clock races.
 */
import { DEADLINE_LIMITS } from './deadline';
import { ProbeEngine, type TargetChange } from './engine';
import { NO_LAG, type LagSource } from './loop-lag';
import type { PreparedQuery } from './query';
import type { ProbeDeadline, ProbeResult, ProbeTarget, ResultHandler } from './resolver';
import { makeTarget } from './resolver';
import type { ProbeSender, ProbeSlot } from './scheduler';
import { probeSettings, type PartialSpec } from './settings';
import type { TargetEntry } from './engine';

type Slot = ProbeSlot<TargetEntry>;

/** A server on a virtual clock: answers after `rttMs`, or never while `hung`. */
class VirtualServer implements ProbeSender<Slot> {
  rttMs = 0.5;
  hung = false;
  /** Targets (keys) that are hung while the others answer. */
  readonly hungTargets = new Set<string>();
  readonly sent: { at: number; deadlineMs: number; target: string }[] = [];
  #events: { at: number; fire: () => void }[] = [];
  constructor(
    readonly now: () => number,
    readonly onResult: ResultHandler<Slot>,
  ) {}

  query(
    target: ProbeTarget,
    _query: PreparedQuery,
    deadline: ProbeDeadline,
    _t: 'udp' | 'tcp',
    slot: Slot,
  ): void {
    const at = this.now();
    const ms = typeof deadline === 'number' ? deadline : deadline.ms;
    const hardMs = typeof deadline === 'number' ? deadline : deadline.hardMs;
    this.sent.push({ at, deadlineMs: ms, target: target.key });
    const base = { answers: 1, tcp: false, timerLateMs: 0, sentAtNs: BigInt(Math.round(at * 1e6)) };
    const result = (outcome: ProbeResult['outcome'], rttMs: number, late = false): ProbeResult => ({
      ...base,
      outcome,
      rttMs,
      deadlineMs: ms,
      ...(late ? { late: true as const } : {}),
    });
    if (this.hung || this.hungTargets.has(target.key)) {
      const held = { at, hardMs, slot, ms, answered: false };
      this.#at(at + ms, () => {
        if (!held.answered) this.onResult(slot, result('timeout', ms));
      });
      this.#held.push(held);
      return;
    }
    const rtt = this.rttMs;
    if (rtt <= ms) {
      this.#at(at + rtt, () => this.onResult(slot, result('success', rtt)));
      return;
    }
    this.#at(at + ms, () => this.onResult(slot, result('timeout', ms)));
    if (rtt <= hardMs) this.#at(at + rtt, () => this.onResult(slot, result('success', rtt, true)));
  }

  readonly #held: { at: number; hardMs: number; slot: Slot; ms: number; answered: boolean }[] = [];

  /**
   * A hung server resumes: the queries it held are answered now (on time if their deadline has
   * not passed, else late if still awaited).
   */
  releaseHeld(now: number): void {
    for (const h of this.#held.splice(0)) {
      if (now - h.at > h.hardMs) continue;
      const onTime = now - h.at < h.ms;
      if (onTime) h.answered = true;
      const late: ProbeResult = {
        outcome: 'success',
        rttMs: now - h.at,
        answers: 1,
        tcp: false,
        timerLateMs: 0,
        sentAtNs: BigInt(Math.round(h.at * 1e6)),
        deadlineMs: h.ms,
        ...(onTime ? {} : { late: true as const }),
      };
      this.#at(now, () => this.onResult(h.slot, late));
    }
  }

  #at(at: number, fire: () => void): void {
    this.#events.push({ at, fire });
  }

  /** Delivers what is due by now. */
  deliver(): void {
    const now = this.now();
    const due = this.#events.filter((e) => e.at <= now).sort((a, b) => a.at - b.at);
    this.#events = this.#events.filter((e) => e.at > now);
    for (const e of due) e.fire();
  }

  close(): void {
    this.#events = [];
  }
}

/** Deterministic randomness (mulberry32). */
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

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

function setup(spec: PartialSpec = {}, seed = 7, lag: LagSource = NO_LAG, pods = 1) {
  let ms = 0;
  const now = (): number => ms;
  let server!: VirtualServer;
  const changes: { at: number; change: TargetChange }[] = [];
  /** When each assessment ran. */
  const assessedAt: number[] = [];
  const engine = new ProbeEngine({
    settings: probeSettings({
      queries: [{ name: 'kubernetes.default.svc.cluster.local' }],
      ...spec,
    }),
    lag,
    now,
    random: seeded(seed),
    sender: (onResult) => (server = new VirtualServer(now, onResult)),
    onAssessment: (_a, cs) => {
      assessedAt.push(ms);
      for (const change of cs) changes.push({ at: ms, change });
    },
  });
  engine.setTargets(
    Array.from({ length: pods }, (_, i) => {
      const target = makeTarget(`10.244.0.${7 + i}`, 53);
      return { target, identity: { key: target.key, address: target.key, kind: 'Pod' as const } };
    }),
  );
  engine.start();
  /** Advances the virtual clock `n` ms, 0.25 ms at a time (RTTs are sub-millisecond). */
  const run = (n: number): void => {
    for (let i = 0; i < n * 4; i++) {
      ms += 0.25;
      jest.advanceTimersByTime(0.25);
      server.deliver();
    }
  };
  const stateAt = (state: string, after: number): number | undefined =>
    changes.find((c) => c.at >= after && c.change.to === state)?.at;
  return { engine, run, server: () => server, changes, stateAt, now, assessedAt };
}

describe('ProbeEngine speed (adaptive deadlines, confirmation probes)', () => {
  it('a hung server is Failing after one interval plus three short deadlines, not three intervals', () => {
    const detect: number[] = [];
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const { engine, run, server, stateAt, now } = setup({}, seed);
      run(3000);
      expect(engine.entries()[0]!.deadline.ms).toBe(DEADLINE_LIMITS.floorMs);
      // Hang at a phase that differs per seed.
      run(seed * 11);
      const hungAt = now();
      server().hung = true;
      run(400);
      const failingAt = stateAt('Failing', hungAt);
      expect(failingAt).toBeDefined();
      detect.push(failingAt! - hungAt);
      // The probes after the hang: one on schedule, two confirmations at once.
      const after = server().sent.filter((s) => s.at >= hungAt && s.at <= failingAt!);
      expect(after.map((s) => s.deadlineMs)).toEqual([12, 12, 12]);
      expect(engine.scheduler.stats.confirmations).toBe(2);
      engine.stop();
    }
    // The wait for the next scheduled probe (interval + 2% jitter) plus 3 x the 12 ms floor.
    for (const d of detect) expect(d).toBeLessThanOrEqual(102 + 3 * 12 + 1);
    expect(Math.min(...detect)).toBeLessThan(3 * 12 + 40);
  });

  it('without adaptiveTimeout it takes the timeout per probe and no confirmations (the old schedule)', () => {
    const { engine, run, server, stateAt, now } = setup({ adaptiveTimeout: false });
    run(3000);
    const hungAt = now();
    server().hung = true;
    run(600);
    const failingAt = stateAt('Failing', hungAt)!;
    expect(failingAt - hungAt).toBeGreaterThanOrEqual(300);
    expect(engine.scheduler.stats.confirmations).toBe(0);
    engine.stop();
  });

  it('a server that slows down (but answers within timeout) is never Failing; its deadline follows', () => {
    const { engine, run, server, stateAt, now } = setup();
    run(3000);
    const slowAt = now();
    server().rttMs = 30;
    run(5000);
    expect(stateAt('Failing', slowAt)).toBeUndefined();
    expect(engine.scheduler.stats.lateAnswers).toBeGreaterThanOrEqual(2);
    const deadline = engine.entries()[0]!.deadline.ms;
    expect(deadline).toBeGreaterThanOrEqual(30);
    expect(deadline).toBeLessThanOrEqual(100);
    // Answers on time again.
    const late = engine.scheduler.stats.lateAnswers;
    run(1000);
    expect(engine.scheduler.stats.lateAnswers).toBe(late);
    engine.stop();
  });

  it('a server slower than three deadlines looks hung for a moment; its late answer withdraws Failing', () => {
    const { engine, run, server, changes, now } = setup();
    run(3000);
    const slowAt = now();
    server().rttMs = 45;
    run(3000);
    const entered = changes.filter((c) => c.at >= slowAt && c.change.to === 'Failing');
    const left = changes.filter((c) => c.at >= slowAt && c.change.from === 'Failing');
    expect(entered.length).toBe(1);
    expect(left.length).toBe(entered.length);
    // Withdrawn as soon as the first probe's answer comes (45 ms after its send, 9 ms after the
    // third 12 ms deadline), not after three on-time answers.
    expect(left[0]!.at - entered[0]!.at).toBeLessThanOrEqual(10);
    expect(engine.entries()[0]!.window.failing).toBe(false);
    expect(engine.entries()[0]!.deadline.ms).toBeGreaterThanOrEqual(45);
    engine.stop();
  });

  it('a late answer to a timeout that lag kept out of the counts does not count either', () => {
    let stallMs = 0;
    const { engine, run, server, now } = setup({}, 7, { maxStallSince: () => stallMs });
    run(2000);
    // Our own loop stalls (10 ms > half the 12 ms deadline) while the server slows to 30 ms:
    // every timeout is excluded, and so must be its late answer.
    stallMs = 10;
    server().rttMs = 30;
    run(2000);
    const w = engine.entries()[0]!.window.snapshot(now());
    expect(engine.scheduler.stats.lateAnswers).toBeGreaterThan(5);
    expect(w.window.success).toBeLessThanOrEqual(w.window.total);
    engine.stop();
  });

  it('hangs that end do not teach the deadline: the next hang is caught as fast', () => {
    const { engine, run, server, now, stateAt } = setup();
    run(2000);
    for (let i = 0; i < 3; i++) {
      server().hung = true;
      run(200);
      // Resumed: the probes still open are answered late, with the hang's length as their RTT,
      // and the next answer comes from the backlog (slow, yet within its deadline) while the
      // target is still Failing.
      server().hung = false;
      server().releaseHeld(now());
      server().rttMs = 11;
      run(120);
      server().rttMs = 0.5;
      run(1000);
    }
    expect(engine.entries()[0]!.deadline.ms).toBe(DEADLINE_LIMITS.floorMs);
    const hungAt = now();
    server().hung = true;
    run(300);
    expect(stateAt('Failing', hungAt)! - hungAt).toBeLessThanOrEqual(102 + 3 * 12 + 1);
    engine.stop();
  });

  it('a failure our own lag kept out of the counts is asked again at once, not an interval later', () => {
    let stallMs = 0;
    const { engine, run, server, now, stateAt } = setup({}, 7, { maxStallSince: () => stallMs });
    run(2000);
    const hungAt = now();
    server().hung = true;
    // The loop stalls while the first probe after the hang is out: that timeout does not count.
    const sentBefore = server().sent.length;
    while (server().sent.length === sentBefore) run(1);
    stallMs = 10;
    run(13);
    stallMs = 0;
    run(300);
    expect(engine.scheduler.stats.lagExcluded).toBe(1);
    expect(stateAt('Failing', hungAt)! - hungAt).toBeLessThanOrEqual(102 + 4 * 12 + 2);
    engine.stop();
  });

  it('after a stall of an interval or more, no burst of retries: the missed probes spread out', () => {
    let stallMs = 0;
    const { engine, run, server } = setup({}, 7, { maxStallSince: () => stallMs });
    run(2000);
    server().hung = true;
    const sentBefore = server().sent.length;
    while (server().sent.length === sentBefore) run(1);
    stallMs = 150;
    run(13);
    expect(engine.scheduler.stats.lagExcluded).toBe(1);
    expect(server().sent.length).toBe(sentBefore + 1);
    engine.stop();
  });

  it('leaves Failing only after recoverySuccesses answers, at the normal interval', () => {
    const { engine, run, server, changes, now } = setup();
    run(2000);
    server().hung = true;
    run(300);
    const resumedAt = now();
    server().hung = false;
    run(1000);
    // Out of Failing (to Degraded: the short window still holds the failures).
    const left = changes.find((c) => c.at >= resumedAt && c.change.from === 'Failing')?.at;
    expect(left).toBeDefined();
    // Three on-time answers, one per interval: at least two intervals after the resume.
    expect(left! - resumedAt).toBeGreaterThanOrEqual(2 * 98);
    engine.stop();
  });

  it('assesses at once when another pod answers after one began Failing, not at the next tick', () => {
    const { engine, run, server, stateAt, now, assessedAt } = setup({}, 3, NO_LAG, 2);
    run(2000);
    const [hung, other] = engine.entries().map((e) => e.target.key);
    const hungAt = now();
    server().hungTargets.add(hung!);
    run(300);
    const failingAt = stateAt('Failing', hungAt)!;
    // The other pod's first answer after that (sent after it, answered 0.5 ms later).
    const asked = server().sent.find((s) => s.target === other && s.at > failingAt)!;
    const answeredAt = asked.at + 0.5;
    expect(assessedAt.some((t) => t >= answeredAt && t <= answeredAt + 0.5)).toBe(true);
    // Once per pod and episode, not at probe rate: after it, only the 100 ms ticks.
    const extra = assessedAt.filter((t) => t > answeredAt + 0.5 && t % 100 !== 0);
    expect(extra).toEqual([]);
    engine.stop();
  });

  it('a target that came back by itself from long silences is not Failing at the next one; a minute later that is forgotten', () => {
    const { engine, run, server, now, stateAt } = setup();
    const entry = engine.entries()[0]!;
    /** Silent for `ms` from just before a scheduled probe, then answering (held queries too). */
    const silence = (ms: number): number => {
      const n = server().sent.length;
      while (server().sent.length === n) run(0.25);
      run(95);
      const at = now();
      server().hung = true;
      run(ms);
      server().hung = false;
      server().releaseHeld(now());
      run(1000);
      return at;
    };
    run(3000);
    // Noisy answers (30 ms) raise the deadline to 90 ms: three deadlines are 270 ms.
    server().rttMs = 30;
    run(2000);
    server().rttMs = 0.5;
    run(500);
    expect(entry.deadline.ms).toBe(90);
    const first = silence(260);
    expect(stateAt('Failing', first)).toBeUndefined();
    expect(entry.tolerance.ms(now())).toBeGreaterThanOrEqual(1.5 * 250);
    // Longer than three deadlines, shorter than what it came back from x 1.5: not Failing.
    const second = silence(340);
    expect(stateAt('Failing', second)).toBeUndefined();
    // A hang: Failing once the silence passes the tolerance, not at three deadlines.
    const tolerance = entry.tolerance.ms(now());
    const hungAt = now();
    server().hung = true;
    run(1000);
    const failingAt = stateAt('Failing', hungAt)! - hungAt;
    expect(failingAt).toBeGreaterThanOrEqual(tolerance);
    expect(failingAt).toBeLessThanOrEqual(tolerance + 102 + 90 + 1);
    server().hung = false;
    run(70_000);
    // A quiet minute later: the deadline and the tolerance have forgotten.
    expect(entry.deadline.ms).toBe(DEADLINE_LIMITS.floorMs);
    expect(entry.tolerance.ms(now())).toBe(0);
    const again = now();
    server().hung = true;
    run(300);
    expect(stateAt('Failing', again)! - again).toBeLessThanOrEqual(102 + 3 * 12 + 1);
    engine.stop();
  });

  describe('with many queries (probes milliseconds apart)', () => {
    const many = { queries: Array.from({ length: 25 }, (_, i) => ({ name: `q${i}.soak.test` })) };

    it('a stall shorter than three deadlines is one silence, never Failing; a hang is Failing at three', () => {
      const { engine, run, server, now, stateAt } = setup(many);
      run(3000);
      const d = engine.entries()[0]!.deadline.ms;
      expect(d).toBe(DEADLINE_LIMITS.floorMs);
      // A stall of two deadlines less a millisecond: the probes sent in its first half (three,
      // 4 ms apart) time out, those sent later are answered in time when it ends.
      const stallAt = now();
      const confirmationsBefore = engine.scheduler.stats.confirmations;
      server().hung = true;
      run(2 * d - 1);
      server().hung = false;
      server().releaseHeld(now());
      run(1000);
      expect(engine.scheduler.stats.confirmations - confirmationsBefore).toBeGreaterThanOrEqual(3);
      expect(stateAt('Failing', stallAt)).toBeUndefined();
      // The stall's late answers taught the deadline; a hang is Failing after three of them.
      const d2 = engine.entries()[0]!.deadline.ms;
      const hungAt = now();
      server().hung = true;
      run(400);
      // The next probe goes within 4 ms; Failing once a timeout covers three deadlines of
      // silence from that probe's send, not one deadline and the 8 ms two more probes took.
      const failingAt = stateAt('Failing', hungAt)! - hungAt;
      expect(failingAt).toBeGreaterThanOrEqual(3 * d2);
      expect(failingAt).toBeLessThanOrEqual(4 + 3 * d2 + 1);
      engine.stop();
    });

    it("the deadline remembers a minute of the target's worst RTT per interval, not 600 answers", () => {
      const { engine, run, server } = setup(many);
      run(3000);
      // Two slow intervals (every query answered in 20 ms), then fast again for 3 s: 750 answers,
      // 30 intervals. The two stragglers still set the deadline.
      server().rttMs = 20;
      run(200);
      server().rttMs = 0.5;
      run(3000);
      expect(engine.entries()[0]!.deadline.ms).toBeGreaterThanOrEqual(3 * 20);
      engine.stop();
    });
  });

  it('uses the timeout as the deadline until a target has answered once', () => {
    const { engine, run, server } = setup();
    server().hung = true;
    run(1000);
    expect(server().sent[0]!.deadlineMs).toBe(100);
    expect(engine.entries()[0]!.deadline.ms).toBe(100);
    engine.stop();
  });
});
