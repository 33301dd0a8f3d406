import { ReadinessChecker, type ReadinessAnswer } from './readiness';

/** The checker's defaults in these tests: checks only when asked (a long period). */
const OPTIONS = {
  port: 8181,
  path: '/ready',
  timeoutMs: 100,
  periodMs: 60_000,
  confirmApartMs: 100,
} as const;

describe('ReadinessChecker', () => {
  it("asks each pod at its own ready endpoint, else at the checker's default", async () => {
    const asked: string[] = [];
    const checker = new ReadinessChecker({
      ...OPTIONS,
      check: (url) => {
        asked.push(url);
        return Promise.resolve(true);
      },
    });
    checker.setTargets([
      { key: 'a', address: '10.0.0.1', port: 8282, path: '/health-ready' },
      { key: 'b', address: 'fd00::2' },
    ]);
    checker.start();
    await new Promise((r) => setImmediate(r));
    checker.stop();
    expect(asked.sort()).toEqual([
      'http://10.0.0.1:8282/health-ready',
      'http://[fd00::2]:8181/ready',
    ]);
    expect(checker.get('a')).toBe(true);
  });

  it('a changed endpoint is checked afresh', async () => {
    const asked: string[] = [];
    const checker = new ReadinessChecker({
      ...OPTIONS,
      check: (url) => {
        asked.push(url);
        return Promise.resolve(false);
      },
    });
    checker.start();
    checker.setTargets([{ key: 'a', address: '10.0.0.1', port: 8181, path: '/ready' }]);
    await new Promise((r) => setImmediate(r));
    checker.setTargets([{ key: 'a', address: '10.0.0.1', port: 9000, path: '/ready' }]);
    await new Promise((r) => setImmediate(r));
    checker.stop();
    expect(asked).toEqual(['http://10.0.0.1:8181/ready', 'http://10.0.0.1:9000/ready']);
  });
});

describe('ReadinessChecker: "not ready" is evidence about the pod, not our own starvation', () => {
  /** A checker whose checks answer from `answers` in turn, on a fake clock and fake lag. */
  function rig(answers: ReadinessAnswer[], stallMs: number[]) {
    let nowNs = 0n;
    const changes: boolean[] = [];
    let asked = 0;
    const checker = new ReadinessChecker({
      ...OPTIONS,
      nowNs: () => nowNs,
      // The stall seen across the check in turn (the loop-lag monitor's answer).
      lag: { maxStallSince: () => stallMs[Math.max(0, asked - 1)] ?? 0 },
      onChange: (_key, ready) => changes.push(ready),
      check: () => {
        const answer = answers[asked++] ?? true;
        // Each check takes its deadline (a timeout) or 5 ms on the fake clock.
        nowNs += BigInt((answer === 'timeout' ? 100 : 5) * 1e6);
        return Promise.resolve(answer);
      },
    });
    checker.setTargets([{ key: 'a', address: '10.0.0.1' }]);
    return { checker, changes, asked: (): number => asked };
  }
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  };
  /** A first check when started, then one asked now (a pod's first failed probe). */
  const round = async (checker: ReadinessChecker): Promise<void> => {
    checker.start();
    await settle();
    checker.checkNow('a');
    await settle();
    checker.stop();
  };

  it('a timeout across which our own loop stalled leaves a ready pod ready (no eviction)', async () => {
    const { checker, changes } = rig([true, 'timeout', 'timeout', 'timeout'], [0, 731, 60, 90]);
    await round(checker);
    expect(checker.get('a')).toBe(true);
    expect(changes).toEqual([true]);
  });

  it('a genuinely hung pod (no answer, our loop healthy) is not ready after a confirming check', async () => {
    const { checker, changes, asked } = rig([true, 'timeout', 'timeout'], [0, 0, 0]);
    await round(checker);
    expect(asked()).toBe(3); // the confirmation was asked at once, not a period later
    expect(checker.get('a')).toBe(false);
    expect(changes).toEqual([true, false]);
  });

  it('one unanswered check is not enough: the pod answering the confirmation stays ready', async () => {
    const { checker, changes } = rig([true, 'timeout', true], [0, 0, 0]);
    await round(checker);
    expect(checker.get('a')).toBe(true);
    expect(changes).toEqual([true]);
  });

  it('an answer other than 200 (503 from the ready plugin) is not ready at once', async () => {
    const { checker, changes, asked } = rig([true, false], [0, 0]);
    await round(checker);
    expect(asked()).toBe(2);
    expect(changes).toEqual([true, false]);
  });
});

describe('ReadinessChecker: adaptive deadline', () => {
  /** Checks on a fake clock: each takes `rttMs` (an answer) or its whole deadline (`hung`). */
  function rig(confirmApartMs: number) {
    let nowNs = 0n;
    const state = { rttMs: 5, hung: false };
    const deadlines: number[] = [];
    const changes: boolean[] = [];
    const checker = new ReadinessChecker({
      ...OPTIONS,
      adaptive: true,
      confirmApartMs,
      nowNs: () => nowNs,
      onChange: (_key, ready) => changes.push(ready),
      check: (_url, timeoutMs) => {
        deadlines.push(timeoutMs);
        nowNs += BigInt(Math.round((state.hung ? timeoutMs : state.rttMs) * 1e6));
        return Promise.resolve(state.hung ? 'timeout' : true);
      },
    });
    checker.setTargets([{ key: 'a', address: '10.0.0.1' }]);
    checker.start();
    const ask = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) {
        checker.checkNow('a');
        for (let j = 0; j < 20; j++) await new Promise((r) => setImmediate(r));
      }
    };
    return { checker, state, deadlines, changes, ask };
  }

  it("each check's deadline is 3 x the p99 of the pod's answers, never below 20 ms nor above the timeout", async () => {
    const { checker, state, deadlines, ask } = rig(50);
    await ask(8);
    expect(deadlines[0]).toBe(100); // nothing learnt yet
    expect(deadlines.at(-1)).toBe(20); // 3 x 5 ms is under the floor
    state.rttMs = 30;
    await ask(8);
    expect(deadlines.at(-1)).toBe(90);
    state.rttMs = 60;
    await ask(8);
    expect(deadlines.at(-1)).toBe(100);
    checker.stop();
  });

  it('a hung pod is not ready once checks at its short deadline went unanswered confirmApart apart', async () => {
    const { checker, state, deadlines, changes, ask } = rig(50);
    await ask(8);
    const before = deadlines.length;
    state.hung = true;
    await ask(1);
    // 20 ms checks asked back to back: the one begun 60 ms after the first (>= 50) decides.
    expect(deadlines.slice(before)).toEqual([20, 20, 20, 20]);
    expect(checker.get('a')).toBe(false);
    expect(changes).toEqual([true, false]);
    checker.stop();
  });
});
