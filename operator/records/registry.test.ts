import fc from 'fast-check';
import type { RecordType } from './endpoint';
import {
  canOwn,
  formatOwnershipValue,
  ownershipName,
  ownershipRecord,
  parseOwnershipName,
  parseOwnershipValue,
  readRegistry,
} from './registry';

describe('ownership TXT names', () => {
  it.each<[string, RecordType, string]>([
    ['app.example.com', 'A', '_dnsop-a.app.example.com'],
    ['app.example.com', 'CNAME', '_dnsop-cname.app.example.com'],
    ['example.com', 'AAAA', '_dnsop-aaaa.example.com'],
    ['*.example.com', 'A', '_dnsop-a-wildcard.example.com'],
  ])('%s %s -> %s', (name, type, txt) => {
    expect(ownershipName(name, type)).toBe(txt);
    expect(parseOwnershipName(txt)).toEqual({ name, type });
  });

  it.each([
    ['app.example.com'],
    ['_dmarc.example.com'],
    ['_dnsop-mx.example.com'],
    ['_dnsop-a'],
    // Another prefix of the same length, a single label, nothing after the type label.
    ['_other-a.app.example.com'],
    ['_dnsop-aa'],
    ['_dnsop-a.'],
  ])('%s is not an ownership name', (name) => {
    expect(parseOwnershipName(name)).toBeUndefined();
  });

  it('round-trips any record name and type', () => {
    const label = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,8}[a-z0-9])?$/);
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.array(label, { minLength: 1, maxLength: 4 }),
        fc.constantFrom<RecordType>('A', 'AAAA', 'CNAME'),
        (wild, labels, type) => {
          const name = `${wild ? '*.' : ''}${labels.join('.')}.example.com`;
          expect(parseOwnershipName(ownershipName(name, type))).toEqual({ name, type });
        },
      ),
    );
  });
});

describe('which names can be owned', () => {
  // A name of n characters has an A ownership TXT name of n + 9 ("_dnsop-a.").
  const nameOf = (length: number): string => {
    const labels = ['example.com'];
    while (labels.join('.').length < length - 64) labels.unshift('x'.repeat(63));
    const rest = length - labels.join('.').length - 1;
    return [...(rest > 0 ? ['y'.repeat(rest)] : []), ...labels].join('.');
  };

  it('a record whose ownership TXT name fits in 253 characters, and no longer', () => {
    expect(nameOf(244)).toHaveLength(244);
    expect(canOwn(nameOf(244), 'A')).toBe(true);
    expect(ownershipName(nameOf(244), 'A')).toHaveLength(253);
    expect(canOwn(nameOf(245), 'A')).toBe(false);
    // The type label counts: a CNAME's TXT name is four characters longer.
    expect(canOwn(nameOf(241), 'CNAME')).toBe(false);
  });
});

