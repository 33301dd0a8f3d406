/**
 * The probe resolver: one DNS query per probe over UDP (TCP retry when the TC bit is set) or TCP,
 * with a deadline, random query IDs and random source ports, and answers matched by ID, source
 * and question so that a stray or spoofed packet never completes a probe.
 *
 * Two deadlines: at the probe's (adaptive) deadline its result is a timeout, but the resolver keeps
 * listening until the hard deadline (`timeout`); an answer in between is delivered once more as a
 * late result (`late: true`), so the caller can tell a slow server from a hung one.
 *
 * Cost matters (1,000 probes/s must stay well under 10% of a core), so:
 * - UDP goes through a small pool of unconnected sockets per address family, each bound to a
 *   kernel-chosen random ephemeral port and retired after `queriesPerSocket` queries or
 *   `socketMaxAgeMs`, instead of one socket per probe (see test/bench/probes.ts for the numbers);
 * - results go to one handler given at construction, with a caller-supplied token, so a probe
 *   allocates no closures; the deadline timer takes its state as a timer argument;
 * - nothing is logged per probe.
 * TCP (TCP mode or truncation) opens one connection per probe, as a stub resolver does.
 */
import { randomFillSync } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import {
  classifyResponse,
  MAX_UDP_RESPONSE,
  queryWithId,
  type Classification,
  type PreparedQuery,
  type ProbeOutcome,
} from './query';

export type Transport = 'udp' | 'tcp';

export interface ProbeTarget {
  /** Canonical IP text, as the kernel reports a packet's source. */
  readonly address: string;
  readonly port: number;
  readonly family: 4 | 6;
  /** "address:port" ("[v6]:port"). */
  readonly key: string;
}

export interface ProbeResult {
  readonly outcome: ProbeOutcome;
  /** Send to completion, monotonic, in ms (includes a TCP retry). */
  readonly rttMs: number;
  readonly rcode?: string;
  readonly answers: number;
  /** The final exchange was over TCP. */
  readonly tcp: boolean;
  readonly detail?: string;
  /** How late the deadline timer fired (event-loop lag), ms; 0 unless the probe timed out. */
  readonly timerLateMs: number;
  /** process.hrtime.bigint() at send. */
  readonly sentAtNs: bigint;
  /** The deadline this probe had, ms. */
  readonly deadlineMs?: number;
  /** A late answer: the probe was already reported as a timeout at its deadline. */
  readonly late?: true;
}

export type ResultHandler<T> = (token: T, result: ProbeResult) => void;

/**
 * A probe's deadline, ms, and optionally a later hard deadline: an answer between the two is
 * delivered a second time, as a late result (the first result was a timeout).
 */
export type ProbeDeadline = number | { readonly ms: number; readonly hardMs: number };

export interface ResolverOptions {
  /** UDP sockets kept open per address family. Default 4. */
  readonly socketsPerFamily?: number;
  /** A socket is retired (new random port) after this many queries. Default 1024. */
  readonly queriesPerSocket?: number;
  /** ...or after this age. Default 30 s. */
  readonly socketMaxAgeMs?: number;
  /** Largest UDP answer accepted. */
  readonly maxUdpResponse?: number;
}

export class TargetError extends Error {
  override readonly name = 'TargetError';
}

/** Validates an IP literal and port into a target. */
export function makeTarget(address: string, port: number): ProbeTarget {
  const family = net.isIP(address);
  if (family === 0) throw new TargetError(`"${address}" is not an IP address`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new TargetError(`port ${port} is out of range 1-65535`);
  }
  const canonical =
    family === 6 ? new net.SocketAddress({ address, family: 'ipv6' }).address : address;
  return Object.freeze({
    address: canonical,
    port,
    family: family as 4 | 6,
    key: family === 6 ? `[${canonical}]:${port}` : `${canonical}:${port}`,
  });
}

const NS_PER_MS = 1_000_000;
/** A deadline timer this late (ms) lets already-received answers be read before declaring timeout. */
const LATE_TIMER_MS = 1;

