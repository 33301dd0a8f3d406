import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { ManagedProcess, type ExitInfo } from './process';
import { httpOk, WaitAbortedError, waitFor } from './wait';

export interface CoreDnsServerOptions {
  readonly binary: string;
  /** A unique name, also used for the Corefile and log file names. */
  readonly name: string;
  readonly workDir: string;
  /** `http://ip:port/ready` of the `ready` plugin, or undefined when the Corefile has none. */
  readonly readyUrl?: string;
  readonly startTimeoutMs?: number;
  /** Environment of the process, e.g. GOGC for a GC-heavy server (default: this process's). */
  readonly env?: NodeJS.ProcessEnv;
}

/** One CoreDNS process with its own Corefile; reloadable with a new Corefile (SIGUSR1). */
export class CoreDnsServer {
  readonly name: string;
  readonly corefilePath: string;
  readonly #options: CoreDnsServerOptions;
  #process: ManagedProcess | undefined;

  /** Prepares the server; nothing runs until `reload()` has written a Corefile and `start()`. */
  constructor(options: CoreDnsServerOptions) {
    this.#options = options;
    this.name = options.name;
    this.corefilePath = join(options.workDir, `${options.name}.Corefile`);
  }

  /** Writes `corefile` and starts the process. */
  static async start(
    options: CoreDnsServerOptions & { readonly corefile: string },
  ): Promise<CoreDnsServer> {
    const server = new CoreDnsServer(options);
    writeFileSync(server.corefilePath, options.corefile);
    await server.start(options.readyUrl !== undefined);
    return server;
  }

  get pid(): number | undefined {
    return this.#process?.running === true ? this.#process.pid : undefined;
  }

  get running(): boolean {
    return this.#process?.running === true;
  }

  get logFile(): string {
    return join(this.#options.workDir, `${this.#options.name}.log`);
  }

  /**
   * Starts the process if it is not running. With `awaitReady` (the default) resolves once
   * `/ready` answers 200; otherwise once the server has logged that it is serving.
   */
  async start(awaitReady = true): Promise<void> {
    if (this.running) return;
    this.#process = await ManagedProcess.start({
      name: this.name,
      command: this.#options.binary,
      args: ['-conf', this.corefilePath],
      logFile: this.logFile,
      ...(this.#options.env !== undefined ? { env: this.#options.env } : {}),
    });
    const proc = this.#process;
    if (awaitReady) {
      await this.waitReady();
    } else {
      // CoreDNS prints its version banner once every server block listens.
      await this.#waitForLog(proc, /^CoreDNS-\d/m, 0);
    }
  }

  /** Resolves once `/ready` answers 200 (or, without a ready URL, once the server is up). */
  async waitReady(timeoutMs = this.#options.startTimeoutMs ?? 30_000): Promise<void> {
    const proc = this.#process;
    const readyUrl = this.#options.readyUrl;
    if (readyUrl === undefined) {
      if (proc !== undefined) await this.#waitForLog(proc, /^CoreDNS-\d/m, 0);
      return;
    }
    await waitFor(
      `${this.name} to be ready`,
      async () => {
        if (proc?.running !== true) {
          throw new WaitAbortedError(`${this.name} is not running:\n${proc?.logTail() ?? ''}`);
        }
        return (await httpOk(readyUrl, 500)) ? true : undefined;
      },
      { timeoutMs, intervalMs: 100 },
    );
  }

  /**
   * Writes a new Corefile and, if running, has CoreDNS reload it (SIGUSR1). Resolves once CoreDNS
   * logged the reload and, with `awaitReady`, `/ready` answers 200; rejects if CoreDNS refused the
   * new Corefile (it then keeps serving the old one).
   */
  async reload(corefile: string, awaitReady = true): Promise<void> {
    writeFileSync(this.corefilePath, corefile);
    const proc = this.#process;
    if (proc?.running !== true) return;
    const reloadsBefore = countMatches(currentRunLog(proc), reloadDone);
    proc.resume(); // a paused process would not act on the signal
    proc.signal('SIGUSR1');
    await this.#waitForLog(proc, reloadDone, reloadsBefore);
    if (awaitReady) await this.waitReady();
  }

  /**
   * Waits until `pattern` occurs more than `seenBefore` times in the current run's log; while
   * waiting for a reload, a new "Restart failed" line means CoreDNS rejected the Corefile.
   */
  async #waitForLog(proc: ManagedProcess, pattern: RegExp, seenBefore: number): Promise<void> {
    const failuresBefore = countMatches(currentRunLog(proc), reloadFailed);
    await waitFor(
      `${this.name} to log ${String(pattern)}`,
      () => {
        if (!proc.running) {
          throw new WaitAbortedError(`${this.name} exited:\n${proc.logTail()}`);
        }
        const log = currentRunLog(proc);
        if (pattern === reloadDone && countMatches(log, reloadFailed) > failuresBefore) {
          throw new WaitAbortedError(`${this.name} rejected the new Corefile:\n${proc.logTail()}`);
        }
        return countMatches(log, pattern) > seenBefore ? true : undefined;
      },
      { timeoutMs: this.#options.startTimeoutMs ?? 30_000, intervalMs: 50 },
    );
  }

  /** Hangs the process (SIGSTOP): sockets stay bound, nothing answers. */
  pause(): void {
    this.#process?.pause();
  }

  resume(): void {
    this.#process?.resume();
  }

  /** Kills the process (SIGKILL), as a crash would. */
  async kill(): Promise<ExitInfo | undefined> {
    return this.#process?.kill();
  }

  /** Graceful stop (SIGTERM, then SIGKILL after `graceMs`). */
  async stop(graceMs = 2_000): Promise<void> {
    await this.#process?.stop(graceMs);
  }

  /** Resolves when the current process exits. */
  async exited(): Promise<ExitInfo | undefined> {
    return this.#process?.exited();
  }
}

const reloadDone = /\[INFO\] Reloading complete/g;
const reloadFailed = /\[ERROR\] Restart failed/g;

function countMatches(text: string, pattern: RegExp): number {
  const global = pattern.flags.includes('g')
    ? pattern
    : new RegExp(pattern.source, `${pattern.flags}g`);
  return text.match(global)?.length ?? 0;
}

/** The log of the current process only: ManagedProcess starts each run with a `--- ` line. */
function currentRunLog(proc: ManagedProcess): string {
  const log = proc.logTail(Number.MAX_SAFE_INTEGER);
  const start = log.lastIndexOf('\n--- ');
  return start < 0 ? log : log.slice(start);
}
