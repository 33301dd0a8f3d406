/**
 * The probe metrics of one DNSProbe (DESIGN.md "Metrics"): per-probe counters and histograms with
 * their label children cached per target (no label lookups at probe rate), anomaly gauges and
 * episode counters, dns_unavailable, remediation outcomes. Series of a removed target are deleted.
 */
import type { Metrics } from '../runtime/metrics';
import { PROBE_SIGNALS, TARGET_SIGNALS, type Assessment, type SignalName } from './detector';
import type { ProbeObserver, TargetEntry } from './engine';
import { PROBE_OUTCOMES, type PreparedQuery, type ProbeOutcome } from './query';
import type { ProbeResult } from './resolver';

interface Children {
  readonly target: string;
  readonly duration: Map<string, { observe(v: number): void }>;
  readonly total: Record<ProbeOutcome, { inc(): void }>;
}

/** Outcomes whose duration is a server round trip (timeouts and local errors are not). */
const TIMED: Readonly<Record<ProbeOutcome, boolean>> = {
  success: true,
  nxdomain: true,
  servfail: true,
  refused: true,
  mismatch: true,
  timeout: false,
  error: false,
};

/** Every signal name: deletion covers a series whatever list its signal is in. */
const SIGNALS: readonly SignalName[] = [...TARGET_SIGNALS, ...PROBE_SIGNALS];

export class ProbeMetricsRecorder implements ProbeObserver {
  readonly #m: Metrics;
  readonly #probe: string;
  readonly #children = new WeakMap<TargetEntry, Children>();
  readonly #targets = new Set<string>();
  readonly #qtypes = new Set<string>();
  /** "target|signal" of anomaly gauges set to 1. */
  #active = new Set<string>();
  /** "target|signal" of every anomaly series written (1 or 0), for deletion. */
  readonly #anomalySeries = new Set<string>();
  /** The probe-wide episode counters (target "*") exist, at 0 or more. */
  #probeWideCounted = false;

  constructor(metrics: Metrics, probe: string) {
    this.#m = metrics;
    this.#probe = probe;
  }

  /** Results not counted (event-loop lag) are not the server's doing and are left out. */
  onProbe(entry: TargetEntry, query: PreparedQuery, result: ProbeResult, counted: boolean): void {
    if (!counted) return;
    const c = this.#childrenOf(entry);
    c.total[result.outcome].inc();
    if (TIMED[result.outcome]) this.#duration(c, query).observe(result.rttMs / 1000);
  }

  /**
   * A late answer's round trip is a real one: it goes into the duration histogram. Its probe was
   * counted as a timeout already (the result label set stays as DESIGN.md lists it).
   */
  onLate(entry: TargetEntry, query: PreparedQuery, result: ProbeResult): void {
    if (TIMED[result.outcome])
      this.#duration(this.#childrenOf(entry), query).observe(result.rttMs / 1000);
  }

  #duration(c: Children, query: PreparedQuery): { observe(v: number): void } {
    let h = c.duration.get(query.type);
    if (h === undefined) {
      h = this.#m.probeDuration.labels(this.#probe, c.target, query.type);
      c.duration.set(query.type, h);
      this.#qtypes.add(query.type);
    }
    return h;
  }

  #childrenOf(entry: TargetEntry): Children {
    let c = this.#children.get(entry);
    if (c === undefined) {
      const target = entry.identity.address;
      this.#targets.add(target);
      const total = Object.fromEntries(
        PROBE_OUTCOMES.map((o) => [o, this.#m.probeTotal.labels(this.#probe, target, o)]),
      ) as unknown as Children['total'];
      c = { target, duration: new Map(), total };
      this.#children.set(entry, c);
      this.#countFromZero(
        target,
        TARGET_SIGNALS.filter((s) => s !== 'NotReady' || entry.identity.kind === 'Pod'),
      );
      if (!this.#probeWideCounted) this.#countFromZero('*', PROBE_SIGNALS);
      this.#probeWideCounted = true;
    }
    return c;
  }

  /**
   * Episode counters exist at 0 from a target's first probe: Prometheus's increase() needs a
   * sample before the first episode, or a target's first anomaly (often its only one) is lost.
   */
  #countFromZero(target: string, signals: readonly SignalName[]): void {
    for (const s of signals) this.#m.probeAnomalies.labels(this.#probe, target, s).inc(0);
  }

  /**
   * Anomaly gauges (1 while active, 0 once cleared), episode counters (+1 when a signal becomes
   * active: a spike shorter than a scrape interval is never seen at 1 on the gauge, but its
   * episode stays counted) and dns_unavailable, which follows the probe's verdict (a missing
   * Service is unavailable DNS too, with no assessment at all).
   */
  onVerdict(a: Assessment | undefined, unavailable: boolean): void {
    const active = new Set<string>();
    for (const s of a?.signals ?? []) active.add(`*|${s.signal}`);
    for (const t of a?.targets ?? [])
      for (const s of t.signals) active.add(`${t.identity.address}|${s.signal}`);
    for (const key of active) if (!this.#active.has(key)) this.#setAnomaly(key, 1);
    for (const key of this.#active) if (!active.has(key)) this.#setAnomaly(key, 0);
    this.#active = active;
    this.#m.dnsUnavailable.labels(this.#probe).set(unavailable ? 1 : 0);
  }

  #setAnomaly(key: string, value: number): void {
    this.#anomalySeries.add(key);
    const [target, signal] = key.split('|') as [string, string];
    this.#m.probeAnomaly.labels(this.#probe, target, signal).set(value);
    if (value === 1) this.#m.probeAnomalies.labels(this.#probe, target, signal).inc();
  }

  remediation(outcome: string): void {
    this.#m.remediations.labels(this.#probe, outcome).inc();
  }

  /** Deletes the series of targets no longer probed. */
  retainTargets(addresses: ReadonlySet<string>): void {
    for (const target of [...this.#targets]) {
      if (addresses.has(target)) continue;
      this.#targets.delete(target);
      this.#removeTarget(target);
    }
  }

  /** Deletes every series of this probe (the DNSProbe is gone). */
  clear(): void {
    for (const target of this.#targets) this.#removeTarget(target);
    this.#targets.clear();
    for (const key of this.#anomalySeries) this.#removeAnomaly(key);
    this.#anomalySeries.clear();
    this.#active.clear();
    for (const s of SIGNALS) this.#m.probeAnomalies.remove(this.#probe, '*', s);
    this.#probeWideCounted = false;
    this.#m.dnsUnavailable.remove(this.#probe);
  }

  #removeTarget(target: string): void {
    for (const o of PROBE_OUTCOMES) this.#m.probeTotal.remove(this.#probe, target, o);
    for (const q of this.#qtypes) this.#m.probeDuration.remove(this.#probe, target, q);
    for (const s of SIGNALS) this.#m.probeAnomalies.remove(this.#probe, target, s);
    for (const key of [...this.#anomalySeries]) {
      if (key.startsWith(`${target}|`)) {
        this.#removeAnomaly(key);
        this.#anomalySeries.delete(key);
        this.#active.delete(key);
      }
    }
  }

  #removeAnomaly(key: string): void {
    const [target, signal] = key.split('|') as [string, string];
    this.#m.probeAnomaly.remove(this.#probe, target, signal);
  }
}
