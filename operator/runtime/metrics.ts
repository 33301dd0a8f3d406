/**
 * Every dnsop_* metric from DESIGN.md, created on an injected registry (never the global one), so
 * tests and several operator instances in one process do not couple through metrics.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Sub-millisecond resolution for DNS probes on a healthy cluster, up to the timeout range. */
const PROBE_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
];
const SYNC_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export interface Metrics {
  readonly registry: Registry;
  // records
  readonly recordsManaged: Gauge<'policy'>;
  readonly syncDuration: Histogram<'policy'>;
  readonly syncErrors: Counter<'policy' | 'reason'>;
  readonly providerChanges: Counter<'policy' | 'action'>;
  readonly eventToSync: Histogram;
  readonly providerRequests: Counter<'provider' | 'operation' | 'code'>;
  readonly providerThrottled: Counter<'provider'>;
  // probes
  readonly probeDuration: Histogram<'probe' | 'target' | 'qtype'>;
  readonly probeTotal: Counter<'probe' | 'target' | 'result'>;
  readonly probeAnomaly: Gauge<'probe' | 'target' | 'signal'>;
  readonly probeAnomalies: Counter<'probe' | 'target' | 'signal'>;
  readonly dnsUnavailable: Gauge<'probe'>;
  readonly remediations: Counter<'probe' | 'outcome'>;
  readonly eventLoopLag: Gauge;
  // runtime
  readonly reconcileTotal: Counter<'controller' | 'outcome'>;
  readonly reconcileDuration: Histogram<'controller'>;
  readonly leader: Gauge;
}

export interface MetricsOptions {
  /** Also collect Node.js process metrics (CPU, memory, handles, GC). Default true. */
  readonly processMetrics?: boolean;
}

type DefaultCollector = (registry: Registry, config: object) => void;

/**
 * prom-client's default collectors (collectDefaultMetrics) but its `eventLoopLag`: that one keeps a
 * monitorEventLoopDelay at 10 ms of its own beside the manager's (dnsop_event_loop_lag_seconds),
 * and the two woke an idle operator 200 times a second (~0.3 % of a core; issue 14). A prom-client
 * upgrade that moves these files fails createMetrics at start-up and metrics.test.ts.
 */
const DEFAULT_COLLECTORS = [
  'processCpuTotal',
  'processStartTime',
  'osMemoryHeap',
  'processOpenFileDescriptors',
  'processMaxFileDescriptors',
  'processResources',
  'processHandles',
  'processRequests',
  'heapSizeAndUsed',
  'heapSpacesSizeAndUsed',
  'version',
  'gc',
] as const;

function collectProcessMetrics(registry: Registry): void {
  for (const name of DEFAULT_COLLECTORS) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const collect = require(`prom-client/lib/metrics/${name}`) as DefaultCollector;
    collect(registry, {});
  }
}

export function createMetrics(registry = new Registry(), options: MetricsOptions = {}): Metrics {
  if (options.processMetrics ?? true) collectProcessMetrics(registry);
  const registers = [registry];
  return {
    registry,
    recordsManaged: new Gauge({
      name: 'dnsop_records_managed',
      help: 'Records owned by the policy and in sync with the provider.',
      labelNames: ['policy'],
      registers,
    }),
    syncDuration: new Histogram({
      name: 'dnsop_sync_duration_seconds',
      help: 'Duration of one DNSPolicy sync (sources, plan, provider changes).',
      labelNames: ['policy'],
      buckets: SYNC_BUCKETS,
      registers,
    }),
    syncErrors: new Counter({
      name: 'dnsop_sync_errors_total',
      help: 'Failed DNSPolicy syncs by reason.',
      labelNames: ['policy', 'reason'],
      registers,
    }),
    providerChanges: new Counter({
      name: 'dnsop_provider_changes_total',
      help: 'Record changes applied to the provider by action (create, update, delete).',
      labelNames: ['policy', 'action'],
      registers,
    }),
    eventToSync: new Histogram({
      name: 'dnsop_event_to_sync_seconds',
      help: 'Time from a watch event being seen to the provider change being applied.',
      buckets: SYNC_BUCKETS,
      registers,
    }),
    providerRequests: new Counter({
      name: 'dnsop_provider_requests_total',
      help: 'Provider API requests by provider, API call and result code (OK, or the provider error code).',
      labelNames: ['provider', 'operation', 'code'],
      registers,
    }),
    providerThrottled: new Counter({
      name: 'dnsop_provider_throttled_total',
      help: 'Provider API requests answered with throttling (the account is over its rate).',
      labelNames: ['provider'],
      registers,
    }),
    probeDuration: new Histogram({
      name: 'dnsop_probe_duration_seconds',
      help: 'DNS probe round-trip time.',
      labelNames: ['probe', 'target', 'qtype'],
      buckets: PROBE_BUCKETS,
      registers,
    }),
    probeTotal: new Counter({
      name: 'dnsop_probe_total',
      help: 'DNS probes by result (success, timeout, nxdomain, servfail, refused, mismatch, error).',
      labelNames: ['probe', 'target', 'result'],
      registers,
    }),
    probeAnomaly: new Gauge({
      name: 'dnsop_probe_anomaly',
      help: '1 while an anomaly signal is active for a target.',
      labelNames: ['probe', 'target', 'signal'],
      registers,
    }),
    probeAnomalies: new Counter({
      name: 'dnsop_probe_anomalies_total',
      help: 'Anomaly episodes: +1 each time a signal becomes active for a target (target "*": probe-wide).',
      labelNames: ['probe', 'target', 'signal'],
      registers,
    }),
    dnsUnavailable: new Gauge({
      name: 'dnsop_dns_unavailable',
      help: '1 while the probe considers cluster DNS unavailable.',
      labelNames: ['probe'],
      registers,
    }),
    remediations: new Counter({
      name: 'dnsop_remediations_total',
      help: 'Remediation decisions by outcome (evicted, dry_run, blocked_pdb, refused_<reason>, failed).',
      labelNames: ['probe', 'outcome'],
      registers,
    }),
    eventLoopLag: new Gauge({
      name: 'dnsop_event_loop_lag_seconds',
      help: 'Measured event-loop lag of the operator process.',
      registers,
    }),
    reconcileTotal: new Counter({
      name: 'dnsop_reconcile_total',
      help: 'Reconciles by controller and outcome (success, retry, permanent).',
      labelNames: ['controller', 'outcome'],
      registers,
    }),
    reconcileDuration: new Histogram({
      name: 'dnsop_reconcile_duration_seconds',
      help: 'Duration of one reconcile.',
      labelNames: ['controller'],
      buckets: SYNC_BUCKETS,
      registers,
    }),
    leader: new Gauge({
      name: 'dnsop_leader',
      help: '1 while this replica holds the leader lease.',
      registers,
    }),
  };
}
