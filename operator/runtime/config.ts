/**
 * Operator configuration: parsed once from flags and environment into a frozen, typed object
 * that is passed in. Every bad value fails with one clear message naming the flag.
 */
import { parseDuration } from './duration';
import { LOG_LEVELS, type LogLevel } from './logger';

export const CONTROLLERS = ['dnspolicy', 'dnsprobe'] as const;
export type ControllerName = (typeof CONTROLLERS)[number];

export interface Config {
  /** Namespace to watch; "" watches all namespaces. */
  readonly namespace: string;
  /**
   * Namespaces the operator trusts (DESIGN.md, Tenancy): their DNSPolicies may use
   * namespaceSelector, ambient cloud credentials, any ownerId and provider endpoints; their
   * DNSProbes may probe other namespaces and fixed addresses, override readiness and evict.
   * Default: the operator's own namespace and kube-system.
   */
  readonly trustedNamespaces: readonly string[];
  /** Policies in untrusted namespaces publish only names their Namespace grants (dnsop.io/allowed-domains). */
  readonly requireDomainGrants: boolean;
  /**
   * Namespaces whose Secrets the operator may read (credentials); undefined: any namespace
   * (the shipped ClusterRole). Set together with namespaced Roles (deploy/secrets-by-namespace/).
   */
  readonly secretNamespaces?: readonly string[];
  /** A `controller` annotation value the operator answers to besides "dnsop" ("" = none). */
  readonly controllerName: string;
  readonly metricsHost: string;
  readonly metricsPort: number;
  readonly leaderElect: boolean;
  readonly leaderElectionNamespace: string;
  readonly leaderElectionId: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  readonly identity: string;
  readonly logLevel: LogLevel;
  readonly kubeconfig?: string;
  readonly concurrency: number;
  readonly controllers: readonly ControllerName[];
  /** Period of the full relist that every informer cache does as a safety net. */
  readonly cacheResyncMs: number;
  /** Per-DNSPolicy spacing of event-driven syncs (records/reconciler.ts: the fast path). */
  readonly debounceMs: number;
  /** Cap of probe queries per second summed over all DNSProbes of one namespace. */
  readonly probeNamespaceMaxQps: number;
  /** Cap of probe queries per second summed over every DNSProbe in the cluster. */
  readonly probeClusterMaxQps: number;
  /** From SIGTERM to exit, at most (in-flight reconciles get all but the last 5 s). */
  readonly shutdownGraceMs: number;
}

/** Raw values as they come from the CLI parser (strings, booleans) or the environment. */
export interface RawConfig {
  readonly namespace?: string;
  readonly trustedNamespaces?: string;
  readonly requireDomainGrants?: boolean | string;
  readonly secretNamespaces?: string;
  readonly controllerName?: string;
  readonly metricsAddr?: string;
  readonly leaderElect?: boolean | string;
  readonly leaderElectionNamespace?: string;
  readonly leaderElectionId?: string;
  readonly leaseDuration?: string;
  readonly renewDeadline?: string;
  readonly retryPeriod?: string;
  readonly identity?: string;
  readonly logLevel?: string;
  readonly kubeconfig?: string;
  readonly concurrency?: string | number;
  readonly controllers?: string;
  readonly cacheResync?: string;
  readonly debounce?: string;
  readonly probeNamespaceMaxQps?: string | number;
  readonly probeClusterMaxQps?: string | number;
  readonly shutdownGrace?: string;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

function fail(flag: string, message: string): never {
  throw new ConfigError(`--${flag}: ${message}`);
}

function duration(flag: string, value: string, min: number): number {
  let ms: number;
  try {
    ms = parseDuration(value);
  } catch (err) {
    fail(flag, err instanceof Error ? err.message : String(err));
  }
  if (ms < min) fail(flag, `must be at least ${min}ms, got "${value}"`);
  return ms;
}

function integer(flag: string, value: string | number, min: number, max: number): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    fail(flag, `must be an integer from ${min} to ${max}, got "${value}"`);
  }
  return n;
}

function bool(flag: string, value: boolean | string | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value === 'boolean') return value;
  if (['true', '1', 'yes'].includes(value.toLowerCase())) return true;
  if (['false', '0', 'no'].includes(value.toLowerCase())) return false;
  fail(flag, `must be true or false, got "${value}"`);
}

function namespaceName(flag: string, value: string): string {
  if (!DNS_LABEL.test(value)) fail(flag, `"${value}" is not a valid namespace name`);
  return value;
}

/** Parses "host:port", ":port" or "port". */
export function parseListenAddress(flag: string, value: string): { host: string; port: number } {
  const match = /^(?:(\[[0-9a-fA-F:]+\]|[^:]*):)?([0-9]+)$/.exec(value.trim());
  if (!match) fail(flag, `expected host:port or :port, got "${value}"`);
  const host = (match[1] ?? '').replace(/^\[|\]$/g, '');
  return { host: host === '' ? '0.0.0.0' : host, port: integer(flag, match[2] ?? '', 0, 65535) };
}

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function leaderElection(
  raw: RawConfig,
  env: NodeJS.ProcessEnv,
): Pick<
  Config,
  | 'leaderElect'
  | 'leaderElectionNamespace'
  | 'leaderElectionId'
  | 'leaseDurationMs'
  | 'renewDeadlineMs'
  | 'retryPeriodMs'
  | 'identity'
