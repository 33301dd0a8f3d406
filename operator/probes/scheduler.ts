/**
 * The probe scheduler: for every target x query, one probe per interval with small jitter, at most
 * one in flight (a due probe waits for the previous one to end, then goes at once), within a
 * per-DNSProbe token bucket (maxQPS) and a token bucket shared by every DNSProbe of a namespace.
 *
 * One timer serves all slots (a min-heap on the due time). The operator's own starvation must not
 * be blamed on the server: a probe that would be sent later than half its timeout (the event loop
 * was stuck) is not sent at all but re-phased, and a probe whose life overlapped an event-loop
 * stall longer than half its deadline is reported as not counted.
 *
 * The sink sets each probe's deadline (adaptive, at most the timeout; the resolver listens for a
 * late answer until the timeout) and may ask for a confirmation probe at once after a result
 * (DESIGN.md, Speed): it goes out of schedule, within the same token buckets.
 */
import type { PreparedQuery } from './query';
import type { ProbeDeadline, ProbeResult, ProbeTarget, ResultHandler, Transport } from './resolver';
import type { LagSource } from './loop-lag';

export class TokenBucket {
  readonly ratePerSec: number;
  readonly burst: number;
  /** Buckets this one draws from too (a namespace's draws from the cluster's): a token needs all. */
  readonly #parents: readonly TokenBucket[];
  #tokens: number;
  #lastMs: number;

  constructor(
    ratePerSec: number,
    burst: number,
    nowMs: number,
    parents: readonly TokenBucket[] = [],
  ) {
    this.ratePerSec = ratePerSec;
    this.burst = Math.max(1, burst);
    this.#parents = parents;
    this.#tokens = this.burst;
    this.#lastMs = nowMs;
  }

  /** Tokens available at `nowMs` (refills first), the parents' limits included. */
  available(nowMs: number): number {
    if (nowMs > this.#lastMs) {
      this.#tokens = Math.min(
        this.burst,
        this.#tokens + ((nowMs - this.#lastMs) * this.ratePerSec) / 1000,
      );
      this.#lastMs = nowMs;
    }
    return Math.min(this.#tokens, ...this.#parents.map((p) => p.available(nowMs)));
  }

  tryTake(nowMs: number): boolean {
    if (this.available(nowMs) < 1) return false;
    this.#tokens -= 1;
    for (const parent of this.#parents) parent.tryTake(nowMs);
    return true;
  }

  /** Takes one token from each bucket, or from none. */
  static takeAll(nowMs: number, a: TokenBucket, b: TokenBucket | undefined): boolean {
    if (a.available(nowMs) < 1 || (b !== undefined && b.available(nowMs) < 1)) return false;
    a.tryTake(nowMs);
    b?.tryTake(nowMs);
    return true;
  }
}

/** Burst of a bucket: 100 ms worth of its rate, at least 1. */
export function defaultBurst(ratePerSec: number): number {
  return Math.max(1, Math.ceil(ratePerSec / 10));
}

/** The cluster-wide cap (--probe-cluster-max-qps) and which namespaces are trusted. */
export interface ClusterBudget {
  readonly ratePerSec: number;
  readonly trusted: (namespace: string) => boolean;
}

/**
 * One token bucket per namespace, shared by every DNSProbe in it (the --probe-namespace-max-qps
 * cap). With a cluster budget every namespace's bucket also draws from one cluster bucket, and
 * the untrusted namespaces' from a tenant pool of half the cluster rate: tenants together can
 * never take the budget the cluster's own DNSProbes (trusted namespaces) need.
 */
export class NamespaceBuckets {
  readonly #rate: number;
  readonly #buckets = new Map<string, TokenBucket>();
  readonly #now: () => number;
  readonly #cluster: ClusterBudget | undefined;
  #shared: { readonly all: TokenBucket; readonly tenants: TokenBucket } | undefined;

  constructor(
    ratePerSec: number,
    now: () => number = () => performance.now(),
    cluster?: ClusterBudget,
  ) {
    this.#rate = ratePerSec;
    this.#now = now;
    this.#cluster = cluster;
  }

