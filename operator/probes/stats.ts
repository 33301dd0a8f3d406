/**
 * Small windowed-statistics building blocks for the detector: time-bucketed rings (constant memory
 * and O(1) per observation at probe rate), a log-bucketed histogram for percentiles, and Shannon
 * entropy. Time is always passed in (monotonic ms), never read here.
 */

/**
 * A ring of `size` time buckets of `widthMs` each, holding `fields` numeric accumulators per
 * bucket. Buckets that fall out of the window are zeroed lazily when time advances.
 */
export class BucketRing {
  readonly widthMs: number;
  readonly size: number;
  readonly fields: number;
  readonly #data: Float64Array;
  /** Absolute bucket number (floor(t / width)) of the newest bucket written. */
  #head = -1;

  constructor(windowMs: number, widthMs: number, fields: number) {
    this.widthMs = Math.max(1, widthMs);
    this.size = Math.max(1, Math.ceil(windowMs / this.widthMs));
    this.fields = fields;
    this.#data = new Float64Array(this.size * fields);
  }

  /** Adds `value` to accumulator `field` of the bucket holding time `atMs`. */
  add(atMs: number, field: number, value: number): void {
    const bucket = Math.floor(atMs / this.widthMs);
    this.#advance(bucket);
    if (bucket <= this.#head - this.size) return; // older than the window
    this.#data[(bucket % this.size) * this.fields + field]! += value;
  }

  /**
   * Sums accumulator `field` over buckets in [nowMs - fromAgoMs, nowMs - toAgoMs), both rounded
   * to bucket boundaries (the current, partly filled bucket counts as "0 ago").
   */
  sum(
    nowMs: number,
    field: number,
    fromAgoMs: number = this.size * this.widthMs,
    toAgoMs = 0,
  ): number {
    const now = Math.floor(nowMs / this.widthMs);
    this.#advance(now);
    const newest = now - Math.ceil(toAgoMs / this.widthMs);
    const oldest = Math.max(now - this.size + 1, now - Math.ceil(fromAgoMs / this.widthMs) + 1);
    let total = 0;
    for (let b = Math.max(oldest, 0); b <= newest; b++) {
      total += this.#data[(b % this.size) * this.fields + field]!;
    }
    return total;
  }

  #advance(bucket: number): void {
    if (bucket <= this.#head) return;
    const steps = Math.min(this.size, bucket - this.#head);
    for (let i = 1; i <= steps; i++) {
      const b = this.#head + i;
      if (b < 0) continue;
      this.#data.fill(
        0,
        (b % this.size) * this.fields,
        (b % this.size) * this.fields + this.fields,
      );
    }
    this.#head = bucket;
  }
}

/**
 * Log-bucketed histogram of positive values (RTTs in ms) with ~2% relative error, from 1 µs to
 * 100 s; percentiles without keeping samples.
 */
const HIST_GROWTH = 1.02;
const HIST_MIN = 0.001;
const HIST_LOG_GROWTH = Math.log(HIST_GROWTH);
const HIST_BUCKETS = Math.ceil(Math.log(100_000 / HIST_MIN) / HIST_LOG_GROWTH) + 1;

export class LogHistogram {
  readonly #counts = new Uint32Array(HIST_BUCKETS);
  #total = 0;

  get count(): number {
    return this.#total;
  }

  add(value: number): void {
    const v = Math.max(value, HIST_MIN);
    const i = Math.min(HIST_BUCKETS - 1, Math.floor(Math.log(v / HIST_MIN) / HIST_LOG_GROWTH));
    this.#counts[i]!++;
    this.#total++;
  }

  /** The q-quantile (0..1), or undefined when empty; the bucket's geometric midpoint. */
  quantile(q: number): number | undefined {
    if (this.#total === 0) return undefined;
    const rank = Math.max(1, Math.ceil(q * this.#total));
    let seen = 0;
    for (let i = 0; i < this.#counts.length; i++) {
      seen += this.#counts[i]!;
      if (seen >= rank) return HIST_MIN * HIST_GROWTH ** (i + 0.5);
    }
    return undefined;
  }
}

/** A fixed ring of the most recent samples, for percentiles over "now". */
export class RecentSamples {
  readonly #values: Float64Array;
  #next = 0;
  #count = 0;

  constructor(capacity: number) {
    this.#values = new Float64Array(capacity);
  }

  add(value: number): void {
    this.#values[this.#next] = value;
    this.#next = (this.#next + 1) % this.#values.length;
    if (this.#count < this.#values.length) this.#count++;
  }

  get count(): number {
    return this.#count;
  }

  /** Quantiles (nearest rank) of the samples held, or undefined when empty. */
  quantiles(qs: readonly number[]): (number | undefined)[] {
    if (this.#count === 0) return qs.map(() => undefined);
    const sorted = this.#values.slice(0, this.#count).sort();
    return qs.map(
      (q) => sorted[Math.min(this.#count - 1, Math.max(0, Math.ceil(q * this.#count) - 1))],
    );
  }
}

/** A ring of the most recent (time, value) samples, for a robust median over a recent window. */
export class TimedSamples {
  readonly #times: Float64Array;
  readonly #values: Float64Array;
  #next = 0;
  #count = 0;

  constructor(capacity: number) {
    this.#times = new Float64Array(capacity);
    this.#values = new Float64Array(capacity);
  }

  add(atMs: number, value: number): void {
    this.#times[this.#next] = atMs;
    this.#values[this.#next] = value;
    this.#next = (this.#next + 1) % this.#times.length;
    if (this.#count < this.#times.length) this.#count++;
  }

  /** Median of the samples taken at or after `sinceMs` (of those held), or undefined if none. */
  medianSince(sinceMs: number): number | undefined {
    const picked: number[] = [];
    for (let i = 0; i < this.#count; i++)
      if (this.#times[i]! >= sinceMs) picked.push(this.#values[i]!);
    if (picked.length === 0) return undefined;
    picked.sort((a, b) => a - b);
    const mid = picked.length >> 1;
    return picked.length % 2 === 1 ? picked[mid] : (picked[mid - 1]! + picked[mid]!) / 2;
  }
}

/** Shannon entropy in bits of a distribution given as counts (zeros ignored). */
export function shannonEntropy(counts: readonly number[]): number {
  let total = 0;
  for (const c of counts) if (c > 0) total += c;
  if (total === 0) return 0;
  let h = 0;
  for (const c of counts) {
    if (c <= 0) continue;
    const p = c / total;
    h -= p * Math.log2(p);
  }
  return h;
}

/** Mean and population standard deviation from count, sum and sum of squares. */
export function meanStd(count: number, sum: number, sumSq: number): { mean: number; std: number } {
  if (count === 0) return { mean: 0, std: 0 };
  const mean = sum / count;
  const variance = Math.max(0, sumSq / count - mean * mean);
  return { mean, std: Math.sqrt(variance) };
}