> {
  const leaseDurationMs = duration('lease-duration', raw.leaseDuration ?? '15s', 1000);
  const renewDeadlineMs = duration('renew-deadline', raw.renewDeadline ?? '10s', 500);
  const retryPeriodMs = duration('retry-period', raw.retryPeriod ?? '2s', 100);
  if (renewDeadlineMs >= leaseDurationMs) {
    fail('renew-deadline', 'must be shorter than --lease-duration');
  }
  if (retryPeriodMs >= renewDeadlineMs)
    fail('retry-period', 'must be shorter than --renew-deadline');
  return {
    leaderElect: bool('leader-elect', raw.leaderElect, false),
    leaderElectionNamespace: namespaceName(
      'leader-election-namespace',
      raw.leaderElectionNamespace ?? env.POD_NAMESPACE ?? 'dnsop-system',
    ),
    leaderElectionId: namespaceName('leader-election-id', raw.leaderElectionId ?? 'dnsop-leader'),
    leaseDurationMs,
    renewDeadlineMs,
    retryPeriodMs,
    identity: raw.identity ?? env.POD_NAME ?? env.HOSTNAME ?? `dnsop-${process.pid}`,
  };
}

function logLevel(raw: RawConfig): LogLevel {
  const level = raw.logLevel ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    fail('log-level', `must be one of ${LOG_LEVELS.join(', ')}, got "${level}"`);
  }
  return level as LogLevel;
}

function controllerList(raw: RawConfig): readonly ControllerName[] {
  const controllers = list(raw.controllers ?? CONTROLLERS.join(','));
  for (const c of controllers) {
    if (!(CONTROLLERS as readonly string[]).includes(c)) {
      fail('controllers', `unknown controller "${c}"; known: ${CONTROLLERS.join(', ')}`);
    }
  }
  if (controllers.length === 0) fail('controllers', 'at least one controller must be enabled');
  return Object.freeze(controllers as ControllerName[]);
}

/** The operator's own namespace when none is configured (the shipped install's). */
export const DEFAULT_OPERATOR_NAMESPACE = 'dnsop-system';

function namespaceList(flag: string, value: string): readonly string[] {
  return Object.freeze([...new Set(list(value).map((n) => namespaceName(flag, n)))]);
}

/**
 * Tenancy flags. --trusted-namespaces unset: the operator's own namespace ($POD_NAMESPACE) and
 * kube-system; set to "" it trusts no namespace. --secret-namespaces unset: Secrets anywhere.
 */
function tenancy(
  raw: RawConfig,
  env: NodeJS.ProcessEnv,
): Pick<Config, 'trustedNamespaces' | 'requireDomainGrants' | 'secretNamespaces'> {
  const own = env.POD_NAMESPACE || DEFAULT_OPERATOR_NAMESPACE;
  return {
    trustedNamespaces: namespaceList(
      'trusted-namespaces',
      raw.trustedNamespaces ?? `${own},kube-system`,
    ),
    requireDomainGrants: bool('require-domain-grants', raw.requireDomainGrants, false),
    ...(raw.secretNamespaces !== undefined
      ? { secretNamespaces: namespaceList('secret-namespaces', raw.secretNamespaces) }
      : {}),
  };
}

export function buildConfig(raw: RawConfig, env: NodeJS.ProcessEnv = {}): Config {
  const { host, port } = parseListenAddress('metrics-addr', raw.metricsAddr ?? ':8080');
  const namespace = raw.namespace ?? '';
  return Object.freeze({
    namespace: namespace === '' ? '' : namespaceName('namespace', namespace),
    ...tenancy(raw, env),
    controllerName: (raw.controllerName ?? '').trim(),
    metricsHost: host,
    metricsPort: port,
    ...leaderElection(raw, env),
    logLevel: logLevel(raw),
    ...(raw.kubeconfig ? { kubeconfig: raw.kubeconfig } : {}),
    concurrency: integer('concurrency', raw.concurrency ?? 4, 1, 64),
    controllers: controllerList(raw),
    cacheResyncMs: duration('cache-resync', raw.cacheResync ?? '10m', 10_000),
    debounceMs: duration('debounce', raw.debounce ?? '200ms', 0),
    probeNamespaceMaxQps: integer(
      'probe-namespace-max-qps',
      raw.probeNamespaceMaxQps ?? 1000,
      1,
      100_000,
    ),
    probeClusterMaxQps: integer(
      'probe-cluster-max-qps',
      raw.probeClusterMaxQps ?? 2000,
      1,
      100_000,
    ),
    shutdownGraceMs: duration('shutdown-grace', raw.shutdownGrace ?? '25s', 2_000),
  });
}