  get(namespace: string): TokenBucket {
    let bucket = this.#buckets.get(namespace);
    if (bucket === undefined) {
      bucket = new TokenBucket(
        this.#rate,
        defaultBurst(this.#rate),
        this.#now(),
        this.#parentsOf(namespace),
      );
      this.#buckets.set(namespace, bucket);
    }
    return bucket;
  }

  #parentsOf(namespace: string): TokenBucket[] {
    const cluster = this.#cluster;
    if (cluster === undefined) return [];
    if (this.#shared === undefined) {
      const now = this.#now();
      const rate = cluster.ratePerSec;
      const tenantRate = Math.max(1, rate / 2);
      this.#shared = {
        all: new TokenBucket(rate, defaultBurst(rate), now),
        tenants: new TokenBucket(tenantRate, defaultBurst(tenantRate), now),
      };
    }
    return cluster.trusted(namespace)
      ? [this.#shared.all]
      : [this.#shared.tenants, this.#shared.all];
  }
}

/** What the scheduler sends through (the Resolver, or a fake in tests). */
export interface ProbeSender<T> {
  /** Sends one probe (see Resolver.query). */
  query(
    target: ProbeTarget,
    query: PreparedQuery,
    deadline: ProbeDeadline,
    transport: Transport,
    token: T,
  ): void;
  close(): void;
}

export class ProbeSlot<D> {
  due = 0;
  inFlight = false;
  deferred = false;
  active = true;
  constructor(
    readonly target: ProbeTarget,
    readonly query: PreparedQuery,
    readonly queryIndex: number,
    readonly data: D,
  ) {}
}

export interface ResultSink<D> {
  /**
   * One probe result. `counted` is false when an event-loop stall during the probe exceeded half
   * its deadline; `stallMs` is the longest stall that overlapped the probe (0: none; see
   * loop-lag.ts serverRttMs for what is left of its RTT). Returns true to send a
   * confirmation probe of the slot at once.
   */
  onProbeResult(
    slot: ProbeSlot<D>,
    result: ProbeResult,
    counted: boolean,
    stallMs: number,
  ): boolean | void;
  /** An answer that came after the probe was reported as a timeout, within the timeout. */
  onLateResult?(slot: ProbeSlot<D>, result: ProbeResult, stallMs: number): void;
  /** The deadline of the slot's next probe, ms (default: the timeout). */
  deadlineMs?(slot: ProbeSlot<D>): number;
}

export interface SchedulerSettings {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly transport: Transport;
  readonly maxQps: number;
  /**
   * Jitter as a share of the interval, +/-. Default 0.02: enough to keep slots from moving in
   * lockstep; every bit of it adds to the worst-case wait for the first probe after a hang.
   */
  readonly jitterRatio?: number;
}

export interface SchedulerDeps<D> {
  readonly sink: ResultSink<D>;
  readonly lag: LagSource;
  /** Makes the sender, given the function that receives results. */
  readonly sender: (onResult: ResultHandler<ProbeSlot<D>>) => ProbeSender<ProbeSlot<D>>;
  readonly namespaceBucket?: TokenBucket;
  /** Monotonic ms. Default performance.now. */
  readonly now?: () => number;
  readonly random?: () => number;
}

export interface SchedulerStats {
  sent: number;
  /** Sends skipped for want of a token (maxQPS or namespace cap). */
  throttled: number;
  /** Due while the previous probe of the slot was in flight. */
  deferred: number;
  /** Results not counted because of event-loop lag. */
  lagExcluded: number;
  /** Probes not sent because their send would have been late by more than half the timeout. */
  lateRephased: number;
  /** Confirmation probes sent at once after a failure. */
  confirmations: number;
  /** Answers after the adaptive deadline, within the timeout. */
  lateAnswers: number;
}

/** Coalesce slots due within this many ms into one timer tick. */
const COALESCE_MS = 1;

export class ProbeScheduler<D> {
  readonly #settings: Required<SchedulerSettings>;
  readonly #deps: SchedulerDeps<D>;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #bucket: TokenBucket;
  readonly #heap: ProbeSlot<D>[] = [];
  readonly #slots = new Map<string, ProbeSlot<D>[]>();
  #queries: readonly PreparedQuery[] = [];
  #sender: ProbeSender<ProbeSlot<D>> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #armedFor = Infinity;
  #periodMs: number;
  /** Wait before a throttled slot tries again: about one token of the tighter bucket. */
  readonly #retryMs: number;
  readonly stats: SchedulerStats = {
    sent: 0,
    throttled: 0,
    deferred: 0,
    lagExcluded: 0,
    lateRephased: 0,
    confirmations: 0,
    lateAnswers: 0,
  };

