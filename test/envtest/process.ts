import { spawn, type ChildProcess } from 'node:child_process';
import {
  createWriteStream,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';

/**
 * Child processes of the harness. Each runs in its own process group (so a kill reaches whatever
 * it forked), its output goes to a log file, and it is registered so that:
 *  - `stop()` is bounded: SIGTERM, then SIGKILL after a grace period;
 *  - a normal exit of this Node process, or SIGINT/SIGTERM/SIGHUP, kills every live group;
 *  - if this process dies hard (SIGKILL), the next harness start reaps the groups it left behind,
 *    found through a per-owner pid file in the OS temp dir.
 */

export interface ProcessSpec {
  /** A short name for logs and errors, e.g. `etcd` or `coredns-127.4.9.2`. */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  /** Where stdout and stderr go (appended). */
  readonly logFile: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

const registryDir = join(tmpdir(), 'dnsop-envtest-pids');
const live = new Set<ManagedProcess>();
let hooksInstalled = false;

export class ManagedProcess {
  readonly name: string;
  readonly command: string;
  readonly logFile: string;
  readonly #child: ChildProcess;
  readonly #exited: Promise<ExitInfo>;
  #exitInfo: ExitInfo | undefined;

  private constructor(spec: ProcessSpec, child: ChildProcess) {
    this.name = spec.name;
    this.command = spec.command;
    this.logFile = spec.logFile;
    this.#child = child;
    this.#exited = new Promise<ExitInfo>((resolve) => {
      child.once('exit', (code, signal) => {
        this.#exitInfo = { code, signal };
        live.delete(this);
        writePidRegistry();
        removeExitHooks();
        resolve(this.#exitInfo);
      });
    });
  }

  /** Starts the process; rejects if it cannot be spawned at all (e.g. binary missing). */
  static async start(spec: ProcessSpec): Promise<ManagedProcess> {
    installExitHooks();
    const log = createWriteStream(spec.logFile, { flags: 'a' });
    await new Promise<void>((resolve, reject) => {
      log.once('open', () => resolve());
      log.once('error', reject);
    });
    log.write(`--- ${new Date().toISOString()} ${spec.command} ${spec.args.join(' ')}\n`);
    const child = spawn(spec.command, [...spec.args], {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      detached: true, // own process group
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    child.once('exit', () => setImmediate(() => log.end()));
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', () => resolve());
      child.once('error', (err) =>
        reject(new Error(`cannot start ${spec.name} (${spec.command})`, { cause: err })),
      );
    });
    const proc = new ManagedProcess(spec, child);
    live.add(proc);
    writePidRegistry();
    return proc;
  }

  get pid(): number {
    const pid = this.#child.pid;
    if (pid === undefined) throw new Error(`${this.name} has no pid`);
    return pid;
  }

  get running(): boolean {
    return this.#exitInfo === undefined;
  }

  get exitInfo(): ExitInfo | undefined {
    return this.#exitInfo;
  }

  /** Resolves when the process has exited (for any reason). */
  exited(): Promise<ExitInfo> {
    return this.#exited;
  }

  /** Sends a signal to the whole process group; a no-op once the process is gone. */
  signal(signal: NodeJS.Signals): void {
    if (!this.running) return;
    signalGroup(this.pid, signal);
  }

  /** SIGSTOP: the process hangs (sockets stay open, nothing answers). */
  pause(): void {
    this.signal('SIGSTOP');
  }

  /** SIGCONT: undoes `pause()`. */
  resume(): void {
    this.signal('SIGCONT');
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
  async stop(graceMs = 5_000): Promise<ExitInfo> {
    if (!this.running) return this.#exitInfo!;
    this.signal('SIGCONT'); // a paused process cannot act on SIGTERM
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    try {
      return await this.#exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGKILL now; resolves once the process has exited. */
  async kill(): Promise<ExitInfo> {
    this.signal('SIGKILL');
    return this.#exited;
  }

  /** The last `maxBytes` of the log, for error messages. */
  logTail(maxBytes = 4_000): string {
    try {
      const text = readFileSync(this.logFile, 'utf8');
      return text.length > maxBytes ? text.slice(-maxBytes) : text;
    } catch {
      return '';
    }
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/** Kills every live child group at once; synchronous so it can run in an `exit` handler. */
export function killAllChildProcesses(): void {
  for (const proc of live) {
    try {
      signalGroup(proc.pid, 'SIGKILL');
    } catch {
      // best effort during shutdown
    }
  }
  live.clear();
  removePidRegistry();
}

const exitSignals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

function onExitSignal(signal: NodeJS.Signals): void {
  killAllChildProcesses();
  // Keep the default outcome of the signal when nobody else handles it.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

/**
 * Installed while children are alive and removed when the last one exits, so that a runner
 * loading this module once per test file does not pile up listeners.
 */
function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  reapOrphans();
  process.once('exit', killAllChildProcesses);
  for (const signal of exitSignals) process.once(signal, onExitSignal);
}

function removeExitHooks(): void {
  if (!hooksInstalled || live.size > 0) return;
  hooksInstalled = false;
  process.removeListener('exit', killAllChildProcesses);
  for (const signal of exitSignals) process.removeListener(signal, onExitSignal);
}

function pidRegistryFile(ownerPid: number): string {
  return join(registryDir, `${ownerPid}.json`);
}

interface PidRecord {
  readonly pgid: number;
  readonly name: string;
  readonly command: string;
  readonly logFile: string;
}

function writePidRegistry(): void {
  const records: PidRecord[] = [...live].map((p) => ({
    pgid: p.pid,
    name: p.name,
    command: p.command,
    logFile: p.logFile,
  }));
  if (records.length === 0) {
    removePidRegistry();
    return;
  }
  mkdirSync(registryDir, { recursive: true });
  writeFileSync(pidRegistryFile(process.pid), JSON.stringify(records));
}

function removePidRegistry(): void {
  rmSync(pidRegistryFile(process.pid), { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Kills process groups registered by harness processes that are gone (e.g. a SIGKILLed jest). */
function reapOrphans(): void {
  let files: string[];
  try {
    files = readdirSync(registryDir);
  } catch {
    return;
  }
  for (const file of files) {
    const owner = Number(basename(file, '.json'));
    if (!Number.isInteger(owner) || owner === process.pid || isAlive(owner)) continue;
    try {
      const records = JSON.parse(readFileSync(join(registryDir, file), 'utf8')) as PidRecord[];
      for (const record of records) {
        // The pid may have been reused since: only kill a group still led by our command.
        if (commandOf(record.pgid) === record.command) signalGroup(record.pgid, 'SIGKILL');
        removeScratchDir(dirname(record.logFile));
      }
    } catch {
      // unreadable record: nothing we can safely kill
    }
    rmSync(join(registryDir, file), { force: true });
  }
}

function commandOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0];
  } catch {
    return undefined;
  }
}

/** Removes a harness scratch dir (`$TMPDIR/dnsop-*`) left by a dead owner, unless kept on purpose. */
function removeScratchDir(dir: string): void {
  if (process.env['DNSOP_ENVTEST_KEEP'] === '1') return;
  if (dirname(dir) !== tmpdir() || !basename(dir).startsWith('dnsop-')) return;
  rmSync(dir, { recursive: true, force: true });
}
