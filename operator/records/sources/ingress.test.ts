import { ingress } from '../../../test/support/records-fixtures';
import { DEFAULT_SOURCE_CONTEXT } from './context';
import { ingressClassOf, ingressEndpoints, sourceAdmitsIngressClass } from './ingress';

const ctx = DEFAULT_SOURCE_CONTEXT;
const records = (r: ReturnType<typeof ingressEndpoints>): unknown[] =>
  r.endpoints.map((e) => [e.name, e.type, e.targets]);

describe('ingressEndpoints', () => {
  it.each([
    [
      'rule host, load balancer IP -> A (seeds/004: a GKE Ingress)',
      ingress('web', { hosts: ['web.example.com'], lb: [{ ip: '34.120.1.2' }] }),
      [['web.example.com', 'A', ['34.120.1.2']]],
    ],
    [
      'load balancer IPv6 -> AAAA',
      ingress('web', { hosts: ['web.example.com'], lb: [{ ip: '2001:db8::5' }] }),
      [['web.example.com', 'AAAA', ['2001:db8::5']]],
    ],
    [
      'load balancer hostname -> CNAME',
      ingress('web', { hosts: ['web.example.com'], lb: [{ hostname: 'a.elb.amazonaws.com' }] }),
      [['web.example.com', 'CNAME', ['a.elb.amazonaws.com']]],
    ],
    [
      'two IPv4, two IPv6 -> one A and one AAAA set',
      ingress('web', {
        hosts: ['web.example.com'],
        lb: [{ ip: '1.1.1.1' }, { ip: '2001:db8::1' }, { ip: '1.1.1.2' }, { ip: '2001:db8::2' }],
      }),
      [
        ['web.example.com', 'A', ['1.1.1.1', '1.1.1.2']],
        ['web.example.com', 'AAAA', ['2001:db8::1', '2001:db8::2']],
      ],
    ],
    [
      'several rules, TLS hosts and the hostname annotation, each once',
      ingress('web', {
        hosts: ['a.example.com', 'B.example.com', ''],
        tlsHosts: ['*.example.com', 'a.example.com'],
        annotations: { 'external-dns.alpha.kubernetes.io/hostname': 'c.example.com' },
      }),
      [
        ['a.example.com', 'A', ['203.0.113.30']],
        ['b.example.com', 'A', ['203.0.113.30']],
        ['*.example.com', 'A', ['203.0.113.30']],
        ['c.example.com', 'A', ['203.0.113.30']],
      ],
    ],
    [
      'the target annotation replaces the status',
      ingress('web', {
        hosts: ['web.example.com'],
        annotations: { 'external-dns.alpha.kubernetes.io/target': 'edge.example.net' },
      }),
      [['web.example.com', 'CNAME', ['edge.example.net']]],
    ],
  ])('%s', (_name, ing, expected) => {
    expect(records(ingressEndpoints(ing, ctx))).toEqual(expected);
  });

  it('a ttl annotation and the alias wish travel with the records', () => {
    const ing = ingress('web', {
      annotations: {
        'external-dns.alpha.kubernetes.io/ttl': '60',
        'external-dns.alpha.kubernetes.io/alias': 'true',
      },
    });
    expect(ingressEndpoints(ing, ctx).endpoints).toEqual([
      expect.objectContaining({ ttl: 60, providerSpecific: { alias: true } }),
    ]);
  });

  it.each([
    ['NoHostname', ingress('web', { hosts: [] })],
    ['NoLoadBalancerAddress', ingress('web', { lb: [] })],
    [
      'OtherController',
      ingress('web', { annotations: { 'external-dns.alpha.kubernetes.io/controller': 'x' } }),
    ],
  ])('explains why there is no record: %s', (reason, ing) => {
    const result = ingressEndpoints(ing, ctx);
    expect(result.endpoints).toEqual([]);
    expect(result.diagnostics).toEqual([
      expect.objectContaining({ object: 'Ingress/shop/web', reason }),
    ]);
  });

  it('skips an invalid host with a diagnostic and publishes the others', () => {
    const result = ingressEndpoints(ingress('web', { hosts: ['ok.example.com', 'no_t.ok'] }), ctx);
    expect(records(result)).toEqual([['ok.example.com', 'A', ['203.0.113.30']]]);
    expect(result.diagnostics.map((d) => d.reason)).toEqual(['InvalidHostname']);
  });
});

describe('ingressClassNames', () => {
  it.each<[string, ReturnType<typeof ingress>, string[] | undefined, boolean]>([
    ['no list admits every class', ingress('a', { className: 'nginx' }), undefined, true],
    [
      'a listed spec.ingressClassName',
      ingress('a', { className: 'nginx' }),
      ['gce', 'nginx'],
      true,
    ],
    ['an unlisted class', ingress('a', { className: 'alb' }), ['nginx'], false],
    ['no class at all', ingress('a'), ['nginx'], false],
    [
      'the legacy kubernetes.io/ingress.class annotation',
      ingress('a', { annotations: { 'kubernetes.io/ingress.class': 'nginx' } }),
      ['nginx'],
      true,
    ],
  ])('%s', (_name, ing, names, admitted) => {
    const source = { kind: 'Ingress' as const, ...(names ? { ingressClassNames: names } : {}) };
    expect(sourceAdmitsIngressClass(source, ing)).toBe(admitted);
  });

  it('spec.ingressClassName wins over the legacy annotation', () => {
    const ing = ingress('a', {
      className: 'gce',
      annotations: { 'kubernetes.io/ingress.class': 'nginx' },
    });
    expect(ingressClassOf(ing)).toBe('gce');
  });
});
