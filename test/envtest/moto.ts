import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { freeTcpPort } from './net';
import { ManagedProcess } from './process';
import { locateTools } from './tools';
import { WaitAbortedError, waitFor } from './wait';

/** Static credentials moto accepts (it accepts any); never real ones. */
export interface MotoCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/**
 * moto_server on a free loopback port: the AWS APIs (Route 53 among them) in memory.
 * Use `endpoint`, `region` and `credentials` with `@aws-sdk/client-route-53`.
 */
export class MotoServer {
  readonly endpoint: string;
  readonly region = 'us-east-1';
  readonly credentials: MotoCredentials = {
    accessKeyId: 'envtest-access-key',
    secretAccessKey: 'envtest-secret-key',
  };
  readonly #process: ManagedProcess;
  readonly #workDir: string;

  private constructor(endpoint: string, proc: ManagedProcess, workDir: string) {
    this.endpoint = endpoint;
    this.#process = proc;
    this.#workDir = workDir;
  }

  static async start(options: { startTimeoutMs?: number } = {}): Promise<MotoServer> {
    const tools = locateTools();
    const workDir = mkdtempSync(join(tmpdir(), 'dnsop-moto-'));
    const port = await freeTcpPort();
    const proc = await ManagedProcess.start({
      name: 'moto_server',
      command: tools.motoServer,
      args: ['-H', '127.0.0.1', '-p', String(port)],
      logFile: join(workDir, 'moto.log'),
      // No ambient AWS configuration may leak into the mock.
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: workDir, LANG: 'C.UTF-8' },
    });
    const server = new MotoServer(`http://127.0.0.1:${port}`, proc, workDir);
    await waitFor(
      'moto_server to answer',
      async () => {
        if (!proc.running) throw new WaitAbortedError(`moto_server exited:\n${proc.logTail()}`);
        const res = await fetch(`${server.endpoint}/moto-api/data.json`, {
          signal: AbortSignal.timeout(1_000),
        });
        await res.arrayBuffer();
        return res.ok ? true : undefined;
      },
      { timeoutMs: options.startTimeoutMs ?? 30_000, intervalMs: 200 },
    );
    return server;
  }

  /** Drops every resource moto holds (all services), e.g. between tests. */
  async reset(): Promise<void> {
    const res = await fetch(`${this.endpoint}/moto-api/reset`, {
      method: 'POST',
      signal: AbortSignal.timeout(5_000),
    });
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`moto reset failed: HTTP ${res.status}`);
  }

  async stop(): Promise<void> {
    await this.#process.stop();
    if (process.env['DNSOP_ENVTEST_KEEP'] !== '1') {
      rmSync(this.#workDir, { recursive: true, force: true });
    }
  }
}
