import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

/** A TCP port free on `host` right now (bind to port 0, read it, release it). */
export async function freeTcpPort(host = '127.0.0.1'): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not read a free port'));
      });
    });
  });
}

/** Whether `port` can be bound on `host` for both TCP and UDP right now. */
export async function isPortFree(host: string, port: number): Promise<boolean> {
  const tcp = await new Promise<boolean>((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
  if (!tcp) return false;
  return new Promise<boolean>((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => {
      socket.close();
      resolve(false);
    });
    socket.bind({ address: host, port, exclusive: true }, () => socket.close(() => resolve(true)));
  });
}

/** A TCP+UDP port free on `host`, trying random high ports. */
export async function freeDualPort(host = '127.0.0.1'): Promise<number> {
  for (let i = 0; i < 50; i += 1) {
    const port = 20_000 + Math.floor(Math.random() * 40_000);
    if (await isPortFree(host, port)) return port;
  }
  throw new Error(`no free TCP+UDP port found on ${host}`);
}

/**
 * Hands out loopback addresses from one /24 inside 127.0.0.0/8. The /24 is picked at random
 * (second and third octets) so that harnesses in different processes rarely collide; addresses
 * start at .2 and are not reused until the block wraps, like a fresh pod IP per pod.
 */
export class LoopbackBlock {
  readonly prefix: string;
  #next = 2;

  constructor(prefix?: string) {
    this.prefix = prefix ?? randomLoopbackPrefix();
  }

  /** `<prefix>.<host>`, e.g. `127.83.17.10`. */
  address(host: number): string {
    return `${this.prefix}.${host}`;
  }

  /** The next unused address (.2 … .254, then wraps). */
  allocate(): string {
    const host = this.#next;
    this.#next = this.#next >= 254 ? 2 : this.#next + 1;
    return this.address(host);
  }

  /** The block as a CIDR, e.g. `127.83.17.0/24`. */
  cidr(): string {
    return `${this.prefix}.0/24`;
  }
}

function randomLoopbackPrefix(): string {
  const second = 100 + Math.floor(Math.random() * 150);
  const third = 1 + Math.floor(Math.random() * 250);
  return `127.${second}.${third}`;
}