class Pending<T> {
  id = 0;
  slot: UdpSlot | undefined;
  tcp: net.Socket | undefined;
  tcpBuffer: Buffer | undefined;
  timer: NodeJS.Timeout | undefined;
  done = false;
  /** Reported as a timeout; still listening for a late answer until the hard deadline. */
  reported = false;
  timerLateMs = 0;
  readonly deadlineNs: bigint;
  readonly deadlineMs: number;
  /** How long after the deadline a late answer is still taken, ms (0: none). */
  readonly lateMs: number;
  constructor(
    readonly target: ProbeTarget,
    readonly query: PreparedQuery,
    readonly token: T,
    readonly sentAtNs: bigint,
    deadline: ProbeDeadline,
  ) {
    this.deadlineMs = typeof deadline === 'number' ? deadline : deadline.ms;
    this.lateMs = typeof deadline === 'number' ? 0 : Math.max(0, deadline.hardMs - deadline.ms);
    this.deadlineNs = sentAtNs + BigInt(Math.round(this.deadlineMs * NS_PER_MS));
  }
}

class UdpSlot {
  readonly pending = new Map<number, Pending<unknown>>();
  sent = 0;
  retired = false;
  closed = false;
  constructor(
    readonly socket: dgram.Socket,
    readonly family: 4 | 6,
    readonly createdMs: number,
  ) {}
}

/** Random 16-bit IDs drawn from a buffer refilled in bulk (one syscall per 2,048 IDs). */
class IdSource {
  readonly #buf = Buffer.allocUnsafe(4096);
  #pos = this.#buf.length;
  next(): number {
    if (this.#pos + 2 > this.#buf.length) {
      randomFillSync(this.#buf);
      this.#pos = 0;
    }
    const id = this.#buf.readUInt16BE(this.#pos);
    this.#pos += 2;
    return id;
  }
}

export interface ResolverStats {
  /** Probes started. */
  sent: number;
  /** Packets that matched no probe (unknown ID, wrong source, wrong question). */
  stray: number;
  /** UDP sockets opened so far. */
  socketsOpened: number;
  /** TCP retries after a truncated UDP answer. */
  tcpRetries: number;
}

export class Resolver<T> {
  readonly #onResult: ResultHandler<T>;
  readonly #socketsPerFamily: number;
  readonly #queriesPerSocket: number;
  readonly #socketMaxAgeMs: number;
  readonly #maxUdp: number;
  readonly #pools: Record<4 | 6, UdpSlot[]> = { 4: [], 6: [] };
  readonly #next: Record<4 | 6, number> = { 4: 0, 6: 0 };
  readonly #ids = new IdSource();
  readonly #tcpInFlight = new Set<Pending<T>>();
  #inFlight = 0;
  #closed = false;
  readonly stats: ResolverStats = { sent: 0, stray: 0, socketsOpened: 0, tcpRetries: 0 };

  constructor(onResult: ResultHandler<T>, options: ResolverOptions = {}) {
    this.#onResult = onResult;
    this.#socketsPerFamily = Math.max(1, options.socketsPerFamily ?? 4);
    this.#queriesPerSocket = Math.max(1, options.queriesPerSocket ?? 1024);
    this.#socketMaxAgeMs = options.socketMaxAgeMs ?? 30_000;
    this.#maxUdp = options.maxUdpResponse ?? MAX_UDP_RESPONSE;
  }

