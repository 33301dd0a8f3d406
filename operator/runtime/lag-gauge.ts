/**
 * dnsop_event_loop_lag_seconds without waking an idle process 100 times a second (issue 14).
 *
 * A 10 ms perf_hooks monitor cost ~0.3-0.5 % of a core on the shared 2-core machine by itself, in
 * a process that otherwise sleeps: more than the whole idle goal (0.2 %). Stalls come from work,
 * so the fine monitor runs only while there is some:
 * - every second a coarse tick reads the event loop's utilisation (perf_hooks ELU, no extra
 *   wake-up); when the loop was busy for more than BUSY_MS in two seconds in a row, the 10 ms
 *   monitor is enabled and stays on until the loop has been quiet for QUIET_MS;
 * - the coarse tick's own lateness is a lag sample too (a stall that holds it up is seen at any
 *   time, to within its second), and so is every GC pause (a perf_hooks 'gc' observer, which costs
 *   nothing between collections: an idle-time major GC is the stall an idle process has);
 * - every WINDOW_MS the gauge is set to the largest of these over the window, and they reset.
 * A lone stall shorter than a second that starts and ends between two coarse ticks of an idle
 * process, and is not a GC, is the one thing read low (as the coarse tick's lateness).
 */
import {
  monitorEventLoopDelay,
  performance,
  PerformanceObserver,
  type EventLoopUtilization,
} from 'node:perf_hooks';

/** What the gauge reads; injectable so tests drive it without timers. */
export interface LagSources {
  /** Monotonic ms. */
  now(): number;
  /** Cumulative event-loop utilisation (performance.eventLoopUtilization()). */
  utilization(): Pick<EventLoopUtilization, 'active'>;
  /** The fine monitor: enable/disable, and the largest delay seen since reset, in ms. */
  readonly fine: { enable(): void; disable(): void; maxMs(): number; reset(): void };
  /** Subscribes to GC pauses (ms); returns the unsubscribe. */
  onGcPause(listener: (ms: number) => void): () => void;
}

export const TICK_MS = 1_000;
/** The fine monitor's period. */
export const FINE_MS = 10;
export const WINDOW_MS = 5_000;
/**
 * More active time than this in one tick (of 1 s) turns the fine monitor on. Well above what the
 * monitor's own 100 wake-ups a second cost the loop (~3-5 ms a second measured here, more on a
 * loaded machine): at 5 ms the monitor kept itself on in an idle process. Below it, a second's
 * work cannot have held the loop for longer than this, so little goes unmeasured.
 */
export const BUSY_MS = 25;
/** The fine monitor goes off after this long without a busy tick. */
export const QUIET_MS = 5_000;

export class LagGauge {
  readonly #sources: LagSources;
  readonly #set: (seconds: number) => void;
  #lastActive = 0;
  #lastTick = 0;
  #windowStart = 0;
  #windowMaxMs = 0;
  #busyUntil = -Infinity;
  /** Whether the tick before this one was busy. */
  #busyBefore = false;
  #fineOn = false;
  #timer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;

  /** `set` receives the lag of each window, in seconds (the gauge's setter). */
  constructor(set: (seconds: number) => void, sources: LagSources = nodeLagSources()) {
    this.#set = set;
    this.#sources = sources;
  }

  /** True while the 10 ms monitor runs. */
  get fine(): boolean {
    return this.#fineOn;
  }

  start(): void {
    if (this.#timer !== undefined) return;
    this.#lastActive = this.#sources.utilization().active;
    this.#lastTick = this.#windowStart = this.#sources.now();
    this.#unsubscribe = this.#sources.onGcPause((ms) => this.#note(ms));
    this.#timer = setInterval(() => this.tick(), TICK_MS);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#fine(false);
  }

  /** One coarse tick (every TICK_MS; tests call it by hand). */
  tick(): void {
    const now = this.#sources.now();
    this.#note(now - this.#lastTick - TICK_MS);
    this.#lastTick = now;
    const active = this.#sources.utilization().active;
    // Two busy seconds in a row: the work is lasting, and so does the monitor. A lone busy second
    // (a resync, a listing) is over by the time the monitor could watch it.
    const busy = active - this.#lastActive > BUSY_MS;
    if (busy && (this.#busyBefore || this.#fineOn)) this.#busyUntil = now + QUIET_MS;
    this.#busyBefore = busy;
    this.#lastActive = active;
    if (this.#fineOn) this.#note(this.#sources.fine.maxMs());
    this.#sources.fine.reset();
    this.#fine(now < this.#busyUntil);
    if (now - this.#windowStart >= WINDOW_MS - TICK_MS / 2) {
      this.#set(this.#windowMaxMs / 1000);
      this.#windowMaxMs = 0;
      this.#windowStart = now;
    }
  }

  #note(ms: number): void {
    if (ms > this.#windowMaxMs) this.#windowMaxMs = ms;
  }

  #fine(on: boolean): void {
    if (on === this.#fineOn) return;
    this.#fineOn = on;
    if (on) this.#sources.fine.enable();
    else this.#sources.fine.disable();
  }
}

/** The real sources: perf_hooks' ELU, a 10 ms monitorEventLoopDelay and a GC observer. */
export function nodeLagSources(): LagSources {
  const histogram = monitorEventLoopDelay({ resolution: FINE_MS });
  return {
    now: () => performance.now(),
    utilization: () => performance.eventLoopUtilization(),
    fine: {
      enable: () => histogram.enable(),
      disable: () => histogram.disable(),
      // In ns, and each sample is the whole time between two of its timer's runs: its period
      // included (an idle loop reads ~10 ms). The lag is what exceeds the period.
      maxMs: () => (histogram.count > 0 ? Math.max(0, histogram.max / 1e6 - FINE_MS) : 0),
      reset: () => histogram.reset(),
    },
    onGcPause: (listener) => {
      const observer = new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) listener(entry.duration);
      });
      observer.observe({ entryTypes: ['gc'] });
      return () => observer.disconnect();
    },
  };
}
