import { readFileSync } from 'node:fs';
import * as https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';

import type { ControlPlane } from './control-plane';
import { writeKubeconfig } from './kubeconfig';

/** A request as the proxy saw it. */
export interface SeenRequest {
  readonly method: string;
  /** Path with query, e.g. /api/v1/services?limit=500 */
  readonly url: string;
  readonly at: number;
}

export interface DelayRule {
  readonly match: (req: SeenRequest) => boolean;
  readonly ms: number;
  /** How many matching requests to delay; default every one. */
  times?: number;
}

/** True for a list (not a watch) of the collection at `path`, e.g. "/api/v1/services". */
export function isListOf(path: string): (req: SeenRequest) => boolean {
  return (req) =>
    req.method === 'GET' && req.url.split('?')[0] === path && !/[?&]watch=true/.test(req.url);
}

/**
 * A loopback proxy in front of kube-apiserver that injects the faults a real control plane has:
 * every connection cut at once, connections refused, single requests delayed. It terminates TLS
 * with the API server's own serving certificate (valid for 127.0.0.1 on any port), so clients
 * trust it through the same CA, and so faults can target one request (e.g. the first list of
 * services) rather than one TCP stream. Auth headers pass through untouched.
 *
 * `kubeconfigPath` is a kubeconfig for the admin user that goes through the proxy: give it to
 * the operator under test; the test itself keeps using the direct `plane.kubeConfig`.
 */
export class ApiProxy {
  readonly kubeconfigPath: string;
  readonly requests: SeenRequest[] = [];
  readonly #server: https.Server;
  readonly #upstream: URL;
  readonly #ca: string;
  readonly #sockets = new Set<Socket>();
  readonly #upstreamRequests = new Set<import('node:http').ClientRequest>();
  readonly #delays: DelayRule[] = [];
  #refusing = false;
  #restoreTimer: NodeJS.Timeout | undefined;

  private constructor(server: https.Server, plane: ControlPlane, kubeconfigPath: string) {
    this.#server = server;
    this.#upstream = new URL(plane.apiServerUrl);
    this.#ca = plane.caPem;
    this.kubeconfigPath = kubeconfigPath;
  }

  static async start(plane: ControlPlane, name = 'proxy'): Promise<ApiProxy> {
    const certDir = join(plane.workDir, 'apiserver-certs');
    const server = https.createServer({
      cert: readFileSync(join(certDir, 'apiserver.crt')),
      key: readFileSync(join(certDir, 'apiserver.key')),
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    const kubeconfigPath = join(plane.workDir, `kubeconfig-${name}`);
    writeKubeconfig(kubeconfigPath, {
      server: `https://127.0.0.1:${port}`,
      caFile: join(certDir, 'apiserver.crt'),
      user: 'envtest-admin',
      token: plane.adminToken,
    });
    const proxy = new ApiProxy(server, plane, kubeconfigPath);
    server.on('connection', (socket: Socket) => proxy.#onConnection(socket));
    server.on('request', (req: IncomingMessage, res: ServerResponse) => proxy.#forward(req, res));
    return proxy;
  }

  get url(): string {
    return `https://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Connections open now (client side). */
  get openConnections(): number {
    return this.#sockets.size;
  }

  /** Drops every open connection at once (watches included), as a network cut does. */
  cut(): void {
    for (const req of this.#upstreamRequests) req.destroy();
    this.#upstreamRequests.clear();
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
  }

  /** Cuts everything and resets every new connection until `restore()`. */
  refuse(): void {
    this.#refusing = true;
    this.cut();
  }

  restore(): void {
    clearTimeout(this.#restoreTimer);
    this.#refusing = false;
  }

  /** Cuts everything and refuses for `ms`, then restores (resolves once restored). */
  async outage(ms: number): Promise<void> {
    this.refuse();
    await new Promise<void>((resolve) => {
      this.#restoreTimer = setTimeout(() => {
        this.restore();
        resolve();
      }, ms);
    });
  }

  /** Holds matching requests for `ms` before forwarding them. */
  delay(rule: DelayRule): void {
    this.#delays.push(rule);
  }

  clearDelays(): void {
    this.#delays.length = 0;
  }

  count(match: (req: SeenRequest) => boolean): number {
    return this.requests.filter(match).length;
  }

  async stop(): Promise<void> {
    this.restore();
    this.cut();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #onConnection(socket: Socket): void {
    if (this.#refusing) {
      socket.resetAndDestroy();
      return;
    }
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
    socket.on('error', () => undefined);
  }

  #forward(req: IncomingMessage, res: ServerResponse): void {
    const seen: SeenRequest = { method: req.method ?? 'GET', url: req.url ?? '/', at: Date.now() };
    this.requests.push(seen);
    const rule = this.#delays.find((r) => r.match(seen) && (r.times === undefined || r.times > 0));
    if (rule?.times !== undefined) rule.times--;
    const send = (): void => {
      if (req.destroyed || res.destroyed) return;
      const upstream = https.request(
        {
          host: this.#upstream.hostname,
          port: this.#upstream.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: this.#upstream.host },
          ca: this.#ca,
          agent: false,
        },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          // As the API server does: a watch's headers go out before its first event.
          res.flushHeaders();
          up.pipe(res);
          up.on('error', () => res.destroy());
        },
      );
      this.#upstreamRequests.add(upstream);
      upstream.on('close', () => this.#upstreamRequests.delete(upstream));
      // The API server going away looks like a cut to the client.
      upstream.on('error', () => res.socket?.destroy());
      res.on('close', () => upstream.destroy());
      req.pipe(upstream);
    };
    if (rule === undefined) send();
    else setTimeout(send, rule.ms);
  }
}
