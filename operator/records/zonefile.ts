/**
 * A small, strict reader of RFC 1035 master files (section 5), as BIND and `gcloud dns
 * record-sets export --zone-file-format` write them: $ORIGIN, $TTL, relative names, `@`, a blank
 * owner repeating the previous one, TTL and class in either order, `;` comments, parentheses
 * across lines, quoted and multi-string TXT data, `\X` and `\DDD` escapes. Every fault is a
 * ZoneFileError with the line it is on; nothing is skipped silently. Pure (text in, records out).
 *
 * The npm zone-file parsers seen (dnsz, dns-zonefile, zone-file) skip lines they cannot read and
 * report no line numbers, which a pull-request check cannot live with; hence this one.
 */
import { isIPv4, isIPv6 } from 'node:net';

export class ZoneFileError extends Error {
  override readonly name = 'ZoneFileError';
  readonly line: number;
  readonly reason: string;
  constructor(line: number, reason: string) {
    super(`line ${line}: ${reason}`);
    this.line = line;
    this.reason = reason;
  }
}

/** One resource record of a master file, names absolute, lower case, without the trailing dot. */
export interface ZoneRecord {
  readonly name: string;
  readonly ttl: number;
  readonly type: string;
  /**
   * The data in presentation form: A/AAAA the address; CNAME the absolute name; SRV
   * "prio weight port target." with an absolute target; TXT its character-strings, each quoted,
   * joined by one space; other types their tokens joined by one space.
   */
  readonly data: string;
  readonly line: number;
}

interface Token {
  readonly text: string;
  readonly quoted: boolean;
  readonly line: number;
}

interface Entry {
  /** The entry began with white space: its owner is the previous entry's. */
  readonly blankOwner: boolean;
  readonly tokens: readonly Token[];
  readonly line: number;
}

// Every type IANA lists that a zone file may hold (so a typo is an error, not a skipped line).
const KNOWN_TYPES = new Set(
  (
    'A NS MD MF CNAME SOA MB MG MR NULL WKS PTR HINFO MINFO MX TXT RP AFSDB X25 ISDN RT NSAP ' +
    'NSAP-PTR SIG KEY PX GPOS AAAA LOC NXT EID NIMLOC SRV ATMA NAPTR KX CERT A6 DNAME SINK APL DS ' +
    'SSHFP IPSECKEY RRSIG NSEC DNSKEY DHCID NSEC3 NSEC3PARAM TLSA SMIMEA HIP NINFO RKEY TALINK CDS ' +
    'CDNSKEY OPENPGPKEY CSYNC ZONEMD SVCB HTTPS SPF NID L32 L64 LP EUI48 EUI64 URI CAA AVC DOA ' +
    'AMTRELAY RESINFO WALLET TA DLV'
  ).split(' '),
);
const CLASSES = new Set(['IN', 'CH', 'HS', 'CS']);
const TTL_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };
const MAX_TTL = 2_147_483_647;

/** Reads a quoted string starting at text[i] === '"'; escapes are kept as written. */
function readQuoted(text: string, i: number, line: number): { token: Token; next: number } {
  let j = i + 1;
  let value = '';
  while (j < text.length && text[j] !== '"') {
    if (text[j] === '\n') throw new ZoneFileError(line, 'unterminated quoted string');
    const step = text[j] === '\\' && j + 1 < text.length ? 2 : 1;
    value += text.slice(j, j + step);
    j += step;
  }
  if (j >= text.length) throw new ZoneFileError(line, 'unterminated quoted string');
  return { token: { text: value, quoted: true, line }, next: j + 1 };
}

/** Reads an unquoted word starting at text[i]; escapes are kept as written. */
function readWord(text: string, i: number, line: number): { token: Token; next: number } {
  let j = i;
  let value = '';
  while (j < text.length && !' \t\r\n;()"'.includes(text[j]!)) {
    const step = text[j] === '\\' && j + 1 < text.length && text[j + 1] !== '\n' ? 2 : 1;
    value += text.slice(j, j + step);
    j += step;
  }
  return { token: { text: value, quoted: false, line }, next: j };
}

function nesting(depth: number, paren: '(' | ')', line: number): number {
  if (paren === ')' && depth === 0) throw new ZoneFileError(line, '")" without a matching "("');
  return depth + (paren === '(' ? 1 : -1);
}

