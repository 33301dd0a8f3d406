/**
 * A DNSProbe spec parsed once into a frozen, typed settings object (durations in ms, queries
 * prepared). The CLI builds a spec from its flags and goes through the same function, so the
 * terminal and the cluster share defaults and thresholds. DEFAULTS mirror the CRD schema's
 * defaults (a unit test reads the CRD and compares).
 */
import type { DNSProbeSpec } from '../api/types';
import { parseDuration } from '../runtime/duration';
import { PermanentError } from '../runtime/errors';
import type { Thresholds } from './detector';
import { prepareQuery, type PreparedQuery } from './query';
import type { Transport } from './resolver';

export const DEFAULTS = Object.freeze({
  port: 53,
  queryType: 'A',
  interval: '100ms',
  timeout: '100ms',
  adaptiveTimeout: true,
  transport: 'UDP' as const,
  maxQPS: 200,
  thresholds: Object.freeze({
    consecutiveFailures: 3,
    rttSpikeSigma: 3,
    rttWindow: '60s',
    nxdomainRatio: 0.85,
    nxdomainWindow: '5s',
    servfailEntropyBits: 1.2,
    recoverySuccesses: 3,
  }),
  readiness: Object.freeze({ port: 8181, path: '/ready' }),
  remediation: Object.freeze({
    mode: 'DryRun' as const,
    cooldown: '5m',
    maxEvictionsPerHour: 3,
    minReadyPods: 1,
  }),
});

export type RemediationMode = 'Off' | 'DryRun' | 'Evict';

export interface RemediationSettings {
  readonly mode: RemediationMode;
  readonly cooldownMs: number;
  readonly maxEvictionsPerHour: number;
  readonly minReadyPods: number;
}

export interface ProbeSettings {
  readonly port: number;
  readonly queries: readonly PreparedQuery[];
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Per-target deadlines learnt from the target's RTTs, within timeoutMs (DESIGN.md, Speed). */
  readonly adaptiveTimeout: boolean;
  readonly transport: Transport;
  readonly maxQps: number;
  readonly thresholds: Thresholds;
  readonly readiness: { readonly port: number; readonly path: string };
  readonly remediation: RemediationSettings;
}

/** Limits the CRD cannot express, checked here. */
const MIN_INTERVAL_MS = 10;
const MAX_TIMEOUT_MS = 30_000;

/** A spec as it may arrive: every defaulted field optional (defaults applied here too). */
export type PartialSpec = {
  readonly server?: Partial<DNSProbeSpec['server']>;
  readonly queries?: readonly {
    readonly name: string;
    readonly type?: string;
    readonly expectRcode?: string;
  }[];
  readonly interval?: string;
  readonly timeout?: string;
  readonly adaptiveTimeout?: boolean;
  readonly transport?: string;
  readonly maxQPS?: number;
  readonly thresholds?: Partial<DNSProbeSpec['thresholds']>;
  readonly readiness?: Partial<DNSProbeSpec['readiness']>;
  readonly remediation?: Partial<DNSProbeSpec['remediation']>;
};