  /** Probes in flight. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * Starts one probe; its result is delivered exactly once to the handler, unless closed first
   * (and, with a hard deadline, a late answer once more).
   */
  query(
    target: ProbeTarget,
    query: PreparedQuery,
    deadline: ProbeDeadline,
    transport: Transport,
    token: T,
  ): void {
    if (this.#closed) throw new Error('resolver is closed');
    const p = new Pending<T>(target, query, token, process.hrtime.bigint(), deadline);
    this.stats.sent++;
    this.#inFlight++;
    p.timer = setTimeout(this.#onDeadline, p.deadlineMs, p);
    p.timer.unref();
    if (transport === 'tcp') this.#startTcp(p);
    else this.#sendUdp(p);
  }

  /** Closes every socket; probes in flight are dropped without a result. */
  close(): void {
    this.#closed = true;
    for (const family of [4, 6] as const) {
      for (const slot of this.#pools[family]) {
        for (const p of slot.pending.values()) this.#cancel(p as Pending<T>);
        this.#closeSlot(slot);
      }
      this.#pools[family] = [];
    }
    for (const p of [...this.#tcpInFlight]) this.#cancel(p);
  }

  // --- UDP ---

  #sendUdp(p: Pending<T>): void {
    const slot = this.#pickSlot(p.target.family);
    let id = this.#ids.next();
    while (slot.pending.has(id)) id = this.#ids.next();
    p.id = id;
    p.slot = slot;
    slot.pending.set(id, p);
    slot.sent++;
    // No send callback: a failed send (no route) surfaces as a timeout, and no closure is made.
    slot.socket.send(queryWithId(p.query, id), p.target.port, p.target.address);
    if (slot.sent >= this.#queriesPerSocket) this.#retire(slot);
  }

  #pickSlot(family: 4 | 6): UdpSlot {
    const pool = this.#pools[family];
    const nowMs = Date.now();
    while (pool.length < this.#socketsPerFamily) pool.push(this.#openSlot(family, nowMs));
    const index = this.#next[family]++ % pool.length;
    let slot = pool[index]!;
    if (nowMs - slot.createdMs > this.#socketMaxAgeMs) {
      this.#retire(slot);
      slot = pool[index]!;
    }
    return slot;
  }

  #openSlot(family: 4 | 6, nowMs: number): UdpSlot {
    const socket = dgram.createSocket(family === 6 ? 'udp6' : 'udp4');
    const slot = new UdpSlot(socket, family, nowMs);
    socket.on('message', (msg: Buffer, rinfo: dgram.RemoteInfo) =>
      this.#onUdpMessage(slot, msg, rinfo),
    );
    // Errors on an unconnected socket (e.g. ICMP reports on some platforms) carry no probe
    // identity; the affected probes end at their deadline.
    socket.on('error', () => this.#retire(slot));
    // Port 0: the kernel picks a random ephemeral port.
    socket.bind(0);
    socket.unref();
    this.stats.socketsOpened++;
    return slot;
  }

  /** Replaces a socket in its pool; the old one closes once its last probe ends. */
  #retire(slot: UdpSlot): void {
    if (slot.retired) return;
    slot.retired = true;
    const family = slot.family;
    const pool = this.#pools[family];
    const index = pool.indexOf(slot);
    if (index >= 0 && !this.#closed) pool[index] = this.#openSlot(family, Date.now());
    if (slot.pending.size === 0) this.#closeSlot(slot);
  }

  #closeSlot(slot: UdpSlot): void {
    if (slot.closed) return;
    slot.closed = true;
    try {
      slot.socket.close();
    } catch {
      // already closed
    }
  }

  #onUdpMessage(slot: UdpSlot, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const receivedNs = process.hrtime.bigint();
    if (msg.length < 2) {
      this.stats.stray++;
      return;
    }
    const p = slot.pending.get(msg.readUInt16BE(0)) as Pending<T> | undefined;
    if (
      p === undefined ||
      p.done ||
      rinfo.port !== p.target.port ||
      rinfo.address !== p.target.address
    ) {
      this.stats.stray++;
      return;
    }
    const c = classifyResponse(msg, p.query, p.id, this.#maxUdp);
    if (c === undefined) {
      this.stats.stray++;
      return;
    }
    if (c.truncated && !p.reported) {
      slot.pending.delete(p.id);
      p.slot = undefined;
      this.#afterSlotRelease(slot);
      this.stats.tcpRetries++;
      this.#startTcp(p);
      return;
    }
    this.#complete(p, c, false, receivedNs);
  }

  // --- TCP ---

  #startTcp(p: Pending<T>): void {
    p.id = this.#ids.next();
    const sock = net.createConnection({
      host: p.target.address,
      port: p.target.port,
      noDelay: true,
    });
    p.tcp = sock;
    this.#tcpInFlight.add(p);
    sock.on('connect', () => {
      const body = queryWithId(p.query, p.id);
      const frame = Buffer.allocUnsafe(body.length + 2);
      frame.writeUInt16BE(body.length, 0);
      body.copy(frame, 2);
      sock.write(frame);
    });
    sock.on('data', (chunk: Buffer) => this.#onTcpData(p, chunk));
    sock.on('error', (err: NodeJS.ErrnoException) => {
      this.#fail(p, err.code ?? err.message, true);
    });
    sock.on('close', () => this.#fail(p, 'connection closed before a complete answer', true));
  }

  #onTcpData(p: Pending<T>, chunk: Buffer): void {
    if (p.done) return;
    const receivedNs = process.hrtime.bigint();
    let buf = p.tcpBuffer === undefined ? chunk : Buffer.concat([p.tcpBuffer, chunk]);
    while (buf.length >= 2) {
      const length = buf.readUInt16BE(0);
      if (buf.length < length + 2) break;
      const frame = buf.subarray(2, length + 2);
      buf = buf.subarray(length + 2);
      const c = classifyResponse(frame, p.query, p.id);
      if (c === undefined) {
        this.stats.stray++;
        continue;
      }
      if (c.truncated) {
        this.#complete(p, { ...c, detail: 'truncated answer over TCP' }, true, receivedNs);
      } else {
        this.#complete(p, c, true, receivedNs);
      }
      return;
    }
    p.tcpBuffer = buf.length > 0 ? buf : undefined;
  }

  // --- completion ---

  readonly #onDeadline = (p: Pending<T>): void => {
    if (p.done) return;
    const lateMs = Number(process.hrtime.bigint() - p.deadlineNs) / NS_PER_MS;
    if (lateMs > LATE_TIMER_MS) {
      // The event loop was stalled: an answer may already sit in a socket buffer. setImmediate
      // runs after the poll phase, which reads it first; only then is this a timeout.
      p.timerLateMs = lateMs;
      setImmediate(this.#onLateDeadline, p);
      return;
    }
    this.#timeout(p);
  };

  readonly #onLateDeadline = (p: Pending<T>): void => {
    if (!p.done) this.#timeout(p);
  };

  /** No late answer: the probe ends quietly (its timeout was reported at the deadline). */
  readonly #onHardDeadline = (p: Pending<T>): void => {
    p.timer = undefined;
    this.#cancel(p);
  };

  #timeout(p: Pending<T>): void {
    p.timer = undefined;
    if (p.lateMs > 0 && !p.reported) {
      // Report the timeout now, keep listening for a late answer until the hard deadline.
      p.reported = true;
      this.#deliver(
        p,
        { outcome: 'timeout', answers: 0, truncated: false, detail: 'timeout' },
        p.tcp !== undefined,
        process.hrtime.bigint(),
      );
      if (!p.done) {
        p.timer = setTimeout(this.#onHardDeadline, p.lateMs, p);
        p.timer.unref();
      }
      return;
    }
    this.#complete(
      p,
      { outcome: 'timeout', answers: 0, truncated: false, detail: 'timeout' },
      p.tcp !== undefined,
      process.hrtime.bigint(),
    );
  }

