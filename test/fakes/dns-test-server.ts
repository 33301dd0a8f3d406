/**
 * A loopback DNS server for the resolver tests and the bench: UDP and TCP on one port, and a
 * behaviour chosen per query that answers, drops, delays, truncates, answers with a wrong ID or
 * question first (spoofing), or sends garbage. Test-only: nothing in the operator imports it.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import * as packet from 'dns-packet';

export type Behavior =
  /** A well-formed answer; answers default to one synthesised record of the asked type. */
  | {
      readonly kind: 'answer';
      readonly rcode?: string;
      readonly answers?: readonly packet.Answer[];
      readonly delayMs?: number;
    }
  /** Over UDP: TC bit set, no records (a client must retry over TCP); over TCP: a normal answer. */
  | { readonly kind: 'truncate' }
  | { readonly kind: 'drop' }
  /** Random bytes; with keepId the first two bytes are the query's ID so the probe matches it. */
  | { readonly kind: 'garbage'; readonly bytes?: number; readonly keepId?: boolean }
  /** Packets a spoofer would send (wrong ID, wrong question, a query echo), then `then`. */
  | { readonly kind: 'spoof'; readonly then: Behavior }
  /** A well-formed answer padded past the UDP size limit. */
  | { readonly kind: 'oversized' }
  /** TCP only: half a frame, then close. */
  | { readonly kind: 'tcpCloseEarly' };

export interface QueryInfo {
  readonly id: number;
  readonly name: string;
  readonly type: string;
  readonly transport: 'udp' | 'tcp';
}

export type BehaviorFn = (q: QueryInfo) => Behavior;

export interface DnsTestServerOptions {
  readonly host?: string;
  readonly port?: number;
  readonly behavior?: BehaviorFn;
}

export function synthesizeAnswer(name: string, type: string): packet.Answer {
  const base = { name, ttl: 30, class: 'IN' as const };
  switch (type) {
    case 'AAAA':
      return { ...base, type: 'AAAA', data: 'fd00::1' };
    case 'CNAME':
      return { ...base, type: 'CNAME', data: 'target.example.test' };
    case 'SRV':
      return {
        ...base,
        type: 'SRV',
        data: { priority: 0, weight: 0, port: 53, target: 'srv.example.test' },
      };
    case 'TXT':
      return { ...base, type: 'TXT', data: 'probe' };
    case 'MX':
      return { ...base, type: 'MX', data: { preference: 10, exchange: 'mx.example.test' } };
    case 'NS':
      return { ...base, type: 'NS', data: 'ns.example.test' };
    case 'PTR':
      return { ...base, type: 'PTR', data: 'host.example.test' };
    case 'SOA':
      return {
        ...base,
        type: 'SOA',
        data: {
          mname: 'ns.example.test',
          rname: 'admin.example.test',
          serial: 1,
          refresh: 60,
          retry: 60,
          expire: 60,
          minimum: 30,
        },
      };
    default:
      return { ...base, type: 'A', data: '10.0.0.1' };
  }
}

export class DnsTestServer {
  readonly host: string;
  port = 0;
  behavior: BehaviorFn;
  readonly counts = { udp: 0, tcp: 0 };
  /** Source ports seen on UDP queries. */
  readonly sourcePorts = new Set<number>();
  readonly #udp: dgram.Socket;
  readonly #tcp: net.Server;
  readonly #conns = new Set<net.Socket>();
  readonly #timers = new Set<NodeJS.Timeout>();

  private constructor(options: DnsTestServerOptions) {
    this.host = options.host ?? '127.0.0.1';
    this.behavior = options.behavior ?? (() => ({ kind: 'answer' }));
    this.#udp = dgram.createSocket(net.isIPv6(this.host) ? 'udp6' : 'udp4');
    this.#tcp = net.createServer((conn) => this.#onConnection(conn));
  }

