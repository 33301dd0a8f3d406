/**
 * Event-loop lag, measured so the prober never blames CoreDNS for its own starvation.
 *
 * A drift sampler (a short interval timer): each time it fires later than planned, the stall is
 * logged with the time it ended. Timers run before the poll phase reads sockets, so a stall is
 * logged before any answer that waited behind it is processed; `maxStallSince(sentAt)` then says
 * how much of a probe's life the loop was stuck. (The dnsop_event_loop_lag_seconds gauge comes
 * from the manager's perf_hooks monitorEventLoopDelay.)
 */

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
const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

export class LoopLagMonitor implements LagSource {
  readonly #sampleMs: number;
  readonly #stallMs: number;
  /** End times (hrtime, ms) and durations of the last RING stalls. */
  readonly #ends = new Float64Array(RING);
  readonly #durations = new Float64Array(RING);
  #next = 0;
  #latestEnd = -Infinity;
  #timer: NodeJS.Timeout | undefined;
  #last = 0;

  constructor(options: LoopLagOptions = {}) {
    this.#sampleMs = options.sampleMs ?? 10;
    this.#stallMs = options.stallMs ?? 2;
  }

  start(): void {
    if (this.#timer !== undefined) return;
    this.#last = nowMs();
    this.#timer = setInterval(this.#sample, this.#sampleMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Records a stall seen elsewhere, ending now (or at `endMs`, hrtime in ms). */
  noteStall(ms: number, endMs: number = nowMs()): void {
    if (ms < this.#stallMs) return;
    this.#ends[this.#next] = endMs;
    this.#durations[this.#next] = ms;
    this.#next = (this.#next + 1) % RING;
    if (endMs > this.#latestEnd) this.#latestEnd = endMs;
  }

  /** Runs for every probe result: the common case (no stall since the send) is one comparison. */
  maxStallSince(sinceNs: bigint): number {
    const since = Number(sinceNs) / 1e6;
    if (since >= this.#latestEnd) return 0;
    let max = 0;
    for (let i = 0; i < RING; i++) {
      if (this.#ends[i]! > since && this.#durations[i]! > max) max = this.#durations[i]!;
    }
    return max;
  }

  readonly #sample = (): void => {
    const now = nowMs();
    const drift = now - this.#last - this.#sampleMs;
    this.#last = now;
    this.noteStall(drift, now);
  };
}

/**
 * The server's share of a round trip that one of our own event-loop stalls overlapped: at least
 * `measuredMs - stallMs` (the answer waited at most the stall to be read), so a slow prober never
 * makes a server look slow. Undefined when the stall is half the measurement or more: too little
 * is left to say anything. Without a stall, the measurement itself.
 */
export function serverRttMs(measuredMs: number, stallMs: number): number | undefined {
  if (stallMs <= 0) return measuredMs;
  return stallMs < measuredMs / 2 ? measuredMs - stallMs : undefined;
}

/** A lag source that never reports lag (tests, and when lag accounting is off). */
export const NO_LAG: LagSource = { maxStallSince: () => 0 };
