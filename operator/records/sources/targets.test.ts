import { buildEndpoints, canonicalIPv6 } from './targets';

const base = { object: 'Service/shop/app', names: ['app.example.com'], ttl: 60 };

describe('buildEndpoints', () => {
  it.each([
    ['IPv4 -> A', ['10.0.0.2', '10.0.0.1'], [['A', ['10.0.0.1', '10.0.0.2']]]],
    ['IPv6 -> AAAA, canonical', ['2001:DB8:0::1'], [['AAAA', ['2001:db8::1']]]],
    [
      'dual stack -> A and AAAA',
      ['10.0.0.1', '2001:db8::1'],
      [
        ['A', ['10.0.0.1']],
        ['AAAA', ['2001:db8::1']],
      ],
    ],
    ['hostname -> CNAME', ['LB.Example.NET.'], [['CNAME', ['lb.example.net']]]],
    ['duplicates collapse', ['10.0.0.1', '10.0.0.1'], [['A', ['10.0.0.1']]]],
  ])('%s', (_name, targets, expected) => {
    const { endpoints, diagnostics } = buildEndpoints({ ...base, targets });
    expect(endpoints.map((e) => [e.type, e.targets])).toEqual(expected);
    expect(
      endpoints.every(
        (e) => e.name === 'app.example.com' && e.ttl === 60 && e.source === 'Service/shop/app',
      ),
    ).toBe(true);
    expect(diagnostics).toEqual([]);
  });

  it('skips an invalid hostname with a diagnostic and keeps the valid ones', () => {
    const { endpoints, diagnostics } = buildEndpoints({
      ...base,
      names: ['ok.example.com', 'bad_name.example.com', `${'x'.repeat(64)}.example.com`],
      targets: ['10.0.0.1'],
    });
    expect(endpoints.map((e) => e.name)).toEqual(['ok.example.com']);
    expect(diagnostics.map((d) => d.reason)).toEqual(['InvalidHostname', 'InvalidHostname']);
    expect(diagnostics[0]?.message).toContain('bad_name.example.com');
  });

  it('publishes IPs and ignores hostnames when both are targets', () => {
    const { endpoints, diagnostics } = buildEndpoints({
      ...base,
      targets: ['10.0.0.1', 'lb.example.net'],
    });
    expect(endpoints.map((e) => e.type)).toEqual(['A']);
    expect(diagnostics.map((d) => d.reason)).toEqual(['MixedTargets']);
  });

  it('uses one CNAME target and reports the rest', () => {
    const { endpoints, diagnostics } = buildEndpoints({
      ...base,
      targets: ['b.example.net', 'a.example.net'],
    });
    expect(endpoints).toEqual([
      expect.objectContaining({ type: 'CNAME', targets: ['a.example.net'] }),
    ]);
    expect(diagnostics.map((d) => d.reason)).toEqual(['MultipleCNAMETargets']);
  });

  it('rejects a target that is neither an IP nor a hostname', () => {
    const { endpoints, diagnostics } = buildEndpoints({ ...base, targets: ['not a host'] });
    expect(endpoints).toEqual([]);
    expect(diagnostics.map((d) => d.reason)).toEqual(['InvalidTarget']);
  });

  it('marks records that must not be provider aliases', () => {
    const { endpoints } = buildEndpoints({ ...base, targets: ['lb.example.net'], alias: false });
    expect(endpoints[0]?.providerSpecific).toEqual({ alias: false });
  });
});

describe('canonicalIPv6', () => {
  it('compresses and lower-cases', () => {
    expect(canonicalIPv6('2001:0DB8:0000:0000:0000:0000:0000:0001')).toBe('2001:db8::1');
  });
});
