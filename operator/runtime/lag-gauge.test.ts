import { BUSY_MS, LagGauge, QUIET_MS, TICK_MS, type LagSources } from './lag-gauge';

/** Sources driven by hand: a clock, the loop's active time, the fine monitor's max, GC pauses. */
function fakeSources(): LagSources & {
  at: number;
  active: number;
  fineMax: number;
  fineOn: boolean;
  gc: (ms: number) => void;
} {
  let gcListener: ((ms: number) => void) | undefined;
  const s = {
    at: 0,
    active: 0,
    fineMax: 0,
    fineOn: false,
    now: () => s.at,
    utilization: () => ({ active: s.active }),
    fine: {
      enable: () => (s.fineOn = true),
      disable: () => (s.fineOn = false),
      maxMs: () => s.fineMax,
      reset: () => (s.fineMax = 0),
    },
    onGcPause: (listener: (ms: number) => void) => {
      gcListener = listener;
      return () => (gcListener = undefined);
    },
    gc: (ms: number) => gcListener?.(ms),
  };
  return s;
}

describe('LagGauge', () => {
  let gauge: LagGauge;
  afterEach(() => gauge.stop());

  const setup = (): {
    src: ReturnType<typeof fakeSources>;
    set: number[];
    tick: () => void;
    /** `seconds` ticks with `workMs` of loop work in each. */
    work: (seconds: number, workMs: number) => void;
  } => {
    const src = fakeSources();
    const set: number[] = [];
    gauge = new LagGauge((s) => set.push(s), src);
    gauge.start();
    const tick = (): void => {
      src.at += TICK_MS;
      gauge.tick();
    };
    return {
      src,
      set,
      tick,
      work: (seconds, workMs) => {
        for (let i = 0; i < seconds; i++) {
          src.active += workMs;
          tick();
        }
      },
    };
  };

  it('an idle loop runs no fine monitor and reads 0 every five seconds', () => {
    const { src, set, tick } = setup();
    for (let i = 0; i < 10; i++) tick();
    expect(src.fineOn).toBe(false);
    expect(set).toEqual([0, 0]);
  });

  it('a lone busy second leaves the fine monitor off; two in a row turn it on until the loop is quiet', () => {
    const { src, set, tick } = setup();
    src.active += BUSY_MS + 1;
    tick();
    expect(src.fineOn).toBe(false);
    tick();
    src.active += BUSY_MS + 1;
    tick();
    expect(src.fineOn).toBe(false);
    src.active += BUSY_MS + 1;
    tick();
    expect(src.fineOn).toBe(true);
    src.fineMax = 120;
    tick();
    tick();
    tick();
    tick();
    expect(set).toEqual([0.12]);
    // Quiet: on until QUIET_MS after the busy tick, then off.
    for (let t = TICK_MS; t < QUIET_MS - 4 * TICK_MS; t += TICK_MS) tick();
    expect(src.fineOn).toBe(true);
    tick();
    expect(src.fineOn).toBe(false);
    // A monitor that is off is not read.
    src.fineMax = 500;
    for (let i = 0; i < 5; i++) tick();
    expect(set.at(-1)).toBe(0);
  });

  it('exactly BUSY_MS of work a second is not busy, however many seconds in a row', () => {
    const { src, work } = setup();
    work(3, BUSY_MS);
    expect(src.fineOn).toBe(false);
  });

  it('the fine monitor’s own wake-ups do not keep it on in an idle process', () => {
    const { src, tick, work } = setup();
    work(2, BUSY_MS + 1);
    expect(src.fineOn).toBe(true);
    // While on, its 100 wake-ups a second are loop time too: 10 ms a second, twice what they
    // cost on this machine (a threshold under that kept the monitor on for good).
    const ownCost = 10;
    for (let t = 0; t < QUIET_MS + TICK_MS; t += TICK_MS) {
      if (src.fineOn) src.active += ownCost;
      tick();
    }
    expect(src.fineOn).toBe(false);
  });

  it('reads a stall that holds up the coarse tick, and GC pauses, with the fine monitor off', () => {
    const { src, set, tick } = setup();
    src.at += 300; // the tick ran 300 ms late
    tick();
    src.gc(40);
    tick();
    tick();
    tick();
    tick();
    expect(src.fineOn).toBe(false);
    expect(set).toEqual([0.3]);
    src.gc(40);
    for (let i = 0; i < 5; i++) tick();
    expect(set).toEqual([0.3, 0.04]);
  });

  it('stop turns the fine monitor off and stops listening to GC', () => {
    const { src, work } = setup();
    work(2, BUSY_MS + 1);
    expect(src.fineOn).toBe(true);
    gauge.stop();
    expect(src.fineOn).toBe(false);
  });
});
