/**
 * `dnsop probe`: the DNSProbe engine (same resolver, scheduler, detector, defaults and thresholds)
 * from a terminal, no cluster needed. Prints a line on every target state change while it runs,
 * then a summary; `-o json` makes every line one JSON object (DESIGN.md, "CLI").
 *
 * Exit codes, so a script can use it as a health check: 0 when every target ended Healthy, 1 when
 * any did not (Failing, Degraded, or never answered), 2 on bad arguments.
 *
 * Start-up matters (the first probe within 300 ms of launch): this file and what it imports stay
 * free of the operator framework, the Kubernetes client and the cloud SDKs.
 */
import net from 'node:net';
import type { CliIO } from '../cli-io';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from '../cli-io';
import { parseDuration } from '../runtime/duration';
import { describeError } from '../runtime/errors';
import { describeSignals, type Signal, type TargetAssessment } from './detector';
import { ProbeEngine, type EngineTarget, type TargetChange } from './engine';
import { LoopLagMonitor } from './loop-lag';
import { QUERY_TYPES } from './query';
import { makeTarget } from './resolver';
import { DEFAULTS, probeSettings, type ProbeSettings } from './settings';

export interface ProbeCommandOptions {
  readonly servers: readonly string[];
  readonly queries: readonly string[];
  readonly interval: string;
  readonly timeout: string;
  readonly transport: string;
  readonly duration: string;
  readonly output: string;
}

class UsageError extends Error {
  override readonly name = 'UsageError';
}

interface ParsedOptions {
  readonly targets: readonly EngineTarget[];
  readonly settings: ProbeSettings;
  readonly durationMs: number;
  readonly json: boolean;
}

export async function runProbeCommand(
  options: ProbeCommandOptions,
  io: CliIO,
  signal?: AbortSignal,
): Promise<number> {
  let parsed: ParsedOptions;
  try {
    parsed = parseOptions(options);
  } catch (err) {
    io.stderr(`dnsop probe: ${describeError(err)}\n`);
    return EXIT_USAGE;
  }
  const { json } = parsed;
  const lag = new LoopLagMonitor();
  const engine = new ProbeEngine({
    settings: parsed.settings,
    lag,
    onAssessment: (_a, changes) => {
      for (const change of changes) io.stdout(json ? changeJson(change) : changeText(change));
    },
  });
  engine.setTargets(parsed.targets);
  lag.start();
  engine.start();
  await runFor(parsed.durationMs, signal);
  engine.stop();
  lag.stop();
  const final = engine.assessNow();
  io.stdout(json ? summaryJson(engine) : summaryText(engine));
  const allHealthy = final.targets.length > 0 && final.targets.every((t) => t.state === 'Healthy');
  return allHealthy ? EXIT_OK : EXIT_FAILURE;
}

/**
 * Waits `ms` or until aborted. Unlike runtime's sleep(), the timer is ref'ed: the engine's sockets
 * and timers are unref'ed, and this is what keeps a terminal command alive while it probes.
 */
