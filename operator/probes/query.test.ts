import * as packet from 'dns-packet';
import fc from 'fast-check';
import { classifyResponse, PROBE_OUTCOMES, prepareQuery, queryWithId, QueryError } from './query';

function response(
  id: number,
  opts: {
    name?: string;
    type?: packet.RecordType;
    rcode?: number;
    answers?: packet.Answer[];
    tc?: boolean;
    questions?: packet.Question[];
  } = {},
): Buffer {
  const name = opts.name ?? 'kubernetes.default.svc.cluster.local';
  const type = opts.type ?? 'A';
  return packet.encode({
    type: 'response',
    id,
    flags: (opts.rcode ?? 0) | (opts.tc === true ? packet.TRUNCATED_RESPONSE : 0),
    questions: opts.questions ?? [{ name, type, class: 'IN' }],
    answers: opts.answers ?? [{ name, type: 'A', ttl: 5, data: '10.96.0.1' }],
  });
}

describe('prepareQuery', () => {
  it('normalises case and the trailing dot and encodes a template with ID 0', () => {
    const q = prepareQuery('Kubernetes.Default.SVC.cluster.local.', 'srv');
    expect(q.name).toBe('kubernetes.default.svc.cluster.local');
    expect(q.type).toBe('SRV');
    expect(q.expectRcode).toBe('NOERROR');
    expect(q.label).toBe('kubernetes.default.svc.cluster.local/SRV');
    expect(q.wire.readUInt16BE(0)).toBe(0);
    const decoded = packet.decode(queryWithId(q, 0xbeef));
    expect(decoded.id).toBe(0xbeef);
    expect(decoded.flag_rd).toBe(true);
    expect(decoded.questions).toEqual([{ name: q.name, type: 'SRV', class: 'IN' }]);
  });

  it.each([
    ['', 'A', 'NOERROR', /1 to 253/],
    ['bad..name', 'A', 'NOERROR', /not a DNS name/],
    ['-x.example', 'A', 'NOERROR', /not a DNS name/],
    ['ok.example', 'ANY', 'NOERROR', /query type "ANY"/],
    ['ok.example', 'A', 'NOTIMP', /expected rcode "NOTIMP"/],
  ])('rejects %j %s %s', (name, type, rcode, message) => {
    expect(() => prepareQuery(name, type, rcode)).toThrow(QueryError);
    expect(() => prepareQuery(name, type, rcode)).toThrow(message);
  });

  it('does not share the template between sends', () => {
    const q = prepareQuery('a.example');
    const one = queryWithId(q, 1);
    const two = queryWithId(q, 2);
    expect(one.readUInt16BE(0)).toBe(1);
    expect(two.readUInt16BE(0)).toBe(2);
    expect(q.wire.readUInt16BE(0)).toBe(0);
  });
});

describe('classifyResponse', () => {
  const q = prepareQuery('kubernetes.default.svc.cluster.local', 'A');

  it.each([
    ['NOERROR with an A record', response(7), 'success'],
    ['NXDOMAIN', response(7, { rcode: 3, answers: [] }), 'nxdomain'],
    ['SERVFAIL', response(7, { rcode: 2, answers: [] }), 'servfail'],
    ['REFUSED', response(7, { rcode: 5, answers: [] }), 'refused'],
    ['FORMERR', response(7, { rcode: 1, answers: [] }), 'mismatch'],
    ['NOERROR with no records (NODATA)', response(7, { answers: [] }), 'mismatch'],
    [
      'NOERROR with only a CNAME for an A query',
      response(7, { answers: [{ name: q.name, type: 'CNAME', data: 'x.example' }] }),
      'mismatch',
    ],
    [
      'a CNAME chain ending in an A record',
      response(7, {
        answers: [
          { name: q.name, type: 'CNAME', data: 'x.example' },
          { name: 'x.example', type: 'A', data: '10.0.0.2' },
        ],
      }),
      'success',
    ],
  ])('%s -> %s', (_label, buf, outcome) => {
    expect(classifyResponse(buf, q, 7)?.outcome).toBe(outcome);
  });

  it('counts an expected NXDOMAIN as success and an unexpected NOERROR as mismatch', () => {
    const nx = prepareQuery('missing.example', 'A', 'NXDOMAIN');
    expect(
      classifyResponse(response(1, { name: nx.name, rcode: 3, answers: [] }), nx, 1)?.outcome,
    ).toBe('success');
    expect(classifyResponse(response(1, { name: nx.name }), nx, 1)?.outcome).toBe('mismatch');
  });

  it.each([
    ['another ID', response(8)],
    ['another name', response(7, { name: 'evil.example' })],
    ['another type', response(7, { type: 'AAAA' })],
    ['no question', response(7, { questions: [] })],
    ['a query, not a response', queryWithId(q, 7)],
    ['a single byte', Buffer.from([0])],
  ])('ignores %s (never completes the probe)', (_label, buf) => {
    expect(classifyResponse(buf, q, 7)).toBeUndefined();
  });

  it('matches the question case-insensitively', () => {
    expect(
      classifyResponse(response(7, { name: 'KUBERNETES.default.svc.cluster.local' }), q, 7)
        ?.outcome,
    ).toBe('success');
  });

  it('reports the TC bit', () => {
    const c = classifyResponse(response(7, { tc: true, answers: [] }), q, 7);
    expect(c?.truncated).toBe(true);
  });

  it('is an error for a short header, a packet cut short, and an oversized packet', () => {
    const full = response(7);
    expect(classifyResponse(full.subarray(0, 6), q, 7)).toMatchObject({
      outcome: 'error',
      detail: /short header/,
    });
    expect(classifyResponse(full.subarray(0, full.length - 3), q, 7)).toMatchObject({
      outcome: 'error',
      detail: /malformed/,
    });
    expect(classifyResponse(full, q, 7, 20)).toMatchObject({
      outcome: 'error',
      detail: /oversized/,
    });
  });

  it('never throws on random bytes, and random bytes never pass as success', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 600 }), (bytes) => {
        const c = classifyResponse(
          Buffer.from(bytes),
          q,
          bytes.length >= 2 ? (bytes[0]! << 8) | bytes[1]! : 0,
        );
        if (c !== undefined) expect(PROBE_OUTCOMES).toContain(c.outcome);
      }),
      { numRuns: 5000 },
    );
  });

  it('never throws on mutations of a valid answer', () => {
    const valid = response(0x1234, {
      answers: [
        { name: q.name, type: 'CNAME', data: 'a.example' },
        { name: 'a.example', type: 'A', data: '10.0.0.1' },
      ],
    });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat({ max: valid.length - 1 }), fc.integer({ min: 0, max: 255 })), {
          maxLength: 8,
        }),
        fc.nat({ max: valid.length }),
        (edits, cut) => {
          const buf = Buffer.from(valid.subarray(0, Math.max(cut, 2)));
          for (const [at, value] of edits) if (at < buf.length) buf[at] = value;
          const c = classifyResponse(buf, q, buf.readUInt16BE(0));
          if (c !== undefined) expect(PROBE_OUTCOMES).toContain(c.outcome);
        },
      ),
      { numRuns: 5000 },
    );
  });
});