  #fail(p: Pending<T>, detail: string, tcp: boolean): void {
    if (p.done) return;
    if (p.reported) {
      this.#cancel(p);
      return;
    }
    this.#complete(
      p,
      { outcome: 'error', answers: 0, truncated: false, detail },
      tcp,
      process.hrtime.bigint(),
    );
  }

  #release(p: Pending<T>): void {
    p.done = true;
    this.#inFlight--;
    if (p.timer !== undefined) {
      clearTimeout(p.timer);
      p.timer = undefined;
    }
    const slot = p.slot;
    if (slot !== undefined) {
      if (slot.pending.get(p.id) === p) slot.pending.delete(p.id);
      p.slot = undefined;
      this.#afterSlotRelease(slot);
    }
    if (p.tcp !== undefined) {
      this.#tcpInFlight.delete(p);
      p.tcp.destroy();
      p.tcpBuffer = undefined;
    }
  }

  #afterSlotRelease(slot: UdpSlot): void {
    if (slot.retired && slot.pending.size === 0) this.#closeSlot(slot);
  }

  #cancel(p: Pending<T>): void {
    if (!p.done) this.#release(p);
  }

  #complete(p: Pending<T>, c: Classification, tcp: boolean, endNs: bigint): void {
    if (p.done) return;
    this.#release(p);
    this.#deliver(p, c, tcp, endNs);
  }

  #deliver(p: Pending<T>, c: Classification, tcp: boolean, endNs: bigint): void {
    const result: ProbeResult = {
      outcome: c.outcome,
      rttMs: Number(endNs - p.sentAtNs) / NS_PER_MS,
      answers: c.answers,
      tcp,
      timerLateMs: p.timerLateMs,
      sentAtNs: p.sentAtNs,
      deadlineMs: p.deadlineMs,
      ...(c.rcode !== undefined ? { rcode: c.rcode } : {}),
      ...(c.detail !== undefined ? { detail: c.detail } : {}),
      ...(p.reported && p.done ? { late: true as const } : {}),
    };
    this.#onResult(p.token, result);
  }
}

/** One probe as a promise, for tools and tests (the engine uses `Resolver` directly). */
export async function probeOnce(
  target: ProbeTarget,
  query: PreparedQuery,
  timeoutMs: number,
  transport: Transport = 'udp',
): Promise<ProbeResult> {
  return new Promise<ProbeResult>((resolve) => {
    const resolver = new Resolver<null>(
      (_token, result) => {
        resolver.close();
        resolve(result);
      },
      { socketsPerFamily: 1 },
    );
    resolver.query(target, query, timeoutMs, transport, null);
  });
}
