import { dnsEndpoint } from '../../../test/support/records-fixtures';
import { DEFAULT_SOURCE_CONTEXT } from './context';
import { dnsEndpointEndpoints, type DNSEndpointRecord } from './dnsendpoint';

const ctx = DEFAULT_SOURCE_CONTEXT;

describe('dnsEndpointEndpoints (external-dns DNSEndpoint CRD)', () => {
  it.each<[string, DNSEndpointRecord, unknown[]]>([
    [
      'A as written',
      { dnsName: 'a.example.com', recordType: 'A', targets: ['1.2.3.4', '1.2.3.5'] },
      [['a.example.com', 'A', ['1.2.3.4', '1.2.3.5'], 300]],
    ],
    [
      'AAAA canonicalised',
      { dnsName: 'a.example.com', recordType: 'AAAA', targets: ['2001:DB8::1'] },
      [['a.example.com', 'AAAA', ['2001:db8::1'], 300]],
    ],
    [
      'CNAME with a trailing dot, recordTTL',
      {
        dnsName: 'www.example.com.',
        recordType: 'CNAME',
        targets: ['a.example.net.'],
        recordTTL: 60,
      },
      [['www.example.com', 'CNAME', ['a.example.net'], 60]],
    ],
    [
      'TXT quoted as zone data writes it',
      { dnsName: 'txt.example.com', recordType: 'TXT', targets: ['v=spf1 -all', '"quoted"'] },
      [['txt.example.com', 'TXT', ['"quoted"', '"v=spf1 -all"'], 300]],
    ],
    [
      'SRV as written, with an underscore name',
      {
        dnsName: '_sip._tcp.example.com',
        recordType: 'SRV',
        targets: ['10 60 5060 sip.example.com.'],
      },
      [['_sip._tcp.example.com', 'SRV', ['10 60 5060 sip.example.com.'], 300]],
    ],
    [
      'no recordType: the type the targets call for',
      { dnsName: 'a.example.com', targets: ['2001:db8::1'] },
      [['a.example.com', 'AAAA', ['2001:db8::1'], 300]],
    ],
  ])('%s', (_name, record, expected) => {
    const result = dnsEndpointEndpoints(dnsEndpoint('e', [record]), ctx);
    expect(result.diagnostics).toEqual([]);
    expect(result.endpoints.map((e) => [e.name, e.type, e.targets, e.ttl])).toEqual(expected);
    expect(result.endpoints.every((e) => e.source === 'DNSEndpoint/shop/e')).toBe(true);
  });

  it.each<[string, DNSEndpointRecord, string]>([
    [
      'an A target with a trailing dot',
      { dnsName: 'a.example.com', recordType: 'A', targets: ['1.2.3.4.'] },
      'InvalidTarget',
    ],
    [
      'two CNAME targets',
      {
        dnsName: 'a.example.com',
        recordType: 'CNAME',
        targets: ['x.example.net', 'y.example.net'],
      },
      'InvalidTarget',
    ],
    [
      'a malformed SRV',
      { dnsName: '_x._tcp.example.com', recordType: 'SRV', targets: ['sip.example.com'] },
      'InvalidTarget',
    ],
    [
      'MX, which dnsop does not publish',
      { dnsName: 'example.com', recordType: 'MX', targets: ['10 mx.example.com'] },
      'UnsupportedRecordType',
    ],
    ['no targets', { dnsName: 'a.example.com', recordType: 'A', targets: [] }, 'NoTargets'],
    [
      'a routing policy (setIdentifier)',
      { dnsName: 'a.example.com', recordType: 'A', targets: ['1.2.3.4'], setIdentifier: 'eu' },
      'UnsupportedRecord',
    ],
    [
      'an invalid name',
      { dnsName: 'bad..example.com', recordType: 'A', targets: ['1.2.3.4'] },
      'InvalidHostname',
    ],
  ])('skips %s with a diagnostic, publishing the other entries', (_name, record, reason) => {
    const ok: DNSEndpointRecord = {
      dnsName: 'ok.example.com',
      recordType: 'A',
      targets: ['1.2.3.4'],
    };
    const result = dnsEndpointEndpoints(dnsEndpoint('e', [record, ok]), ctx);
    expect(result.endpoints.map((e) => e.name)).toEqual(['ok.example.com']);
    expect(result.diagnostics).toEqual([
      expect.objectContaining({ object: 'DNSEndpoint/shop/e', reason }),
    ]);
  });

  it('passes the alias provider-specific property on', () => {
    const result = dnsEndpointEndpoints(
      dnsEndpoint('e', [
        {
          dnsName: 'a.example.com',
          recordType: 'CNAME',
          targets: ['lb-1.us-east-1.elb.amazonaws.com'],
          providerSpecific: [{ name: 'alias', value: 'true' }],
        },
      ]),
      ctx,
    );
    expect(result.endpoints[0]?.providerSpecific).toEqual({ alias: true });
  });
});
