import { pod } from '../../../test/support/records-fixtures';
import { podEndpoints } from './pod';

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
    expect(podEndpoints(p, 300).endpoints.map((e) => [e.name, e.type, e.targets])).toEqual(
      expected,
    );
  });

  it('reports a pod without an IP yet', () => {
    const result = podEndpoints(
      pod('p', { annotations: { 'dnsop.io/hostname': 'p.example.com' } }),
      300,
    );
    expect(result.endpoints).toEqual([]);
    expect(result.diagnostics).toEqual([
      expect.objectContaining({ object: 'Pod/shop/p', reason: 'NoTargets' }),
    ]);
  });
});