function runFor(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

function parseOptions(o: ProbeCommandOptions): ParsedOptions {
  if (o.servers.length === 0) throw new UsageError('--server: at least one server is required');
  if (o.queries.length === 0) throw new UsageError('--query: at least one query is required');
  const output = o.output.toLowerCase();
  if (output !== 'text' && output !== 'json')
    throw new UsageError(`-o: must be text or json, got "${o.output}"`);
  const transport = o.transport.toLowerCase();
  if (transport !== 'udp' && transport !== 'tcp') {
    throw new UsageError(`--transport: must be udp or tcp, got "${o.transport}"`);
  }
  const interval = flagDuration('--interval', o.interval);
  const timeout = flagDuration('--timeout', o.timeout);
  const durationMs = parseDuration(flagDuration('--duration', o.duration));
  const queries = o.queries.map(parseQuery);
  let settings: ProbeSettings;
  try {
    settings = probeSettings({ queries, interval, timeout, transport: transport.toUpperCase() });
  } catch (err) {
    // Name the flag rather than the CRD field.
    const message = describeError(err)
      .replace(/^spec\.queries\[(\d+)\]/, (_m, i: string) => `--query "${o.queries[Number(i)]}"`)
      .replace(/^spec\./, '--');
    throw new UsageError(message);
  }
  const seen = new Set<string>();
  const targets: EngineTarget[] = [];
  for (const server of o.servers) {
    const target = parseServer(server);
    if (seen.has(target.key)) continue;
    seen.add(target.key);
    targets.push({ target, identity: { key: target.key, address: target.key, kind: 'Address' } });
  }
  return { targets, settings, durationMs, json: output === 'json' };
}

function flagDuration(flag: string, value: string): string {
  let ms: number;
  try {
    ms = parseDuration(value);
  } catch (err) {
    throw new UsageError(`${flag}: ${describeError(err)}`);
  }
  if (ms <= 0) throw new UsageError(`${flag}: must be greater than zero`);
  return value;
}

/** "ip", "ip:port", "[v6]:port" or a bare IPv6 address. */
export function parseServer(text: string): ReturnType<typeof makeTarget> {
  const value = text.trim();
  let address = value;
  let port: number = DEFAULTS.port;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(value);
  const v4 = /^([0-9.]+):(\d+)$/.exec(value);
  if (bracketed) {
    address = bracketed[1]!;
    if (bracketed[2] !== undefined) port = Number(bracketed[2]);
  } else if (v4) {
    address = v4[1]!;
    port = Number(v4[2]);
  }
  if (net.isIP(address) === 0) {
    throw new UsageError(
      `--server "${text}": expected an IP address with an optional port (10.96.0.10, 10.96.0.10:53, [fd00::a]:53)`,
    );
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UsageError(`--server "${text}": port must be from 1 to 65535`);
  }
  return makeTarget(address, port);
}

/** "name" or "name/TYPE". */
export function parseQuery(text: string): { name: string; type: string } {
  const slash = text.lastIndexOf('/');
  const name = slash < 0 ? text : text.slice(0, slash);
  const type = slash < 0 ? DEFAULTS.queryType : text.slice(slash + 1).toUpperCase();
  if (!(QUERY_TYPES as readonly string[]).includes(type)) {
    throw new UsageError(`--query "${text}": type must be one of ${QUERY_TYPES.join(', ')}`);
  }
  return { name, type };
}

/** The signal that best explains a state: the failure first, else the first anomaly. */
function primarySignal(t: TargetAssessment): Signal | undefined {
  return t.signals.find((s) => s.signal === 'ConsecutiveFailures') ?? t.signals[0];
}

function changeText(change: TargetChange): string {
  const t = change.assessment;
  const why = t.signals.length > 0 ? ` ${describeSignals(t.signals)}` : '';
  const error =
    t.state === 'Failing' && t.lastError !== undefined ? ` last error: ${t.lastError}` : '';
  return `${new Date().toISOString()} ${t.identity.address} ${change.from} -> ${t.state}${why}${error}\n`;
}

function changeJson(change: TargetChange): string {
  const t = change.assessment;
  const signal = primarySignal(t);
  return `${JSON.stringify({
    time: new Date().toISOString(),
    target: t.identity.address,
    state: t.state,
    ...(signal !== undefined ? { signal: signal.signal, value: round(signal.value, 4) } : {}),
  })}\n`;
}

interface SummaryRow {
  readonly target: string;
  readonly probes: number;
  readonly successRatio: number;
  readonly p50Ms?: number;
  readonly p99Ms?: number;
  readonly state: string;
}

function summaryRows(engine: ProbeEngine): SummaryRow[] {
  const states = new Map(engine.last?.targets.map((t) => [t.identity.key, t.state]) ?? []);
  return engine.entries().map((e) => {
    const s = e.window.summary();
    return {
      target: e.identity.address,
      probes: s.probes,
      successRatio: round(s.successRatio, 4),
      ...(s.p50Ms !== undefined ? { p50Ms: round(s.p50Ms, 3) } : {}),
      ...(s.p99Ms !== undefined ? { p99Ms: round(s.p99Ms, 3) } : {}),
      state: states.get(e.identity.key) ?? 'Unknown',
    };
  });
}

function summaryJson(engine: ProbeEngine): string {
  const targets = summaryRows(engine).map(({ state: _state, ...row }) => row);
  return `${JSON.stringify({ summary: { targets } })}\n`;
}

function summaryText(engine: ProbeEngine): string {
  const rows = summaryRows(engine);
  const header = ['TARGET', 'PROBES', 'SUCCESS', 'P50(ms)', 'P99(ms)', 'STATE'];
  const lines = rows.map((r) => [
    r.target,
    String(r.probes),
    `${(r.successRatio * 100).toFixed(2)}%`,
    r.p50Ms?.toFixed(3) ?? '-',
    r.p99Ms?.toFixed(3) ?? '-',
    r.state,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return `${[fmt(header), ...lines.map(fmt)].join('\n')}\n`;
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
