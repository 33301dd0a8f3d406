import { pod } from '../../../test/support/records-fixtures';
import { DEFAULT_SOURCE_CONTEXT } from './context';
import { podEndpoints } from './pod';

const ctx = DEFAULT_SOURCE_CONTEXT;

describe('podEndpoints', () => {
  it.each([
    [
      'IPv4 pod -> A',
      pod('p', { annotations: { 'dnsop.io/hostname': 'p.example.com' }, ip: '10.1.0.1' }),
      [['p.example.com', 'A', ['10.1.0.1']]],
    ],
    [
      'dual-stack pod -> A + AAAA',
      pod('p', {
        annotations: { 'dnsop.io/hostname': 'p.example.com' },
        ips: ['10.1.0.1', 'fd00::1'],
      }),
      [
        ['p.example.com', 'A', ['10.1.0.1']],
        ['p.example.com', 'AAAA', ['fd00::1']],
      ],
    ],
    ['no annotation -> nothing', pod('p', { ip: '10.1.0.1' }), []],
    [
      'finished pod -> nothing',
      pod('p', {
        annotations: { 'dnsop.io/hostname': 'p.example.com' },
        ip: '10.1.0.1',
        phase: 'Failed',
      }),
      [],
    ],
    [
      'terminating pod -> nothing',
      pod('p', {
        annotations: { 'dnsop.io/hostname': 'p.example.com' },
        ip: '10.1.0.1',
        terminating: true,
      }),
      [],
    ],
  ])('%s', (_name, p, expected) => {
    expect(podEndpoints(p, ctx).endpoints.map((e) => [e.name, e.type, e.targets])).toEqual(
      expected,
    );
  });

  it('reports a pod without an IP yet', () => {
    const result = podEndpoints(
      pod('p', { annotations: { 'dnsop.io/hostname': 'p.example.com' } }),
      ctx,
    );
    expect(result.endpoints).toEqual([]);
    expect(result.diagnostics).toEqual([
      expect.objectContaining({ object: 'Pod/shop/p', reason: 'NoTargets' }),
    ]);
  });

  it.each([['external-dns.alpha.kubernetes.io/'], ['external-dns.kubernetes.io/'], ['dnsop.io/']])(
    'reads hostname, internal-hostname, ttl and target under %s',
    (prefix) => {
      const p = pod('p', {
        ip: '10.1.0.1',
        annotations: {
          [`${prefix}hostname`]: 'p.example.com',
          [`${prefix}internal-hostname`]: 'p.internal.example.com',
          [`${prefix}ttl`]: '60',
        },
      });
      expect(podEndpoints(p, ctx).endpoints.map((e) => [e.name, e.targets, e.ttl])).toEqual([
        ['p.example.com', ['10.1.0.1'], 60],
        ['p.internal.example.com', ['10.1.0.1'], 60],
      ]);
      const targeted = pod('p', {
        ip: '10.1.0.1',
        annotations: { [`${prefix}hostname`]: 'p.example.com', [`${prefix}target`]: '192.0.2.1' },
      });
      expect(podEndpoints(targeted, ctx).endpoints[0]?.targets).toEqual(['192.0.2.1']);
    },
  );

  it.each([
    ['dnsop', {}, 1],
    ['dns-controller', {}, 0],
    ['dns-controller', { controllers: new Set(['dns-controller']) }, 1],
    ['other', { controllers: new Set(['dns-controller']) }, 0],
  ])('controller annotation %s (extra context %j) -> %i records', (value, extra, count) => {
    const p = pod('p', {
      ip: '10.1.0.1',
      annotations: {
        'dnsop.io/hostname': 'p.example.com',
        'external-dns.alpha.kubernetes.io/controller': value,
      },
    });
    const result = podEndpoints(p, { ...ctx, ...extra });
    expect(result.endpoints).toHaveLength(count);
    if (count === 0) {
      expect(result.diagnostics).toEqual([
        expect.objectContaining({ object: 'Pod/shop/p', reason: 'OtherController' }),
      ]);
    }
  });
});
