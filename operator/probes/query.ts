/**
 * One DNS probe query prepared once (normalised name, wire template) and the pure classification
 * of a response packet against it. No I/O here: the resolver calls `classifyResponse` on every
 * packet it receives, and the fuzz tests call it with random bytes.
 */
import * as packet from 'dns-packet';

export const PROBE_OUTCOMES = [
  'success',
  'timeout',
  'nxdomain',
  'servfail',
  'refused',
  'mismatch',
  'error',
] as const;
export type ProbeOutcome = (typeof PROBE_OUTCOMES)[number];

/** The query types the CRD allows. */
export const QUERY_TYPES = ['A', 'AAAA', 'CNAME', 'SRV', 'TXT', 'MX', 'NS', 'PTR', 'SOA'] as const;
export type QueryType = (typeof QUERY_TYPES)[number];

export const EXPECT_RCODES = ['NOERROR', 'NXDOMAIN', 'SERVFAIL', 'REFUSED'] as const;
export type ExpectRcode = (typeof EXPECT_RCODES)[number];

/** Largest UDP response accepted; anything bigger is an `error` (we never advertise EDNS above this). */
export const MAX_UDP_RESPONSE = 4096;
/** DNS header size. */
export const HEADER_BYTES = 12;

export interface PreparedQuery {
  /** Lower-case, no trailing dot. */
  readonly name: string;
  readonly type: QueryType;
  readonly expectRcode: ExpectRcode;
  /** "name/TYPE", used in logs and the `qtype` metric label comes from `type`. */
  readonly label: string;
  /** Encoded query with ID 0; each send copies it and writes a fresh random ID. */
  readonly wire: Buffer;
}

export class QueryError extends Error {
  override readonly name = 'QueryError';
}

const LABEL = /^[A-Za-z0-9_]([-A-Za-z0-9_]{0,61}[A-Za-z0-9])?$/;

export function normalizeName(name: string): string {
  const trimmed = name.trim().toLowerCase();
  return trimmed.endsWith('.') ? trimmed.slice(0, -1) : trimmed;
}

/** Validates and encodes a query once; throws QueryError with the offending value. */
export function prepareQuery(
  name: string,
  type: string = 'A',
  expectRcode: string = 'NOERROR',
): PreparedQuery {
  const normalized = normalizeName(name);
  if (normalized.length === 0 || normalized.length > 253) {
    throw new QueryError(`invalid query name "${name}": must be 1 to 253 characters`);
  }
  if (!normalized.split('.').every((l) => LABEL.test(l))) {
    throw new QueryError(`invalid query name "${name}": not a DNS name`);
  }
  const upperType = type.toUpperCase();
  if (!(QUERY_TYPES as readonly string[]).includes(upperType)) {
    throw new QueryError(`invalid query type "${type}": expected one of ${QUERY_TYPES.join(', ')}`);
  }
  const upperRcode = expectRcode.toUpperCase();
  if (!(EXPECT_RCODES as readonly string[]).includes(upperRcode)) {
    throw new QueryError(
      `invalid expected rcode "${expectRcode}": expected one of ${EXPECT_RCODES.join(', ')}`,
    );
  }
  const qtype = upperType as QueryType;
  const wire = packet.encode({
    type: 'query',
    id: 0,
    flags: packet.RECURSION_DESIRED,
    questions: [{ name: normalized, type: qtype, class: 'IN' }],
  });
  return Object.freeze({
    name: normalized,
    type: qtype,
    expectRcode: upperRcode as ExpectRcode,
    label: `${normalized}/${qtype}`,
    wire,
  });
}

/** The wire bytes of a query with the given ID, in a fresh buffer (sends are asynchronous). */
export function queryWithId(query: PreparedQuery, id: number): Buffer {
  const buf = Buffer.allocUnsafe(query.wire.length);
  query.wire.copy(buf);
  buf.writeUInt16BE(id, 0);
  return buf;
}