  static async start(options: DnsTestServerOptions = {}): Promise<DnsTestServer> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const server = new DnsTestServer(options);
      try {
        await server.#listen(options.port ?? 0);
        return server;
      } catch (err) {
        await server.close();
        if (options.port !== undefined) throw err;
      }
    }
    throw new Error('could not bind a UDP and TCP port pair');
  }

  /** Sets one behaviour for every query. */
  set(behavior: Behavior): void {
    this.behavior = () => behavior;
  }

  async close(): Promise<void> {
    for (const t of this.#timers) clearTimeout(t);
    for (const c of this.#conns) c.destroy();
    await Promise.all([
      new Promise<void>((resolve) => {
        try {
          this.#udp.close(() => resolve());
        } catch {
          resolve();
        }
      }),
      new Promise<void>((resolve) => {
        if (!this.#tcp.listening) resolve();
        else this.#tcp.close(() => resolve());
      }),
    ]);
  }

  async #listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#udp.once('error', reject);
      this.#udp.bind(port, this.host, () => {
        this.#udp.off('error', reject);
        resolve();
      });
    });
    this.port = this.#udp.address().port;
    this.#udp.on('message', (msg, rinfo) => this.#onUdp(msg, rinfo));
    this.#udp.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      this.#tcp.once('error', reject);
      this.#tcp.listen(this.port, this.host, () => {
        this.#tcp.off('error', reject);
        resolve();
      });
    });
  }

  #later(ms: number, fn: () => void): void {
    if (ms <= 0) {
      fn();
      return;
    }
    const t = setTimeout(() => {
      this.#timers.delete(t);
      fn();
    }, ms);
    this.#timers.add(t);
  }

  #onUdp(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const query = decodeQuery(msg);
    if (query === undefined) return;
    this.counts.udp++;
    this.sourcePorts.add(rinfo.port);
    const send = (buf: Buffer): void => {
      this.#udp.send(buf, rinfo.port, rinfo.address);
    };
    this.#respond(query.packet, { ...query.info, transport: 'udp' }, send, undefined);
  }

  #onConnection(conn: net.Socket): void {
    this.#conns.add(conn);
    conn.on('close', () => this.#conns.delete(conn));
    conn.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    conn.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (buf.length < len + 2) break;
        const msg = buf.subarray(2, len + 2);
        buf = buf.subarray(len + 2);
        const query = decodeQuery(msg);
        if (query === undefined) continue;
        this.counts.tcp++;
        const send = (out: Buffer): void => {
          if (conn.destroyed) return;
          const frame = Buffer.allocUnsafe(out.length + 2);
          frame.writeUInt16BE(out.length, 0);
          out.copy(frame, 2);
          conn.write(frame);
        };
        this.#respond(query.packet, { ...query.info, transport: 'tcp' }, send, conn);
      }
    });
  }

  #respond(
    q: packet.Packet,
    info: QueryInfo,
    send: (b: Buffer) => void,
    conn: net.Socket | undefined,
  ): void {
    this.#act(this.behavior(info), q, info, send, conn);
  }

  #act(
    behavior: Behavior,
    q: packet.Packet,
    info: QueryInfo,
    send: (b: Buffer) => void,
    conn: net.Socket | undefined,
  ): void {
    switch (behavior.kind) {
      case 'drop':
        return;
      case 'answer':
        this.#later(behavior.delayMs ?? 0, () =>
          send(encodeAnswer(q, info, behavior.rcode, behavior.answers)),
        );
        return;
      case 'truncate':
        send(
          info.transport === 'udp'
            ? encodeAnswer(q, info, 'NOERROR', [], true)
            : encodeAnswer(q, info),
        );
        return;
      case 'garbage': {
        const bytes = Buffer.alloc(behavior.bytes ?? 64);
        for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
        if (behavior.keepId === true && bytes.length >= 2) bytes.writeUInt16BE(info.id, 0);
        if (bytes.length >= 3) bytes[2] = bytes[2]! | 0x80; // looks like a response
        send(bytes);
        return;
      }
      case 'spoof': {
        send(encodeAnswer({ ...q, id: (info.id + 1) & 0xffff }, info));
        const other = {
          ...q,
          questions: [{ name: `x${info.name}`, type: 'A' as const, class: 'IN' as const }],
        };
        send(encodeAnswer(other, info));
        send(packet.encode({ ...q, type: 'query' }));
        this.#act(behavior.then, q, info, send, conn);
        return;
      }
      case 'oversized': {
        const answers = Array.from({ length: 300 }, (_, i) => ({
          name: info.name,
          type: 'A' as const,
          ttl: 30,
          data: `10.0.${i >> 8}.${i & 255}`,
        }));
        send(encodeAnswer(q, info, 'NOERROR', answers));
        return;
      }
      case 'tcpCloseEarly': {
        const full = encodeAnswer(q, info);
        if (conn !== undefined) {
          const frame = Buffer.allocUnsafe(full.length + 2);
          frame.writeUInt16BE(full.length, 0);
          full.copy(frame, 2);
          conn.end(frame.subarray(0, Math.ceil(frame.length / 2)));
        }
        return;
      }
    }
  }
}

function decodeQuery(
  msg: Buffer,
): { packet: packet.Packet; info: Omit<QueryInfo, 'transport'> } | undefined {
  try {
    const p = packet.decode(msg);
    const q = p.questions?.[0];
    if (p.type !== 'query' || q === undefined) return undefined;
    return { packet: p, info: { id: p.id ?? 0, name: q.name, type: q.type } };
  } catch {
    return undefined;
  }
}

function encodeAnswer(
  q: packet.Packet,
  info: Omit<QueryInfo, 'transport'>,
  rcode = 'NOERROR',
  answers?: readonly packet.Answer[],
  truncated = false,
): Buffer {
  const rcodeBits = RCODES[rcode] ?? 0;
  const flags =
    packet.AUTHORITATIVE_ANSWER |
    packet.RECURSION_DESIRED |
    packet.RECURSION_AVAILABLE |
    (truncated ? packet.TRUNCATED_RESPONSE : 0) |
    rcodeBits;
  return packet.encode({
    type: 'response',
    id: q.id ?? info.id,
    flags,
    questions: q.questions ?? [],
    answers:
      answers !== undefined
        ? [...answers]
        : rcode === 'NOERROR'
          ? [synthesizeAnswer(info.name, info.type)]
          : [],
  });
}

const RCODES: Readonly<Record<string, number>> = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
};
