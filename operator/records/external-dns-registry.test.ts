import type { Endpoint, RecordType } from './endpoint';
import {
  externalDnsClaim,
  externalDnsLegacyTxtName,
  externalDnsTxtName,
  parseExternalDnsLabels,
  removalOf,
  type ExternalDnsRegistry,
} from './external-dns-registry';

const reg = (
  txtPrefix = '',
  txtSuffix = '',
  txtWildcardReplacement = '',
  ownerId = 'default',
): ExternalDnsRegistry => ({ ownerId, txtPrefix, txtSuffix, txtWildcardReplacement });

const value = (owner: string, resource = 'service/shop/app'): string =>
  `"heritage=external-dns,external-dns/owner=${owner},external-dns/resource=${resource}"`;

function txt(name: string, ...targets: string[]): Endpoint {
  return { name, type: 'TXT', targets, ttl: 300 };
}

function zone(...records: Endpoint[]): (name: string) => Endpoint | undefined {
  return (name) => records.find((r) => r.name === name && r.type === 'TXT');
}

describe('external-dns TXT names (its mapper_test.go cases)', () => {
  it.each<[string, ExternalDnsRegistry, string, string, string]>([
    ['no affix, A', reg(), 'foo.example.com', 'A', 'a-foo.example.com'],
    ['no affix, AAAA', reg(), 'foo.example.com', 'AAAA', 'aaaa-foo.example.com'],
    ['no affix, CNAME', reg(), 'foo.example.com', 'CNAME', 'cname-foo.example.com'],
    ['no affix, SRV', reg(), '_http._tcp.foo.example.com', 'SRV', 'srv-_http._tcp.foo.example.com'],
    ['prefix template', reg('%{record_type}-'), 'foo.example.com', 'A', 'a-foo.example.com'],
    [
      'suffix template',
      reg('', '-%{record_type}'),
      'foo.example.com',
      'CNAME',
      'foo-cname.example.com',
    ],
    ['plain prefix', reg('extdns-'), 'foo.example.com', 'A', 'extdns-a-foo.example.com'],
    ['prefix with a dot', reg('txt.'), 'foo.example.com', 'A', 'txt.a-foo.example.com'],
    ['plain suffix', reg('', '-txt'), 'foo.example.com', 'A', 'a-foo-txt.example.com'],
    ['upper-case prefix', reg('ExtDNS-'), 'foo.example.com', 'A', 'extdns-a-foo.example.com'],
    [
      'wildcard replacement',
      reg('txt-', '', 'wild'),
      '*.example.com',
      'A',
      'txt-a-wild.example.com',
    ],
    ['wildcard without replacement', reg(), '*.example.com', 'A', 'a-*.example.com'],
    ['apex, no affix: outside the zone', reg(), 'example.com', 'A', 'a-example.com'],
    [
      'apex, templated prefix ending in a dot (external-dns docs)',
      reg('%{record_type}-abc-.'),
      'ex.com',
      'CNAME',
      'cname-abc-.ex.com',
    ],
    [
      'suffix with a dot and template',
      reg('', '-.%{record_type}'),
      'www.ex.com',
      'CNAME',
      'www-.cname.ex.com',
    ],
    ['single label', reg(), 'localhost', 'A', 'a-localhost'],
  ])('%s', (_what, registry, name, type, want) => {
    expect(externalDnsTxtName(name, type, registry)).toBe(want);
  });

  it.each<[string, ExternalDnsRegistry, string, RecordType, string | undefined]>([
    ['no affix: the record name itself', reg(), 'foo.example.com', 'A', 'foo.example.com'],
    ['apex, no affix: the apex itself', reg(), 'example.com', 'A', 'example.com'],
    ['plain prefix', reg('extdns-'), 'foo.example.com', 'CNAME', 'extdns-foo.example.com'],
    ['plain suffix', reg('', '-txt'), 'foo.example.com', 'A', 'foo-txt.example.com'],
    ['wildcard replacement', reg('', '', 'wild'), '*.example.com', 'A', 'wild.example.com'],
    ['never for AAAA', reg(), 'foo.example.com', 'AAAA', undefined],
    ['never for TXT', reg(), 'foo.example.com', 'TXT', undefined],
    ['never with a template', reg('%{record_type}-'), 'foo.example.com', 'A', undefined],
  ])('legacy: %s', (_what, registry, name, type, want) => {
    expect(externalDnsLegacyTxtName(name, type, registry)).toBe(want);
  });
});