/** What a received packet means for the probe waiting on its ID. */
export interface Classification {
  readonly outcome: ProbeOutcome;
  readonly rcode?: string;
  readonly answers: number;
  /** TC bit set: the caller retries over TCP (UDP mode) or fails (TCP mode). */
  readonly truncated: boolean;
  /** Short reason for non-success outcomes, e.g. "malformed: ...". */
  readonly detail?: string;
}

/**
 * Classifies a response to `query` sent with `id`. Returns `undefined` when the packet is not an
 * answer to this query at all (wrong ID, not a response, different question): such a packet is
 * stray or spoofed and must never complete the probe. A packet that claims to answer it but cannot
 * be decoded is an `error`. Never throws.
 */
export function classifyResponse(
  buf: Buffer,
  query: PreparedQuery,
  id: number,
  maxBytes: number = 65_535,
): Classification | undefined {
  if (buf.length < 2 || buf.readUInt16BE(0) !== id) return undefined;
  if (buf.length < HEADER_BYTES) return malformed('short header');
  // QR bit clear: a query (e.g. reflected), not a response.
  if ((buf[2]! & 0x80) === 0) return undefined;
  if (buf.length > maxBytes) return malformed(`oversized (${buf.length} bytes)`, 'oversized');
  let decoded: packet.DecodedPacket;
  try {
    decoded = packet.decode(buf);
  } catch (err) {
    return malformed(err instanceof Error ? err.message : String(err));
  }
  // dns-packet reads some record data without bounds checks; a record reaching past the end of
  // the packet means the packet was cut short.
  if (packet.decode.bytes > buf.length) return malformed('packet ends inside a record');
  if (!sameQuestion(decoded.questions, query)) return undefined;
  const rcode = RCODE_NAMES[buf[3]! & 0x0f] ?? `RCODE${buf[3]! & 0x0f}`;
  const answers = decoded.answers ?? [];
  if (decoded.flag_tc) {
    return {
      outcome: 'error',
      rcode,
      answers: answers.length,
      truncated: true,
      detail: 'truncated',
    };
  }
  return classifyRcode(rcode, answers, query);
}

function malformed(reason: string, prefix = 'malformed'): Classification {
  return {
    outcome: 'error',
    answers: 0,
    truncated: false,
    detail: reason.startsWith(prefix) ? reason : `${prefix}: ${reason}`,
  };
}

function sameQuestion(
  questions: readonly packet.Question[] | undefined,
  query: PreparedQuery,
): boolean {
  if (questions === undefined || questions.length !== 1) return false;
  const q = questions[0]!;
  return (
    q.type === query.type &&
    (q.class === undefined || q.class === 'IN') &&
    typeof q.name === 'string' &&
    normalizeName(q.name) === query.name
  );
}

const RCODE_NAMES: readonly string[] = [
  'NOERROR',
  'FORMERR',
  'SERVFAIL',
  'NXDOMAIN',
  'NOTIMP',
  'REFUSED',
  'YXDOMAIN',
  'YXRRSET',
  'NXRRSET',
  'NOTAUTH',
  'NOTZONE',
];

const RCODE_OUTCOME: Readonly<Record<string, ProbeOutcome>> = {
  NXDOMAIN: 'nxdomain',
  SERVFAIL: 'servfail',
  REFUSED: 'refused',
};

function classifyRcode(
  rcode: string,
  answers: readonly packet.Answer[],
  query: PreparedQuery,
): Classification {
  const count = answers.length;
  if (rcode !== query.expectRcode) {
    const outcome = RCODE_OUTCOME[rcode] ?? 'mismatch';
    return { outcome, rcode, answers: count, truncated: false, detail: `rcode ${rcode}` };
  }
  if (rcode !== 'NOERROR') return { outcome: 'success', rcode, answers: count, truncated: false };
  // NOERROR expected: the answer must hold at least one record of the asked type (a CNAME chain
  // ending in it counts); NOERROR with no such record (NODATA) is a mismatch.
  const matching = answers.some((a) => a.type === query.type);
  return matching
    ? { outcome: 'success', rcode, answers: count, truncated: false }
    : {
        outcome: 'mismatch',
        rcode,
        answers: count,
        truncated: false,
        detail: count === 0 ? 'no answer records' : `no ${query.type} record in answer`,
      };
}
