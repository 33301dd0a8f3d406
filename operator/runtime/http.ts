/** The operator's HTTP endpoints: /metrics (Prometheus), /healthz (alive), /readyz (ready). */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from './logger';

export interface HealthSource {
  /** Liveness: the process's loops are turning. */
  alive(): { ok: boolean; detail: string };
  /** Readiness: caches synced and, for the leader, controllers running. */
  ready(): { ok: boolean; detail: string };
}

export interface OperatorServerOptions {
  readonly host: string;
  readonly port: number;
  readonly registry: Registry;
  readonly health: HealthSource;
  readonly logger: Logger;
}

/** The server could not listen (port in use, no permission): a start-up error, not transient. */
export class ListenError extends Error {
  override readonly name = 'ListenError';
  constructor(host: string, port: number, cause: unknown) {
    const code = (cause as NodeJS.ErrnoException | undefined)?.code;
    const why =
      code === 'EADDRINUSE'
        ? `port ${port} on ${host} is already in use (EADDRINUSE); stop what listens there or choose another port with --metrics-addr`
        : `cannot listen on ${host}:${port} (${code ?? String(cause)}); choose another address with --metrics-addr`;
    super(why, { cause });
  }
}

export class OperatorServer {
  readonly #o: OperatorServerOptions;
  #server: http.Server | undefined;

  constructor(options: OperatorServerOptions) {
    this.#o = options;
  }

  /** Starts listening; resolves with the bound port (useful with port 0). */
  async start(): Promise<number> {
    const server = http.createServer((req, res) => {
      void this.#handle(req, res);
    });
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      const failed = (err: Error): void => {
        this.#server = undefined;
        reject(new ListenError(this.#o.host, this.#o.port, err));
      };
      server.once('error', failed);
      server.listen(this.#o.port, this.#o.host, () => {
        server.off('error', failed);
        resolve();
      });
    });
    server.on('error', (err) => this.#o.logger.error({ err: err.message }, 'http server error'));
    // Not unref'd: a running operator is kept alive by its server even while every watch is
    // between retries (all of their timers are unref'd); stop() closes it.
    return (server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405).end();
      } else if (path === '/metrics') {
        const body = await this.#o.registry.metrics();
        res.writeHead(200, { 'Content-Type': this.#o.registry.contentType }).end(body);
      } else if (path === '/healthz' || path === '/livez') {
        this.#probe(res, this.#o.health.alive());
      } else if (path === '/readyz') {
        this.#probe(res, this.#o.health.ready());
      } else {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
      }
    } catch (err) {
      this.#o.logger.error({ err }, 'http handler failed');
      if (!res.headersSent) res.writeHead(500);
      res.end();
    }
  }

  #probe(res: http.ServerResponse, result: { ok: boolean; detail: string }): void {
    res
      .writeHead(result.ok ? 200 : 503, { 'Content-Type': 'text/plain' })
      .end(`${result.ok ? 'ok' : 'not ok'}: ${result.detail}\n`);
  }
}
