import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { connect, createServer, type Server } from 'node:net';

export interface Backend {
  readonly ip: string;
  readonly port: number;
}

export interface ServiceProxyOptions {
  /** The Service's ClusterIP (a loopback address) and port. */
  readonly ip: string;
  readonly port: number;
  /** The current ready backends, asked for each new flow. */
  readonly backends: () => readonly Backend[];
  /** A UDP flow (client address:port) keeps its backend until idle this long. Default 10 s. */
  readonly udpIdleMs?: number;
}

interface UdpFlow {
  readonly socket: Socket;
  readonly backend: Backend;
  idleTimer: NodeJS.Timeout;
}

/**
 * The kube-proxy stand-in for one Service port: UDP and TCP on ClusterIP:port, each new flow sent
 * to a ready backend chosen round-robin (like kube-proxy with conntrack: a UDP flow sticks to its
 * backend while active). With no ready backend, UDP is dropped and TCP connections are reset.
 */
export class ServiceProxy {
  readonly #options: ServiceProxyOptions;
  readonly #udp: Socket;
  readonly #tcp: Server;
  readonly #flows = new Map<string, UdpFlow>();
  #next = 0;

  private constructor(options: ServiceProxyOptions) {
    this.#options = options;
    this.#udp = createSocket('udp4');
    this.#tcp = createServer((client) => {
      const backend = this.#pick();
      if (backend === undefined) {
        client.resetAndDestroy();
        return;
      }
      const upstream = connect({ host: backend.ip, port: backend.port });
      client.pipe(upstream).pipe(client);
      const close = (): void => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', close).on('close', close);
      upstream.on('error', close).on('close', close);
    });
  }

  static async start(options: ServiceProxyOptions): Promise<ServiceProxy> {
    const proxy = new ServiceProxy(options);
    proxy.#udp.on('message', (msg, rinfo) => proxy.#forwardUdp(msg, rinfo));
    await new Promise<void>((resolve, reject) => {
      proxy.#udp.once('error', reject);
      proxy.#udp.bind({ address: options.ip, port: options.port, exclusive: true }, () =>
        resolve(),
      );
    });
    await new Promise<void>((resolve, reject) => {
      proxy.#tcp.once('error', reject);
      proxy.#tcp.listen({ host: options.ip, port: options.port, exclusive: true }, () => resolve());
    });
    return proxy;
  }

  async stop(): Promise<void> {
    for (const flow of this.#flows.values()) {
      clearTimeout(flow.idleTimer);
      flow.socket.close();
    }
    this.#flows.clear();
    await new Promise<void>((resolve) => this.#udp.close(() => resolve()));
    await new Promise<void>((resolve) => this.#tcp.close(() => resolve()));
  }

  #pick(): Backend | undefined {
    const backends = this.#options.backends();
    if (backends.length === 0) return undefined;
    this.#next = (this.#next + 1) % backends.length;
    return backends[this.#next];
  }

  #forwardUdp(msg: Buffer, rinfo: RemoteInfo): void {
    const key = `${rinfo.address}:${rinfo.port}`;
    let flow = this.#flows.get(key);
    if (flow === undefined) {
      const backend = this.#pick();
      if (backend === undefined) return;
      flow = this.#openUdpFlow(key, rinfo, backend);
    }
    this.#touch(key, flow);
    flow.socket.send(msg, flow.backend.port, flow.backend.ip);
  }

  #openUdpFlow(key: string, client: RemoteInfo, backend: Backend): UdpFlow {
    const socket = createSocket('udp4');
    socket.on('message', (reply) => {
      this.#udp.send(reply, client.port, client.address);
    });
    socket.on('error', () => this.#closeFlow(key));
    const flow: UdpFlow = { socket, backend, idleTimer: setTimeout(() => undefined, 0) };
    this.#flows.set(key, flow);
    return flow;
  }

  #touch(key: string, flow: UdpFlow): void {
    clearTimeout(flow.idleTimer);
    flow.idleTimer = setTimeout(() => this.#closeFlow(key), this.#options.udpIdleMs ?? 10_000);
    flow.idleTimer.unref();
  }

  #closeFlow(key: string): void {
    const flow = this.#flows.get(key);
    if (flow === undefined) return;
    clearTimeout(flow.idleTimer);
    this.#flows.delete(key);
    flow.socket.close();
  }
}
