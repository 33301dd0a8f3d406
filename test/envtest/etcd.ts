import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { freeTcpPort } from './net';
import { ManagedProcess } from './process';
import { httpOk, WaitAbortedError, waitFor } from './wait';

export interface EtcdOptions {
  readonly binary: string;
  /** Scratch directory: the data dir and the log live under it. */
  readonly workDir: string;
  readonly startTimeoutMs?: number;
}

/** A single-member etcd on free loopback ports, data in a temp dir. */
export class Etcd {
  readonly clientUrl: string;
  readonly #options: EtcdOptions;
  readonly #peerUrl: string;
  #process: ManagedProcess | undefined;

  private constructor(options: EtcdOptions, clientPort: number, peerPort: number) {
    this.#options = options;
    this.clientUrl = `http://127.0.0.1:${clientPort}`;
    this.#peerUrl = `http://127.0.0.1:${peerPort}`;
  }

  static async start(options: EtcdOptions): Promise<Etcd> {
    const etcd = new Etcd(options, await freeTcpPort(), await freeTcpPort());
    await etcd.#run();
    return etcd;
  }

  async #run(): Promise<void> {
    const dataDir = join(this.#options.workDir, 'etcd-data');
    mkdirSync(dataDir, { recursive: true });
    this.#process = await ManagedProcess.start({
      name: 'etcd',
      command: this.#options.binary,
      args: [
        '--name=envtest',
        `--data-dir=${dataDir}`,
        `--listen-client-urls=${this.clientUrl}`,
        `--advertise-client-urls=${this.clientUrl}`,
        `--listen-peer-urls=${this.#peerUrl}`,
        `--initial-advertise-peer-urls=${this.#peerUrl}`,
        `--initial-cluster=envtest=${this.#peerUrl}`,
        '--unsafe-no-fsync', // test data: durability is not needed, speed is
        '--log-level=warn',
      ],
      logFile: join(this.#options.workDir, 'etcd.log'),
    });
    const proc = this.#process;
    await waitFor(
      'etcd /health',
      async () => {
        if (!proc.running) throw new WaitAbortedError(`etcd exited:\n${proc.logTail()}`);
        return (await httpOk(`${this.clientUrl}/health`)) ? true : undefined;
      },
      { timeoutMs: this.#options.startTimeoutMs ?? 30_000 },
    );
  }

  async stop(): Promise<void> {
    await this.#process?.stop();
    this.#process = undefined;
  }
}