/** Throws PermanentError('InvalidSpec') naming the field at fault. */
export function probeSettings(spec: PartialSpec): ProbeSettings {
  const th = { ...DEFAULTS.thresholds, ...stripUndefined(spec.thresholds ?? {}) };
  const rem = { ...DEFAULTS.remediation, ...stripUndefined(spec.remediation ?? {}) };
  const readiness = { ...DEFAULTS.readiness, ...stripUndefined(spec.readiness ?? {}) };
  const intervalMs = duration('interval', spec.interval ?? DEFAULTS.interval);
  const timeoutMs = duration('timeout', spec.timeout ?? DEFAULTS.timeout);
  if (intervalMs < MIN_INTERVAL_MS) invalid('interval', `must be at least ${MIN_INTERVAL_MS}ms`);
  if (timeoutMs > MAX_TIMEOUT_MS) invalid('timeout', `must be at most ${MAX_TIMEOUT_MS / 1000}s`);
  return Object.freeze({
    port: integer('server.port', spec.server?.port ?? DEFAULTS.port, 1, 65535),
    queries: prepareQueries(spec.queries ?? []),
    intervalMs,
    timeoutMs,
    adaptiveTimeout: spec.adaptiveTimeout ?? DEFAULTS.adaptiveTimeout,
    transport: transportOf(spec.transport ?? DEFAULTS.transport),
    maxQps: integer('maxQPS', spec.maxQPS ?? DEFAULTS.maxQPS, 1, 10_000),
    thresholds: Object.freeze({
      consecutiveFailures: integer(
        'thresholds.consecutiveFailures',
        th.consecutiveFailures,
        1,
        1000,
      ),
      rttSpikeSigma: nonNegative('thresholds.rttSpikeSigma', th.rttSpikeSigma),
      rttWindowMs: duration('thresholds.rttWindow', th.rttWindow),
      nxdomainRatio: ratio('thresholds.nxdomainRatio', th.nxdomainRatio),
      nxdomainWindowMs: duration('thresholds.nxdomainWindow', th.nxdomainWindow),
      servfailEntropyBits: nonNegative('thresholds.servfailEntropyBits', th.servfailEntropyBits),
      recoverySuccesses: integer('thresholds.recoverySuccesses', th.recoverySuccesses, 1, 1000),
    }),
    readiness: Object.freeze({
      port: integer('readiness.port', readiness.port, 1, 65535),
      path: readiness.path.startsWith('/')
        ? readiness.path
        : invalid('readiness.path', 'must start with /'),
    }),
    remediation: Object.freeze({
      mode: modeOf(rem.mode),
      cooldownMs: duration('remediation.cooldown', rem.cooldown, true),
      maxEvictionsPerHour: integer(
        'remediation.maxEvictionsPerHour',
        rem.maxEvictionsPerHour,
        0,
        60,
      ),
      minReadyPods: integer('remediation.minReadyPods', rem.minReadyPods, 0, 1000),
    }),
  });
}

function prepareQueries(queries: NonNullable<PartialSpec['queries']>): readonly PreparedQuery[] {
  if (queries.length === 0) invalid('queries', 'at least one query is required');
  return Object.freeze(
    queries.map((q, i) => {
      try {
        return prepareQuery(q.name, q.type ?? DEFAULTS.queryType, q.expectRcode ?? 'NOERROR');
      } catch (err) {
        return invalid(`queries[${i}]`, err instanceof Error ? err.message : String(err), err);
      }
    }),
  );
}

function transportOf(value: string): Transport {
  const upper = value.toUpperCase();
  if (upper === 'UDP') return 'udp';
  if (upper === 'TCP') return 'tcp';
  return invalid('transport', `must be UDP or TCP, got "${value}"`);
}

function modeOf(value: string): RemediationMode {
  if (value === 'Off' || value === 'DryRun' || value === 'Evict') return value;
  return invalid('remediation.mode', `must be Off, DryRun or Evict, got "${value}"`);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function invalid(field: string, message: string, cause?: unknown): never {
  throw new PermanentError(
    'InvalidSpec',
    `spec.${field}: ${message}`,
    cause === undefined ? undefined : { cause },
  );
}

function duration(field: string, value: string, allowZero = false): number {
  let ms: number;
  try {
    ms = parseDuration(value);
  } catch (err) {
    return invalid(field, err instanceof Error ? err.message : String(err), err);
  }
  if (ms === 0 && !allowZero) invalid(field, 'must be greater than zero');
  return ms;
}

function integer(field: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    invalid(field, `must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}

function nonNegative(field: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
    invalid(field, `must be a number >= 0, got ${value}`);
  return value;
}

function ratio(field: string, value: number): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1))
    invalid(field, `must be between 0 and 1, got ${value}`);
  return value;
}