  constructor(
    settings: SchedulerSettings,
    queries: readonly PreparedQuery[],
    deps: SchedulerDeps<D>,
  ) {
    this.#settings = { jitterRatio: 0.02, ...settings };
    this.#deps = deps;
    this.#now = deps.now ?? (() => performance.now());
    this.#random = deps.random ?? Math.random;
    this.#queries = queries;
    this.#bucket = new TokenBucket(settings.maxQps, defaultBurst(settings.maxQps), this.#now());
    this.#periodMs = settings.intervalMs;
    const rate = Math.min(settings.maxQps, deps.namespaceBucket?.ratePerSec ?? Infinity);
    this.#retryMs = Math.max(2, 1000 / rate);
  }

  get running(): boolean {
    return this.#sender !== undefined;
  }

  /** The interval actually used: stretched when targets x queries at the interval exceed maxQPS. */
  get periodMs(): number {
    return this.#periodMs;
  }

  start(): void {
    if (this.#sender !== undefined) return;
    this.#sender = this.#deps.sender(this.#onResult);
    const now = this.#now();
    for (const slots of this.#slots.values()) for (const s of slots) this.#schedule(s, now);
    this.#arm();
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedFor = Infinity;
    this.#sender?.close();
    this.#sender = undefined;
    this.#heap.length = 0;
    for (const slots of this.#slots.values()) {
      for (const s of slots) {
        s.inFlight = false;
        s.deferred = false;
      }
    }
  }

  /**
   * Sets the targets; new ones start within one interval (random phase), removed ones stop at
   * once (a result still in flight for them is dropped).
   */
  setTargets(targets: readonly ProbeTarget[], dataFor: (target: ProbeTarget) => D): void {
    const wanted = new Map(targets.map((t) => [t.key, t]));
    for (const [key, slots] of this.#slots) {
      if (wanted.has(key)) continue;
      for (const s of slots) s.active = false;
      this.#slots.delete(key);
    }
    const now = this.#now();
    for (const [key, target] of wanted) {
      if (this.#slots.has(key)) continue;
      const data = dataFor(target);
      const slots = this.#queries.map((q, i) => new ProbeSlot(target, q, i, data));
      this.#slots.set(key, slots);
      if (this.running) for (const s of slots) this.#schedule(s, now);
    }
    const count = this.#slots.size * this.#queries.length;
    this.#periodMs = Math.max(this.#settings.intervalMs, (count * 1000) / this.#settings.maxQps);
    if (this.running) this.#arm();
  }

  /** Slots (target x query) scheduled. */
  get slotCount(): number {
    return this.#slots.size * this.#queries.length;
  }

  /**
   * A new slot's first probe goes at a random phase, spread only as far as the rate limit needs
   * (slots / maxQPS, at most one period): a terminal `dnsop probe` or a new DNSProbe gets its
   * first answers at once, yet a large probe does not burst past maxQPS.
   */
  #schedule(slot: ProbeSlot<D>, now: number): void {
    const spreadMs = Math.min(this.#periodMs, (this.slotCount * 1000) / this.#settings.maxQps);
    slot.due = now + this.#random() * spreadMs;
    heapPush(this.#heap, slot);
  }

  #jitter(): number {
    return (this.#random() * 2 - 1) * this.#settings.jitterRatio * this.#periodMs;
  }

  #arm(): void {
    const top = this.#heap[0];
    if (top === undefined || this.#sender === undefined) return;
    if (this.#timer !== undefined && top.due >= this.#armedFor) return;
    clearTimeout(this.#timer);
    this.#armedFor = top.due;
    this.#timer = setTimeout(this.#tick, Math.max(0, top.due - this.#now()));
    this.#timer.unref();
  }

  readonly #tick = (): void => {
    this.#timer = undefined;
    this.#armedFor = Infinity;
    if (this.#sender === undefined) return;
    const now = this.#now();
    const heap = this.#heap;
    while (heap.length > 0 && heap[0]!.due <= now + COALESCE_MS) {
      const slot = heapPop(heap)!;
      if (slot.active) this.#fire(slot, now);
    }
    this.#arm();
  };

  #fire(slot: ProbeSlot<D>, now: number): void {
    const lateMs = now - slot.due;
    if (lateMs > this.#settings.timeoutMs / 2) {
      // The event loop was stuck: this probe would not be counted anyway. Re-phase the slot
      // randomly over one period instead of firing every overdue slot at once.
      this.stats.lateRephased++;
      slot.due = now + this.#random() * this.#periodMs;
      heapPush(this.#heap, slot);
      return;
    }
    slot.due = slot.due + this.#periodMs + this.#jitter();
    if (slot.inFlight) {
      slot.deferred = true;
      this.stats.deferred++;
      return;
    }
    this.#send(slot, now);
    heapPush(this.#heap, slot);
  }

  /** Sends if both buckets have a token; otherwise moves the slot to retry after about one token. */
  #send(slot: ProbeSlot<D>, now: number): void {
    if (!TokenBucket.takeAll(now, this.#bucket, this.#deps.namespaceBucket)) {
      this.stats.throttled++;
      slot.due = now + this.#retryMs * (1 + this.#random());
      return;
    }
    this.#query(slot);
  }

  #query(slot: ProbeSlot<D>): void {
    slot.inFlight = true;
    this.stats.sent++;
    const timeoutMs = this.#settings.timeoutMs;
    const deadlineMs = Math.min(timeoutMs, this.#deps.sink.deadlineMs?.(slot) ?? timeoutMs);
    this.#sender!.query(
      slot.target,
      slot.query,
      { ms: deadlineMs, hardMs: timeoutMs },
      this.#settings.transport,
      slot,
    );
  }

  readonly #onResult = (slot: ProbeSlot<D>, result: ProbeResult): void => {
    if (result.late === true) {
      if (!slot.active || this.#sender === undefined) return;
      this.stats.lateAnswers++;
      this.#deps.sink.onLateResult?.(slot, result, this.#deps.lag.maxStallSince(result.sentAtNs));
      return;
    }
    slot.inFlight = false;
    if (!slot.active || this.#sender === undefined) return;
    const stallMs = Math.max(result.timerLateMs, this.#deps.lag.maxStallSince(result.sentAtNs));
    const deadlineMs = result.deadlineMs ?? this.#settings.timeoutMs;
    const counted = stallMs <= deadlineMs / 2;
    if (!counted) this.stats.lagExcluded++;
    const confirm = this.#deps.sink.onProbeResult(slot, result, counted, stallMs) === true;
    if (!slot.active || this.#sender === undefined || slot.inFlight) return;
    const now = this.#now();
    if (slot.deferred) {
      // The slot came due while this probe was out: its turn goes now (and confirms, if asked).
      slot.deferred = false;
      slot.due = now + this.#periodMs + this.#jitter();
      this.#send(slot, now);
      heapPush(this.#heap, slot);
      this.#arm();
    } else if (confirm) {
      // Out of schedule; the slot keeps its place in the heap. No token: the next turn will do.
      if (!TokenBucket.takeAll(now, this.#bucket, this.#deps.namespaceBucket)) {
        this.stats.throttled++;
        return;
      }
      this.stats.confirmations++;
      this.#query(slot);
    }
  };
}

// --- a binary min-heap on `due` ---

function heapPush<D>(heap: ProbeSlot<D>[], slot: ProbeSlot<D>): void {
  heap.push(slot);
  let i = heap.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (heap[parent]!.due <= slot.due) break;
    heap[i] = heap[parent]!;
    i = parent;
  }
  heap[i] = slot;
}

function heapPop<D>(heap: ProbeSlot<D>[]): ProbeSlot<D> | undefined {
  const top = heap[0];
  const last = heap.pop();
  if (heap.length === 0 || last === undefined) return top;
  let i = 0;
  const n = heap.length;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= n) break;
    const r = l + 1;
    const child = r < n && heap[r]!.due < heap[l]!.due ? r : l;
    if (heap[child]!.due >= last.due) break;
    heap[i] = heap[child]!;
    i = child;
  }
  heap[i] = last;
  return top;
}
