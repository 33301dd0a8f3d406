/**
 * The adaptive per-target deadline (DESIGN.md, DNSProbe "Speed"): a high quantile of the target's
 * own recent RTTs times a safety factor, never below a floor that absorbs GC pauses and scheduling
 * delays, never above the spec's `timeout`. Pure and O(1) per answer; the quantile (a sort of at
 * most 600 samples) is recomputed every 8 samples, and at once when a sample exceeds the current
 * deadline (a late answer), so a server that slows down is followed after two such answers.
 *
 * Until the target has answered once its RTT is unknown and the deadline is `timeout`.
 */

/** Tuning that is not in the CRD; the floor follows from the detection goal (see ADR 0005). */
export const DEADLINE_LIMITS = Object.freeze({
  /** Never below this, ms. */
  floorMs: 12,
  /** The quantile of recent samples (of 600: the second largest)... */
  quantile: 0.998,
  /** ...times this. */
  factor: 3,
  /** Recent samples kept: one per interval, so a minute at the default 100 ms. */
  samples: 600,
  /** Recompute the quantile after this many samples. */
  recomputeEvery: 8,
});

export interface DeadlineLimits {
  readonly floorMs: number;
  readonly quantile: number;
  readonly factor: number;
  readonly samples: number;
  readonly recomputeEvery: number;
}

export class AdaptiveDeadline {
  readonly #timeoutMs: number;
  readonly #limits: DeadlineLimits;
  readonly #groupSize: number;
  #groupMax = 0;
  #inGroup = 0;
  readonly #ring: Float64Array;
  readonly #sorted: Float64Array;
  #next = 0;
  #count = 0;
  #sinceRecompute = 0;
  #ms: number;

  /**
   * `groupSize`: the target's answers per interval (its queries). One sample is kept per group, its
   * largest RTT, so the samples span the same time (`samples` intervals) whatever the number of
   * queries: with 25 queries as many single answers would be 2.4 s of memory, and the deadline
   * would forget a stall as soon as it ended.
   */
  constructor(timeoutMs: number, limits: DeadlineLimits = DEADLINE_LIMITS, groupSize = 1) {
    this.#timeoutMs = timeoutMs;
    this.#limits = limits;
    this.#groupSize = Math.max(1, groupSize);
    this.#ring = new Float64Array(limits.samples);
    this.#sorted = new Float64Array(limits.samples);
    this.#ms = timeoutMs;
  }

  /** The deadline for the target's next probe, ms. */
  get ms(): number {
    return this.#ms;
  }

  /** Samples held (at most `samples`). */
  get count(): number {
    return this.#count;
  }

  /**
   * One RTT of an answer (on time or late) whose timing event-loop lag did not distort. A sample
   * that would raise the deadline closes its group at once.
   */
  observe(rttMs: number): void {
    if (rttMs > this.#groupMax) this.#groupMax = rttMs;
    this.#inGroup++;
    if (this.#inGroup < this.#groupSize && rttMs * this.#limits.factor <= this.#ms) return;
    const sample = this.#groupMax;
    this.#groupMax = 0;
    this.#inGroup = 0;
    this.#keep(sample);
  }

  #keep(rttMs: number): void {
    this.#ring[this.#next] = rttMs;
    this.#next = (this.#next + 1) % this.#ring.length;
    if (this.#count < this.#ring.length) this.#count++;
    this.#sinceRecompute++;
    if (
      this.#count === 1 ||
      this.#sinceRecompute >= this.#limits.recomputeEvery ||
      rttMs * this.#limits.factor > this.#ms
    ) {
      this.#recompute();
    }
  }

  #recompute(): void {
    this.#sinceRecompute = 0;
    const n = this.#count;
    const sorted = this.#sorted.subarray(0, n);
    sorted.set(this.#ring.subarray(0, n));
    sorted.sort();
    // Nearest rank, but never the single largest sample of several: one straggler (a cold
    // cache, a JIT pause) must not set the deadline; two of them do.
    const rank = n === 1 ? 1 : Math.min(Math.ceil(this.#limits.quantile * n), n - 1);
    const q = sorted[rank - 1]!;
    this.#ms = Math.min(this.#timeoutMs, Math.max(this.#limits.floorMs, q * this.#limits.factor));
  }
}

/**
 * How long a silence of this target is still no failure (DESIGN.md "Speed": a floor that
 * absorbs pauses, learnt from the target's own history). A target that went silent and came back
 * by itself, without ever being Failing, shows that it does that: its longest such silence over
 * the last minute, times `factor`, is tolerated before a run of timeouts is Failing. A quiet
 * target has learnt nothing and is judged on its deadlines alone. Silences longer than `maxLearnMs`
 * are not learnt (an outage that ends is still an outage), so the tolerance is bounded.
 */
export const SILENCE_LIMITS = Object.freeze({
  factor: 1.5,
  /** Memory, ms, in `buckets` steps. */
  windowMs: 60_000,
  buckets: 6,
  /** Longest silence learnt, as a multiple of the spec's timeout. */
  maxLearnTimeouts: 5,
});

export class SilenceTolerance {
  readonly #maxLearnMs: number;
  readonly #bucketMs = SILENCE_LIMITS.windowMs / SILENCE_LIMITS.buckets;
  /** Per bucket: its index (time / bucketMs) and the longest silence learnt in it. */
  readonly #index = new Float64Array(SILENCE_LIMITS.buckets).fill(-Infinity);
  readonly #longest = new Float64Array(SILENCE_LIMITS.buckets);

  constructor(timeoutMs: number) {
    this.#maxLearnMs = SILENCE_LIMITS.maxLearnTimeouts * timeoutMs;
  }

  /** A silence of `spanMs` that ended with the target answering, at `atMs` (monotonic). */
  observe(spanMs: number, atMs: number): void {
    if (spanMs > this.#maxLearnMs) return;
    const index = Math.floor(atMs / this.#bucketMs);
    const slot = index % SILENCE_LIMITS.buckets;
    if (this.#index[slot] !== index) {
      this.#index[slot] = index;
      this.#longest[slot] = 0;
    }
    if (spanMs > this.#longest[slot]!) this.#longest[slot] = spanMs;
  }

  /** The silence tolerated at `atMs`, ms (0: nothing learnt within the last window). */
  ms(atMs: number): number {
    const now = Math.floor(atMs / this.#bucketMs);
    let longest = 0;
    for (let i = 0; i < SILENCE_LIMITS.buckets; i++) {
      if (now - this.#index[i]! < SILENCE_LIMITS.buckets && this.#longest[i]! > longest)
        longest = this.#longest[i]!;
    }
    return longest * SILENCE_LIMITS.factor;
  }
}
