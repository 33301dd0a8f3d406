import { Resolver } from 'node:dns/promises';
import { connect } from 'node:net';

import {
  RECURSION_DESIRED,
  streamDecode,
  streamEncode,
  type DecodedPacket,
  type StringAnswer,
} from 'dns-packet';

/** The outcome of one A query: the addresses, or the resolver's error code. */
export type QueryResult =
  | { readonly ok: true; readonly addresses: string[] }
  | {
      readonly ok: false;
      /** `ENOTFOUND` (NXDOMAIN), `ESERVFAIL`, `ETIMEOUT`, `ECONNREFUSED`, … */
      readonly code: string;
    };

/** One A query to `server` (`ip:port`), single try, bounded by `timeoutMs`. */
export async function queryA(
  server: string,
  name: string,
  timeoutMs = 1_000,
): Promise<QueryResult> {
  const resolver = new Resolver({ timeout: timeoutMs, tries: 1 });
  resolver.setServers([server]);
  try {
    return { ok: true, addresses: await resolver.resolve4(name) };
  } catch (err) {
    return { ok: false, code: (err as NodeJS.ErrnoException).code ?? 'EUNKNOWN' };
  }
}

const rcodeErrors: Readonly<Record<number, string>> = {
  2: 'ESERVFAIL',
  3: 'ENOTFOUND',
  5: 'EREFUSED',
};

/**
 * One A query over TCP to `server` (`ip:port`), bounded by `timeoutMs`; results as `queryA`.
 * The Node resolver has no TCP mode, and TCP is the path a truncated UDP answer leads to.
 */
export async function queryATcp(
  server: string,
  name: string,
  timeoutMs = 1_000,
): Promise<QueryResult> {
  const [host, port] = splitHostPort(server);
  const query = streamEncode({
    type: 'query',
    id: Math.floor(Math.random() * 0xffff),
    flags: RECURSION_DESIRED,
    questions: [{ type: 'A', name }],
  });
  return new Promise<QueryResult>((resolve) => {
    const socket = connect({ host, port });
    let received = Buffer.alloc(0);
    const finish = (result: QueryResult): void => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => finish({ ok: false, code: 'ETIMEOUT' }));
    socket.on('error', (err: NodeJS.ErrnoException) =>
      finish({ ok: false, code: err.code ?? 'EUNKNOWN' }),
    );
    socket.on('connect', () => socket.write(query));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 2 || received.length < 2 + received.readUInt16BE(0)) return;
      const answer = streamDecode(received) as DecodedPacket;
      const rcode = (answer.flags ?? 0) & 0x0f;
      if (rcode !== 0) {
        finish({ ok: false, code: rcodeErrors[rcode] ?? `RCODE${rcode}` });
        return;
      }
      const addresses = (answer.answers ?? [])
        .filter((a): a is StringAnswer => a.type === 'A')
        .map((a) => a.data);
      finish(addresses.length > 0 ? { ok: true, addresses } : { ok: false, code: 'ENODATA' });
    });
  });
}

function splitHostPort(server: string): [string, number] {
  const at = server.lastIndexOf(':');
  if (at < 0) return [server, 53];
  return [server.slice(0, at), Number(server.slice(at + 1))];
}
