/**
 * When a DNSProbe's status is written, and what: on a change of state (statusSignature) within a
 * budget (STATUS_BURST writes, then one per STATUS_REFILL_MS), and otherwise every period; one
 * write at a time. Clocks injected (tests drive them).
 *
 * Every assessment's anomalies are recorded, whether a write is due or not, and a cleared one
 * stays in status for ANOMALY_KEEP_MS (at least two periods): an anomaly that came and went
 * while the budget was spent or a write was in flight still reaches status, with when it cleared.
 */
import type { DNSProbe, DNSProbeStatus } from '../api/types';
import type { Assessment } from './detector';
import {
  ANOMALY_KEEP_MS,
  buildProbeStatus,
  statusSignature,
  trackAnomalies,
  type AnomalyRecord,
  type DiscoveryProblem,
  type RemediationStatus,
  type StatusInput,
} from './probe-status';
import { TokenBucket } from './scheduler';

export const STATUS_PERIOD_MS = 10_000;
/** Writes for state changes: this many at once, then one per STATUS_REFILL_MS. */
export const STATUS_BURST = 4;
export const STATUS_REFILL_MS = 2_000;
/** After a failed write, the next one waits this long (beyond the period check). */
const WRITE_BACKOFF_MS = 2_000;

export interface StatusWriterOptions {
  readonly generation: number | undefined;
  /** Writes the status: `compute` gets the live object's status. */
  readonly writeStatus: (
    compute: (live: DNSProbe) => DNSProbeStatus | undefined,
  ) => Promise<unknown>;
  readonly periodMs?: number;
  /** Wall-clock ms (the times in status). */
  readonly now: () => number;
  /** Monotonic ms (budget and period); default performance.now. */
  readonly monotonic?: () => number;
  readonly onError: (err: unknown) => void;
}

/** What a write needs besides the assessment, read when the write computes the status. */
export type StatusDetails = Pick<StatusInput, 'percentiles' | 'evictions'>;

export class StatusWriter {
  readonly #o: StatusWriterOptions;
  readonly #mono: () => number;
  readonly #budget: TokenBucket;
  readonly #periodMs: number;
  /** How long a cleared anomaly stays: at least two periods, so a periodic write carries it. */
  readonly #keepMs: number;
  #anomalies: AnomalyRecord[] = [];
  #writtenSig = '';
  #lastWriteMs = -Infinity;
  #writing = false;
  #writes = 0;

  constructor(o: StatusWriterOptions) {
    this.#o = o;
    this.#mono = o.monotonic ?? (() => performance.now());
    this.#budget = new TokenBucket(1000 / STATUS_REFILL_MS, STATUS_BURST, this.#mono());
    this.#periodMs = o.periodMs ?? STATUS_PERIOD_MS;
    this.#keepMs = Math.max(ANOMALY_KEEP_MS, 2 * this.#periodMs);
  }

  /** Status writes started so far. */
  get writes(): number {
    return this.#writes;
  }

  /** The latest assessment (about 10 a second): writes when due. */
  offer(
    a: Assessment | undefined,
    remediation: RemediationStatus,
    problems: readonly DiscoveryProblem[],
    details: () => StatusDetails,
  ): void {
    this.#anomalies = trackAnomalies(this.#anomalies, a, this.#o.now(), this.#keepMs);
    if (this.#writing) return;
    const sig = statusSignature(a, remediation, problems);
    const now = this.#mono();
    const periodic = now - this.#lastWriteMs >= this.#periodMs;
    // A change of state goes out at once while the budget lasts (a flapping target cannot turn
    // status writes into a stream); the periodic write carries the numbers.
    const due = periodic || (sig !== this.#writtenSig && this.#budget.tryTake(now));
    if (!due) return;
    this.#writing = true;
    this.#writes++;
    this.#lastWriteMs = now;
    const anomalies = this.#anomalies;
    this.#o
      .writeStatus((live) =>
        buildProbeStatus({
          ...details(),
          generation: this.#o.generation,
          previous: live.status,
          assessment: a,
          anomalies,
          problems,
          remediation,
          now: new Date(this.#o.now()),
        }),
      )
      .then(() => {
        this.#writtenSig = sig;
      })
      .catch((err: unknown) => {
        // Back off a little; the next assessment tries again.
        this.#lastWriteMs = this.#mono() + WRITE_BACKOFF_MS;
        this.#o.onError(err);
      })
      .finally(() => {
        this.#writing = false;
      });
  }
}