/** Splits the text into entries (logical lines: parentheses join physical ones) of tokens. */
function tokenize(text: string): Entry[] {
  const entries: Entry[] = [];
  let tokens: Token[] = [];
  let line = 1;
  let entryLine = 1;
  let blankOwner = false;
  let atLineStart = true;
  let depth = 0;
  let openedOn = 0;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\n') {
      line++;
      i++;
      if (depth > 0) continue;
      if (tokens.length > 0) entries.push({ blankOwner, tokens, line: entryLine });
      tokens = [];
      atLineStart = true;
      continue;
    }
    if (atLineStart) {
      atLineStart = false;
      blankOwner = c === ' ' || c === '\t';
      entryLine = line;
    }
    if (c === ' ' || c === '\t' || c === '\r') i++;
    else if (c === ';') i = text.indexOf('\n', i) < 0 ? text.length : text.indexOf('\n', i);
    else if (c === '(' || c === ')') {
      if (depth === 0) openedOn = line;
      depth = nesting(depth, c, line);
      i++;
    } else {
      const read = c === '"' ? readQuoted(text, i, line) : readWord(text, i, line);
      tokens.push(read.token);
      i = read.next;
    }
  }
  if (depth > 0) throw new ZoneFileError(openedOn, '"(" is never closed');
  if (tokens.length > 0) entries.push({ blankOwner, tokens, line: entryLine });
  return entries;
}

/** Decodes `\X` and `\DDD` escapes; returns the octets as a latin-1 string. */
function unescape(text: string, line: number): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const digits = text.slice(i + 1, i + 4);
    if (/^\d{3}$/.test(digits)) {
      const code = Number(digits);
      if (code > 255) throw new ZoneFileError(line, `escape \\${digits} is not an octet`);
      out += String.fromCharCode(code);
      i += 3;
    } else if (i + 1 < text.length) {
      out += text[++i];
    } else throw new ZoneFileError(line, 'a "\\" ends the token');
  }
  return out;
}

function parseTtl(text: string, line: number): number | undefined {
  let seconds: number;
  if (/^\d+$/.test(text)) seconds = Number(text);
  else if (/^(\d+[smhdw])+$/i.test(text)) {
    seconds = 0;
    for (const [, n, unit] of text.matchAll(/(\d+)([smhdw])/gi)) {
      seconds += Number(n) * TTL_UNITS[unit!.toLowerCase()]!;
    }
  } else return undefined;
  if (seconds > MAX_TTL) throw new ZoneFileError(line, `TTL ${text} is above ${MAX_TTL}`);
  return seconds;
}

/** A domain name of the file, made absolute against the origin. */
function absoluteName(token: Token, origin: string | undefined): string {
  const raw = token.text;
  if (token.quoted) throw new ZoneFileError(token.line, `a name cannot be quoted ("${raw}")`);
  let name: string;
  if (raw === '@') {
    if (origin === undefined) throw noOrigin(token);
    name = origin;
  } else if (raw.endsWith('.') && !raw.endsWith('\\.')) {
    name = raw === '.' ? '' : unescape(raw.slice(0, -1), token.line);
  } else {
    if (origin === undefined) throw noOrigin(token);
    const relative = unescape(raw, token.line);
    name = origin === '' ? relative : `${relative}.${origin}`;
  }
  name = name.toLowerCase();
  checkName(name, token.line);
  return name;
}

function noOrigin(token: Token): ZoneFileError {
  return new ZoneFileError(
    token.line,
    `"${token.text}" is relative and no $ORIGIN is set: add "$ORIGIN <zone>." or write names ending in "."`,
  );
}

function checkName(name: string, line: number): void {
  if (name.length > 253)
    throw new ZoneFileError(line, `name ${name} is longer than 253 characters`);
  for (const label of name === '' ? [] : name.split('.')) {
    if (label === '') throw new ZoneFileError(line, `name "${name}" has an empty label`);
    if (label.length > 63)
      throw new ZoneFileError(line, `label "${label}" of ${name} is longer than 63 characters`);
  }
}

/** The character-strings of TXT data: each quoted, escapes kept, at most 255 octets. */
function txtData(tokens: readonly Token[]): string {
  return tokens
    .map((t) => {
      const octets = Buffer.byteLength(unescape(t.text, t.line), 'latin1');
      if (octets > 255) {
        throw new ZoneFileError(t.line, `a TXT character-string is ${octets} octets (at most 255)`);
      }
      return `"${t.text}"`;
    })
    .join(' ');
}

function count(tokens: readonly Token[], n: number, type: string, shape: string): void {
  if (tokens.length !== n) {
    throw new ZoneFileError(
      tokens[0]?.line ?? 0,
      `${type} data must be ${shape}, got ${tokens.length} fields (${tokens.map((t) => t.text).join(' ')})`,
    );
  }
}

function uint16(token: Token, what: string): number {
  const n = /^\d+$/.test(token.text) ? Number(token.text) : NaN;
  if (!(n >= 0 && n <= 65_535))
    throw new ZoneFileError(token.line, `SRV ${what} "${token.text}" is not 0..65535`);
  return n;
}

