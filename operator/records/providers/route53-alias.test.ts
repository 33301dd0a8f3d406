import fc from 'fast-check';
import type { Endpoint } from '../endpoint';
import { ALIAS_DIAGNOSTICS, ALIAS_RECORD_TTL, shapeForRoute53 } from './route53-alias';

const base = { name: 'app.example.com', ttl: 300, source: 'Service/shop/app' };

function ep(type: Endpoint['type'], targets: string[], alias?: boolean): Endpoint {
  return {
    ...base,
    type,
    targets,
    ...(alias === undefined ? {} : { providerSpecific: { alias } }),
  };
}

describe('shapeForRoute53', () => {
  it.each([
    ['GKE load balancer IP (seed 004)', ep('A', ['34.120.10.1'])],
    ['IP with alias annotation', ep('A', ['34.120.10.1'], true)],
    ['IPv6 target', ep('AAAA', ['2001:db8::1'], true)],
  ])('publishes %s as a plain address record, never an alias', (_label, input) => {
    const { endpoints } = shapeForRoute53([input], 'Auto');
    expect(endpoints).toHaveLength(1);
    expect(endpoints[0]!.providerSpecific?.alias).not.toBe(true);
    expect(endpoints[0]!.providerSpecific?.aliasHostedZoneId).toBeUndefined();
    expect(endpoints[0]!.targets).toEqual(input.targets);
    expect(endpoints[0]!.ttl).toBe(300);
  });

  it('tells the user when an annotation asked for an alias on an IP', () => {
    const { diagnostics } = shapeForRoute53([ep('A', ['203.0.113.7'], true)], 'Auto');
    expect(diagnostics).toEqual([
      expect.objectContaining({ object: 'Service/shop/app', reason: ALIAS_DIAGNOSTICS.ipTarget }),
    ]);
  });

  it.each([
    ['ALB us-east-1', 'my-lb-1234.us-east-1.elb.amazonaws.com', 'Z35SXDOTRQ7X7K', true],
    ['NLB eu-west-1', 'net-lb-42.elb.eu-west-1.amazonaws.com', 'Z2IFOLAFXWLO4F', true],
    ['CloudFront', 'd111111abcdef8.cloudfront.net', 'Z2FDTNDATAQYW2', false],
    ['Global Accelerator', 'a1234567890abcdef.awsglobalaccelerator.com', 'Z2BJ6XQ5FK7U4H', false],
    [
      'API Gateway regional',
      'd-abc123.execute-api.us-west-2.amazonaws.com',
      'Z2OJLYMUO9EFXC',
      false,
    ],
    [
      'VPC endpoint',
      'vpce-01-abc.vpce-svc-02.us-east-1.vpce.amazonaws.com',
      'Z7HUB22UULQXV',
      false,
    ],
  ])('makes %s an alias A and AAAA to its canonical zone', (_label, host, zone, health) => {
    const { endpoints, diagnostics } = shapeForRoute53([ep('CNAME', [host])], 'Auto');
    expect(diagnostics).toEqual([]);
    const alias = {
      ...base,
      targets: [host],
      ttl: ALIAS_RECORD_TTL,
      providerSpecific: { alias: true, aliasHostedZoneId: zone, evaluateTargetHealth: health },
    };
    expect(endpoints).toEqual([
      { ...alias, type: 'A' },
      { ...alias, type: 'AAAA' },
    ]);
  });

  it('aliases an S3 website bucket to the regional website endpoint', () => {
    const { endpoints } = shapeForRoute53(
      [ep('CNAME', ['app.example.com.s3-website-us-east-1.amazonaws.com'])],
      'Auto',
    );
    expect(endpoints).toEqual([
      expect.objectContaining({
        type: 'A',
        targets: ['s3-website-us-east-1.amazonaws.com'],
        providerSpecific: expect.objectContaining({ aliasHostedZoneId: 'Z3AQBSTGFYJSTF' }),
      }),
    ]);
  });

  it('an AAAA endpoint stays one AAAA alias', () => {
    const host = 'my-lb-1.us-east-2.elb.amazonaws.com';
    const { endpoints } = shapeForRoute53([ep('AAAA', [host])], 'Auto');
    expect(endpoints.map((e) => e.type)).toEqual(['AAAA']);
  });

  it('adds an AAAA alias for a dualstack load balancer name', () => {
    const host = 'dualstack.my-lb-1.us-east-2.elb.amazonaws.com';
    const { endpoints } = shapeForRoute53([ep('CNAME', [host])], 'Auto');
    expect(endpoints.map((e) => e.type)).toEqual(['A', 'AAAA']);
    expect(endpoints.every((e) => e.providerSpecific?.aliasHostedZoneId === 'Z3AADJGX6KTTL2')).toBe(
      true,
    );
  });

  it.each([
    ['a non-AWS hostname', ep('CNAME', ['lb.example.net']), 'Auto'],
    [
      'an AWS-looking name in an unknown region',
      ep('CNAME', ['x.mars-north-1.elb.amazonaws.com']),
      'Auto',
    ],
    ['an ELB with aliasMode Never', ep('CNAME', ['my-lb.us-east-1.elb.amazonaws.com']), 'Never'],
    [
      'an ELB with dnsop.io/alias "false"',
      ep('CNAME', ['my-lb.us-east-1.elb.amazonaws.com'], false),
      'Auto',
    ],
  ] as const)('publishes %s as a CNAME', (_label, input, mode) => {
    const { endpoints } = shapeForRoute53([input], mode);
    expect(endpoints).toEqual([{ ...base, type: 'CNAME', targets: input.targets }]);
  });

  it('explains why an alias asked for on a non-AWS hostname became a CNAME', () => {
    const { diagnostics } = shapeForRoute53([ep('CNAME', ['lb.example.net'], true)], 'Auto');
    expect(diagnostics.map((d) => d.reason)).toEqual([ALIAS_DIAGNOSTICS.notAws]);
  });

  it('moves the ownership TXT with a record that became an alias A', () => {
    const txt: Endpoint = {
      name: 'a-app.example.com',
      type: 'TXT',
      targets: ['"heritage=dnsop"'],
      ttl: 300,
      ownerOf: 'app.example.com/CNAME',
    };
    const { endpoints } = shapeForRoute53(
      [ep('CNAME', ['my-lb.us-east-1.elb.amazonaws.com']), txt],
      'Auto',
    );
    expect(endpoints.find((e) => e.type === 'TXT')?.ownerOf).toBe('app.example.com/A');
  });

  it('does not modify its input', () => {
    const input = [ep('CNAME', ['my-lb.us-east-1.elb.amazonaws.com'], true)];
    const snapshot = JSON.stringify(input);
    shapeForRoute53(input, 'Auto');
    expect(JSON.stringify(input)).toBe(snapshot);
  });

  it('never produces an alias for any IP target, whatever the mode or annotation', () => {
    const ipArb = fc.oneof(fc.ipV4(), fc.ipV6());
    fc.assert(
      fc.property(
        fc.array(ipArb, { minLength: 1, maxLength: 4 }),
        fc.constantFrom<Endpoint['type']>('A', 'AAAA', 'CNAME'),
        fc.option(fc.boolean(), { nil: undefined }),
        fc.constantFrom<'Auto' | 'Never'>('Auto', 'Never'),
        (ips, type, alias, mode) => {
          const { endpoints } = shapeForRoute53([ep(type, ips, alias)], mode);
          return endpoints.every(
            (e) => e.providerSpecific?.alias !== true && (e.type === 'A' || e.type === 'AAAA'),
          );
        },
      ),
    );
  });
});