describe('ownership TXT values', () => {
  it('carries the owner and the source object', () => {
    const value = formatOwnershipValue({ owner: 'shop/public', resource: 'Service/shop/app' });
    expect(value).toBe('"heritage=dnsop,dnsop/owner=shop/public,dnsop/resource=Service/shop/app"');
    expect(parseOwnershipValue(value)).toEqual({
      owner: 'shop/public',
      resource: 'Service/shop/app',
    });
  });

  it('names every object of a merged record, sorted, separated by ";"', () => {
    const value = formatOwnershipValue({
      owner: 'shop/public',
      resource: 'Service/shop/b,Service/shop/a',
    });
    expect(value).toBe(
      '"heritage=dnsop,dnsop/owner=shop/public,dnsop/resource=Service/shop/b;Service/shop/a"',
    );
    expect(parseOwnershipValue(value)?.resource).toBe('Service/shop/a,Service/shop/b');
  });

  it('splits a value longer than one character-string (255 octets) and joins it back', () => {
    const pods = Array.from(
      { length: 30 },
      (_, i) => `Pod/shop/worker-${String(i).padStart(2, '0')}`,
    );
    const value = formatOwnershipValue({ owner: 'shop/public', resource: pods.join(',') });
    const strings = [...value.matchAll(/"([^"]*)"/g)].map((m) => m[1] ?? '');
    expect(strings.length).toBeGreaterThan(1);
    expect(strings.every((s) => s.length <= 255)).toBe(true);
    expect(value).toBe(strings.map((s) => `"${s}"`).join(' '));
    expect(parseOwnershipValue(value)).toEqual({ owner: 'shop/public', resource: pods.join(',') });
  });

  it('writes a value of exactly one character-string (255 octets) as one string', () => {
    const prefix = 'heritage=dnsop,dnsop/owner=shop/public,dnsop/resource=Service/shop/';
    const name = 'a'.repeat(255 - prefix.length);
    const value = formatOwnershipValue({ owner: 'shop/public', resource: `Service/shop/${name}` });
    expect(value).toBe(`"${prefix}${name}"`);
  });

  it('reads a value returned without its quotes, or with spaces around its fields', () => {
    expect(parseOwnershipValue('heritage=dnsop,dnsop/owner=shop/public')).toEqual({
      owner: 'shop/public',
    });
    expect(
      parseOwnershipValue('"heritage=dnsop, dnsop/owner= shop/public ,dnsop/resource=Pod/shop/a"'),
    ).toEqual({ owner: 'shop/public', resource: 'Pod/shop/a' });
  });

  it('round-trips any set of source objects', () => {
    const ref = fc
      .tuple(
        fc.constantFrom('Service', 'Pod', 'Ingress', 'HTTPRoute'),
        fc.stringMatching(/^[a-z][-a-z0-9]{0,20}$/),
        fc.stringMatching(/^[a-z][-a-z0-9]{0,40}$/),
      )
      .map(([k, ns, n]) => `${k}/${ns}/${n}`);
    fc.assert(
      fc.property(fc.uniqueArray(ref, { minLength: 1, maxLength: 40 }), (refs) => {
        const resource = [...refs].sort().join(',');
        expect(parseOwnershipValue(formatOwnershipValue({ owner: 'o', resource }))).toEqual({
          owner: 'o',
          resource,
        });
      }),
    );
  });

  it.each([
    ['"v=spf1 -all"'],
    ['"heritage=external-dns,external-dns/owner=x"'],
    ['"heritage=dnsop"'],
  ])('ignores foreign TXT %s', (value) => {
    expect(parseOwnershipValue(value)).toBeUndefined();
  });

  it.each([
    ['a second owner smuggled in', '"heritage=dnsop,dnsop/owner=b/x,dnsop/owner=shop/public"'],
    ['a field without "="', '"heritage=dnsop,dnsop/owner=b/x,shop/public"'],
    ['an unknown field', '"heritage=dnsop,dnsop/owner=b/x,dnsop/admin=yes"'],
    ['heritage twice', '"heritage=dnsop,heritage=dnsop,dnsop/owner=b/x"'],
    ['an owner with a space', '"heritage=dnsop,dnsop/owner=b/x y"'],
    ['an owner with a quote', '"heritage=dnsop,dnsop/owner=b/x"y"'],
    ['an owner with "="', '"heritage=dnsop,dnsop/owner=b/x=shop/public"'],
    ['a field name without "="', '"heritage=dnsop,dnsop/owner=b/x,dnsop/resources"'],
    [
      'a resource with a space',
      '"heritage=dnsop,dnsop/owner=b/x,dnsop/resource=Pod/b/a;Pod/b/c d"',
    ],
    ['another heritage', '"heritage=external-dns,dnsop/owner=b/x"'],
    ['no heritage', '"dnsop/owner=b/x"'],
  ])("a value that says two things is nobody's: %s", (_name, value) => {
    expect(parseOwnershipValue(value)).toBeUndefined();
  });

  it('never writes an owner that could be misread, and leaves out such a resource', () => {
    expect(() => formatOwnershipValue({ owner: 'b/x,dnsop/owner=shop/public' })).toThrow(
      /unsafe owner/,
    );
    expect(
      formatOwnershipValue({ owner: 'b/x', resource: 'Service/b/a=dnsop/owner=shop/public' }),
    ).toBe('"heritage=dnsop,dnsop/owner=b/x"');
    // Several objects: each is checked on its own, and ";" (not ",") separates them.
    expect(
      formatOwnershipValue({ owner: 'b/x', resource: 'Service/b/a,Service/b/"c,Service/b/d' }),
    ).toBe('"heritage=dnsop,dnsop/owner=b/x,dnsop/resource=Service/b/a;Service/b/d"');
  });
});

describe('readRegistry', () => {
  it.each([
    ['owners', [{ owner: 'shop/public' }, { owner: 'b/x' }]],
    [
      'objects',
      [
        { owner: 'shop/public', resource: 'Service/shop/a' },
        { owner: 'shop/public', resource: 'Service/shop/b' },
      ],
    ],
  ])("a TXT record set whose values name different %s is nobody's", (_what, values) => {
    const view = readRegistry([
      { name: 'app.example.com', type: 'A', targets: ['10.0.0.1'], ttl: 300 },
      {
        name: '_dnsop-a.app.example.com',
        type: 'TXT',
        targets: values.map(formatOwnershipValue),
        ttl: 300,
      },
    ]);
    expect(view.ownership.size).toBe(0);
    expect(view.records.get('app.example.com/A')?.labels).toBeUndefined();
  });

  it('labels owned records and keeps unrelated TXT records as plain records', () => {
    const record = {
      name: 'app.example.com',
      type: 'A' as const,
      targets: ['10.0.0.1'],
      ttl: 300,
      source: 'Service/shop/app',
    };
    const view = readRegistry([
      { name: record.name, type: 'A', targets: record.targets, ttl: 300 },
      ownershipRecord(record, 'shop/public'),
      { name: 'example.com', type: 'TXT', targets: ['"v=spf1 -all"'], ttl: 300 },
    ]);
    expect(view.records.get('app.example.com/A')?.labels).toEqual({
      owner: 'shop/public',
      resource: 'Service/shop/app',
    });
    expect(view.records.has('example.com/TXT')).toBe(true);
    expect(view.ownership.get('app.example.com/A')?.txt.ownerOf).toBe('app.example.com/A');
  });
});