/** Checks the data of the types dnsop manages and brings it to one presentation form. */
function recordData(type: string, tokens: readonly Token[], origin: string | undefined): string {
  switch (type) {
    case 'A':
    case 'AAAA': {
      count(tokens, 1, type, 'one address');
      const ok = type === 'A' ? isIPv4(tokens[0]!.text) : isIPv6(tokens[0]!.text);
      if (!ok || tokens[0]!.quoted) {
        throw new ZoneFileError(
          tokens[0]!.line,
          `"${tokens[0]!.text}" is not an IPv${type === 'A' ? 4 : 6} address`,
        );
      }
      return tokens[0]!.text;
    }
    case 'CNAME':
      count(tokens, 1, type, 'one name');
      return absoluteName(tokens[0]!, origin);
    case 'SRV': {
      count(tokens, 4, type, '"priority weight port target"');
      const [priority, weight, port] = tokens
        .slice(0, 3)
        .map((t, i) => uint16(t, ['priority', 'weight', 'port'][i]!));
      return `${priority} ${weight} ${port} ${absoluteName(tokens[3]!, origin)}.`;
    }
    case 'TXT':
    case 'SPF':
      return txtData(tokens);
    default:
      return tokens.map((t) => (t.quoted ? `"${t.text}"` : t.text)).join(' ');
  }
}

interface State {
  origin: string | undefined;
  defaultTtl: number | undefined;
  lastTtl: number | undefined;
  lastOwner: string | undefined;
}

function directive(entry: Entry, state: State): void {
  const [head, arg, ...rest] = entry.tokens;
  const name = head!.text.toUpperCase();
  if (name === '$ORIGIN' || name === '$TTL') {
    if (arg === undefined || rest.length > 0) {
      throw new ZoneFileError(entry.line, `${name} takes exactly one value`);
    }
    if (name === '$ORIGIN') state.origin = absoluteName(arg, state.origin);
    else {
      const ttl = parseTtl(arg.text, arg.line);
      if (ttl === undefined) throw new ZoneFileError(arg.line, `$TTL "${arg.text}" is not a TTL`);
      state.defaultTtl = ttl;
    }
    return;
  }
  if (name === '$INCLUDE' || name === '$GENERATE') {
    throw new ZoneFileError(
      entry.line,
      `${name} is not supported: give the included or generated records in the file itself`,
    );
  }
  throw new ZoneFileError(entry.line, `unknown directive ${head!.text}`);
}

/** Takes the optional TTL and class (in either order) off the front of the tokens. */
function takeTtlAndClass(tokens: Token[]): { ttl?: number; klass?: string } {
  const out: { ttl?: number; klass?: string } = {};
  for (let k = 0; k < 2 && tokens.length > 0; k++) {
    const t = tokens[0]!;
    const asTtl = t.quoted ? undefined : parseTtl(t.text, t.line);
    if (asTtl !== undefined && out.ttl === undefined) out.ttl = asTtl;
    else if (!t.quoted && CLASSES.has(t.text.toUpperCase()) && out.klass === undefined)
      out.klass = t.text.toUpperCase();
    else break;
    tokens.shift();
  }
  return out;
}

function takeType(tokens: Token[], entry: Entry, owner: string): string {
  const typeToken = tokens.shift();
  if (typeToken === undefined) throw new ZoneFileError(entry.line, `${owner}: no record type`);
  const type = typeToken.text.toUpperCase();
  if (typeToken.quoted || !(KNOWN_TYPES.has(type) || /^TYPE\d+$/.test(type))) {
    throw new ZoneFileError(typeToken.line, `unknown record type "${typeToken.text}"`);
  }
  return type;
}

function record(entry: Entry, state: State): ZoneRecord {
  const tokens = [...entry.tokens];
  let owner: string;
  if (entry.blankOwner) {
    if (state.lastOwner === undefined) {
      throw new ZoneFileError(entry.line, 'the first record has no owner name');
    }
    owner = state.lastOwner;
  } else owner = absoluteName(tokens.shift()!, state.origin);
  const { ttl, klass } = takeTtlAndClass(tokens);
  const type = takeType(tokens, entry, owner);
  if (klass !== undefined && klass !== 'IN') {
    throw new ZoneFileError(entry.line, `class ${klass} is not supported (only IN)`);
  }
  if (tokens.length === 0) throw new ZoneFileError(entry.line, `${owner} ${type} has no data`);
  const resolvedTtl = ttl ?? state.defaultTtl ?? state.lastTtl;
  if (resolvedTtl === undefined) {
    throw new ZoneFileError(entry.line, `${owner} ${type} has no TTL: add a $TTL line or a TTL`);
  }
  state.lastOwner = owner;
  state.lastTtl = resolvedTtl;
  return {
    name: owner,
    ttl: resolvedTtl,
    type,
    data: recordData(type, tokens, state.origin),
    line: entry.line,
  };
}

/** Reads a master file. `origin` is the zone's name when the file is relative to one it does not name. */
export function parseZoneFile(text: string, options: { origin?: string } = {}): ZoneRecord[] {
  const state: State = {
    origin: options.origin?.toLowerCase().replace(/\.$/, ''),
    defaultTtl: undefined,
    lastTtl: undefined,
    lastOwner: undefined,
  };
  const out: ZoneRecord[] = [];
  for (const entry of tokenize(text)) {
    const head = entry.tokens[0]!;
    if (!entry.blankOwner && !head.quoted && head.text.startsWith('$')) directive(entry, state);
    else out.push(record(entry, state));
  }
  return out;
}
