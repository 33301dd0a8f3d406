import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { freeTcpPort } from './net';
import { ManagedProcess, type ExitInfo } from './process';
import { waitFor } from './wait';

const ROOT = join(__dirname, '..', '..');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * `bin/dnsop.js` runs the compiled CLI in dist/; compile it when any source is newer, so a
 * process-level test never runs yesterday's build.
 */
export function ensureBuilt(): void {
  const main = join(ROOT, 'dist', 'main.js');
  if (existsSync(main) && statSync(main).mtimeMs >= newestMtime(join(ROOT, 'operator'))) return;
  execFileSync(
    process.execPath,
    [join(ROOT, 'node_modules', '.bin', 'tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: ROOT,
      stdio: 'inherit',
    },
  );
}

/** The test's environment without KUBECONFIG: every process gets its kubeconfig as a flag. */
function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env['KUBECONFIG'];
  return env;
}

export interface LogLine {
  readonly level: string;
  readonly msg: string;
  readonly [field: string]: unknown;
}

/**
 * The real CLI as its own process: `node bin/dnsop.js <args>`, in its own process group, stderr
 * (the JSON log) and stdout in a log file.
 */
export class DnsopProcess {
  readonly proc: ManagedProcess;
  readonly metricsPort: number;
  readonly startedAt: number;

  private constructor(proc: ManagedProcess, metricsPort: number, startedAt: number) {
    this.proc = proc;
    this.metricsPort = metricsPort;
    this.startedAt = startedAt;
  }

  /** Starts `dnsop run` with these flags (a free loopback metrics port is added). */
  static async run(name: string, flags: readonly string[]): Promise<DnsopProcess> {
    ensureBuilt();
    const metricsPort = await freeTcpPort();
    const dir = mkdtempSync(join(tmpdir(), `dnsop-${name}-`));
    const startedAt = Date.now();
    const proc = await ManagedProcess.start({
      name: `dnsop-${name}`,
      command: process.execPath,
      args: [
        join(ROOT, 'bin', 'dnsop.js'),
        'run',
        '--metrics-addr',
        `127.0.0.1:${metricsPort}`,
        ...flags,
      ],
      logFile: join(dir, 'dnsop.log'),
      env: childEnv(),
    });
    return new DnsopProcess(proc, metricsPort, startedAt);
  }

  get running(): boolean {
    return this.proc.running;
  }

  /** The JSON log lines written so far (other lines are skipped). */
  logs(): LogLine[] {
    let text = '';
    try {
      text = readFileSync(this.proc.logFile, 'utf8');
    } catch {
      return [];
    }
    const out: LogLine[] = [];
    for (const line of text.split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        out.push(JSON.parse(line) as LogLine);
      } catch {
        // a line being written
      }
    }
    return out;
  }

  /** Lines of the log file that are not JSON (nothing should ever land there). */
  rawLines(): string[] {
    try {
      return readFileSync(this.proc.logFile, 'utf8')
        .split('\n')
        .filter((l) => l.length > 0 && !l.startsWith('{') && !l.startsWith('--- '));
    } catch {
      return [];
    }
  }

  async waitForLog(
    description: string,
    match: (line: LogLine) => boolean,
    timeoutMs = 60_000,
  ): Promise<LogLine> {
    return waitFor(
      `${this.proc.name} to log ${description}`,
      () => {
        if (!this.proc.running) {
          throw new Error(`${this.proc.name} exited: ${this.proc.logTail(2_000)}`);
        }
        return this.logs().find(match);
      },
      { timeoutMs, intervalMs: 200 },
    );
  }

  async get(path: string): Promise<{ status: number; body: string }> {
    const res = await fetch(`http://127.0.0.1:${this.metricsPort}${path}`);
    return { status: res.status, body: await res.text() };
  }

  /** A metric's value from /metrics (the sum over series matching `labels`). */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    const { body } = await this.get('/metrics');
    let sum = 0;
    for (const line of body.split('\n')) {
      if (!line.startsWith(name)) continue;
      const m = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
      if (m?.[1] !== name) continue;
      const labelText = m[2] ?? '';
      if (Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`))) {
        sum += Number(m[3]);
      }
    }
    return sum;
  }

  /** Sends a signal and resolves with the exit and how long it took. */
  async signalAndWait(signal: NodeJS.Signals): Promise<ExitInfo & { ms: number }> {
    const sent = Date.now();
    process.kill(this.proc.pid, signal);
    const info = await this.proc.exited();
    return { ...info, ms: Date.now() - sent };
  }

  async stop(): Promise<void> {
    await this.proc.stop(30_000);
  }
}

/** Runs `node bin/dnsop.js <args>` to completion: exit code and what it printed. */
export function runDnsop(
  args: readonly string[],
  timeoutMs = 30_000,
): { code: number | null; stdout: string; stderr: string } {
  ensureBuilt();
  try {
    const stdout = execFileSync(process.execPath, [join(ROOT, 'bin', 'dnsop.js'), ...args], {
      encoding: 'utf8',
      timeout: timeoutMs,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: childEnv(),
    });
    return { code: 0, stdout, stderr: '' };
  } catch (err) {
    const e = err as { status: number | null; stdout?: string; stderr?: string };
    return { code: e.status, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}
