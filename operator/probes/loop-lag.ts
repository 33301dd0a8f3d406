/**
 * Event-loop lag, measured so the prober never blames CoreDNS for its own starvation.
 *
 * Two instruments:
 * - a drift sampler (a short interval timer): each time it fires later than planned, the stall is
 *   logged with the time it ended. Timers run before the poll phase reads sockets, so a stall is
 *   logged before any answer that waited behind it is processed; `maxStallSince(sentAt)` then says
 *   how much of a probe's life the loop was stuck.
 * - perf_hooks.monitorEventLoopDelay for the dnsop_event_loop_lag_seconds gauge.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

export interface LagSource {
  /** The longest loop stall (ms) that ended after `sinceNs` (process.hrtime.bigint()). */
  maxStallSince(sinceNs: bigint): number;
}

export interface LoopLagOptions {
  /** Sampler period. Default 10 ms (about 0.2% of a core; 5 ms costs twice that). */
  readonly sampleMs?: number;
  /** Drift below this is timer noise, not a stall. Default 2 ms. */
  readonly stallMs?: number;
}

const RING = 64;

export class LoopLagMonitor implements LagSource {
  readonly #sampleMs: number;
  readonly #stallMs: number;
  readonly #ends = new BigInt64Array(RING);
  readonly #durations = new Float64Array(RING);
  #next = 0;
  #timer: NodeJS.Timeout | undefined;
  #last = 0n;
  #histogram: IntervalHistogram | undefined;
  #maxDriftMs = 0;

  constructor(options: LoopLagOptions = {}) {
    this.#sampleMs = options.sampleMs ?? 10;
    this.#stallMs = options.stallMs ?? 2;
  }

  start(): void {
    if (this.#timer !== undefined) return;
    this.#last = process.hrtime.bigint();
    this.#timer = setInterval(this.#sample, this.#sampleMs);
    this.#timer.unref();
    this.#histogram = monitorEventLoopDelay({ resolution: 10 });
    this.#histogram.enable();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#histogram?.disable();
    this.#histogram = undefined;
  }

  /** Records a stall seen by another timer (e.g. the scheduler's), ending now. */
  noteStall(ms: number, endNs: bigint = process.hrtime.bigint()): void {
    if (ms < this.#stallMs) return;
    this.#ends[this.#next] = endNs;
    this.#durations[this.#next] = ms;
    this.#next = (this.#next + 1) % RING;
  }

  maxStallSince(sinceNs: bigint): number {
    let max = 0;
    for (let i = 0; i < RING; i++) {
      if (this.#ends[i]! > sinceNs && this.#durations[i]! > max) max = this.#durations[i]!;
    }
    return max;
  }

  /**
   * Worst event-loop delay (s) since the previous call, for the gauge: the larger of the drift
   * sampler's worst and perf_hooks' histogram maximum (less its own 10 ms resolution).
   */
  takeMaxLagSeconds(): number {
    const h = this.#histogram;
    const fromHistogram = h !== undefined && h.count > 0 ? Math.max(0, h.max / 1e9 - 0.01) : 0;
    h?.reset();
    const fromSampler = this.#maxDriftMs / 1000;
    this.#maxDriftMs = 0;
    return Math.max(fromHistogram, fromSampler);
  }

  readonly #sample = (): void => {
    const now = process.hrtime.bigint();
    const drift = Number(now - this.#last) / 1e6 - this.#sampleMs;
    this.#last = now;
    if (drift > this.#maxDriftMs) this.#maxDriftMs = drift;
    this.noteStall(drift, now);
  };
}

/** A lag source that never reports lag (tests, and when lag accounting is off). */
export const NO_LAG: LagSource = { maxStallSince: () => 0 };