describe('external-dns ownership values', () => {
  it.each<[string, string, Record<string, string> | undefined]>([
    ['quoted', value('default'), { owner: 'default', resource: 'service/shop/app' }],
    ['unquoted', 'heritage=external-dns,external-dns/owner=team-a', { owner: 'team-a' }],
    ['no owner label', '"heritage=external-dns"', {}],
    ['dnsop heritage', '"heritage=dnsop,dnsop/owner=shop/public"', undefined],
    ['no heritage', '"external-dns/owner=default"', undefined],
    ['another TXT', '"v=spf1 -all"', undefined],
    ['encrypted (unreadable)', '"0Mi9QXS8Tz1tGb6kK0tRw3c="', undefined],
  ])('%s', (_what, text, want) => {
    const labels = parseExternalDnsLabels(text);
    expect(labels === undefined ? undefined : Object.fromEntries(labels)).toEqual(want);
  });
});

describe('externalDnsClaim', () => {
  const a: Endpoint = { name: 'app.example.com', type: 'A', targets: ['192.0.2.1'], ttl: 300 };

  it('reads both formats, the new one first, as external-dns does', () => {
    const claim = externalDnsClaim(
      a,
      reg(),
      zone(txt('a-app.example.com', value('default')), txt('app.example.com', value('default'))),
    );
    expect(claim?.owner).toBe('default');
    expect(claim?.txts.map((t) => [t.txt.name, t.format])).toEqual([
      ['a-app.example.com', 'new'],
      ['app.example.com', 'legacy'],
    ]);
  });

  it('the new format wins when the two disagree; the other TXT is not the owner’s', () => {
    const claim = externalDnsClaim(
      a,
      reg(),
      zone(txt('a-app.example.com', value('team-b')), txt('app.example.com', value('default'))),
    );
    expect(claim?.owner).toBe('team-b');
    expect(claim?.txts.map((t) => t.txt.name)).toEqual(['a-app.example.com']);
  });

  it('a legacy TXT alone is a claim (external-dns before v0.18)', () => {
    expect(
      externalDnsClaim(a, reg('extdns-'), zone(txt('extdns-app.example.com', value('default'))))
        ?.owner,
    ).toBe('default');
  });

  it('an AAAA record is never claimed by a legacy TXT', () => {
    const aaaa: Endpoint = { ...a, type: 'AAAA', targets: ['2001:db8::1'] };
    expect(externalDnsClaim(aaaa, reg(), zone(txt('app.example.com', value('default'))))).toBe(
      undefined,
    );
  });

  it('a Route 53 alias A is claimed by its pre-#2903 "cname-" TXT', () => {
    const alias: Endpoint = {
      name: 'lb.example.com',
      type: 'A',
      targets: ['my-lb.us-east-1.elb.amazonaws.com'],
      ttl: 300,
      providerSpecific: { alias: true, aliasHostedZoneId: 'Z35SXDOTRQ7X7K' },
    };
    const lookup = zone(txt('cname-lb.example.com', value('default')));
    expect(externalDnsClaim(alias, reg(), lookup)?.txts.map((t) => t.txt.name)).toEqual([
      'cname-lb.example.com',
    ]);
    expect(externalDnsClaim({ ...alias, providerSpecific: {} }, reg(), lookup)).toBeUndefined();
  });

  it('a TXT without external-dns heritage, or of another prefix, is no claim', () => {
    expect(externalDnsClaim(a, reg(), zone(txt('app.example.com', '"v=spf1 -all"')))).toBe(
      undefined,
    );
    expect(externalDnsClaim(a, reg('x-'), zone(txt('a-app.example.com', value('default'))))).toBe(
      undefined,
    );
  });
});

describe('removalOf', () => {
  it('deletes a TXT record set that only holds the owner’s value, in the record’s batch', () => {
    const t = txt('a-app.example.com', value('default'));
    expect(removalOf(t, 'default', 'app.example.com/A')).toEqual({
      delete: { ...t, ownerOf: 'app.example.com/A' },
    });
  });

  it('keeps the other strings of a shared TXT record set (an SPF at the apex)', () => {
    const t = txt('example.com', '"v=spf1 -all"', value('default'));
    const change = removalOf(t, 'default', 'example.com/A');
    expect(change.delete).toBeUndefined();
    expect(change.update?.[1]).toEqual({
      ...t,
      targets: ['"v=spf1 -all"'],
      ownerOf: 'example.com/A',
    });
  });
});
