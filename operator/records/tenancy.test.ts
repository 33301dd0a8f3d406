import type { V1Namespace } from '@kubernetes/client-node';
import type { DNSPolicySpec } from '../api/types';
import { isPermanent } from '../runtime/errors';
import type { Endpoint } from './endpoint';
import { evaluatePolicy, planForPolicy } from './pipeline';
import { offlineCaches, sourceObjectsFrom } from './objects';
import { ownershipRecord } from './registry';
import {
  assertPolicyAllowed,
  grantedDomains,
  isLoopbackHost,
  policyRefusals,
  withinDomainGrants,
  withoutForeignNames,
  withoutReservedNames,
  type TenancyOptions,
} from './tenancy';
import { policy, service } from '../../test/support/records-fixtures';

const untrusted: TenancyOptions = { trustedNamespaces: new Set(['dnsop-system', 'kube-system']) };
const secret = { credentialsSecretRef: { name: 'aws' } };
const r53 = (extra: Record<string, unknown> = {}): DNSPolicySpec['provider'] => ({
  route53: { region: 'us-east-1', zoneType: 'any', aliasMode: 'Auto', ...secret, ...extra },
});

function refusals(
  spec: Partial<DNSPolicySpec>,
  namespace: string,
  options: TenancyOptions = untrusted,
): string[] {
  return policyRefusals(policy('p', spec, namespace), options).map((r) => `${r.reason} ${r.field}`);
}

describe('policyRefusals', () => {
  it.each<[string, Partial<DNSPolicySpec>, string, string[]]>([
    ['default ownerId', {}, 'b', []],
    ['ownerId in its own namespace', { ownerId: 'b/public' }, 'b', []],
    ['ownerId of another namespace', { ownerId: 'shop/public' }, 'b', ['Forbidden spec.ownerId']],
    [
      'ownerId of a namespace with the same prefix',
      { ownerId: 'b-team/x' },
      'b',
      ['Forbidden spec.ownerId'],
    ],
    ['ownerId with no namespace', { ownerId: 'default' }, 'b', ['Forbidden spec.ownerId']],
    [
      'ownerId "b/" with nothing after the slash',
      { ownerId: 'b/' },
      'b',
      ['Forbidden spec.ownerId'],
    ],
    ['any ownerId in a trusted namespace', { ownerId: 'default' }, 'dnsop-system', []],
    [
      'an ownerId smuggling a second owner',
      { ownerId: 'b/x,dnsop/owner=shop/public' },
      'b',
      ['InvalidSpec spec.ownerId'],
    ],
    [
      'an ownerId with a quote, even trusted',
      { ownerId: 'x"y' },
      'kube-system',
      ['InvalidSpec spec.ownerId'],
    ],
    [
      'an ownerId longer than 128',
      { ownerId: `b/${'x'.repeat(127)}` },
      'b',
      ['InvalidSpec spec.ownerId'],
    ],
    [
      'a provider endpoint outside trusted namespaces',
      { provider: r53({ endpoint: 'https://route53.example.net' }) },
      'b',
      ['Forbidden spec.provider.route53.endpoint'],
    ],
    [
      'a loopback endpoint outside trusted namespaces',
      { provider: r53({ endpoint: 'http://127.0.0.1:5000' }) },
      'b',
      ['Forbidden spec.provider.route53.endpoint'],
    ],
    [
      'https endpoint, trusted',
      { provider: r53({ endpoint: 'https://route53.example.net' }) },
      'kube-system',
      [],
    ],
    [
      'http loopback endpoint, trusted',
      { provider: r53({ endpoint: 'http://127.0.0.1:5000' }) },
      'kube-system',
      [],
    ],
    [
      'http endpoint on the network, trusted',
      { provider: r53({ endpoint: 'http://10.0.0.8:5000' }) },
      'kube-system',
      ['Forbidden spec.provider.route53.endpoint'],
    ],
    [
      'http endpoint whose userinfo says localhost',
      { provider: r53({ endpoint: 'http://localhost@evil.example:80' }) },
      'kube-system',
      ['Forbidden spec.provider.route53.endpoint'],
    ],
    [
      'http endpoint on a name that starts like loopback',
      { provider: r53({ endpoint: 'http://127.0.0.1.nip.io' }) },
      'kube-system',
      ['Forbidden spec.provider.route53.endpoint'],
    ],
    [
      'Cloud DNS endpoint outside trusted namespaces',
      { provider: { cloudDNS: { project: 'p-1234', ...secret, endpoint: 'https://x.example' } } },
      'b',
      ['Forbidden spec.provider.cloudDNS.endpoint'],
    ],
    [
      'ambient credentials outside trusted namespaces',
      { provider: { route53: { region: 'us-east-1', zoneType: 'any', aliasMode: 'Auto' } } },
      'b',
      ['Forbidden spec.provider.route53.credentialsSecretRef'],
    ],
    [
      'ambient credentials, trusted',
      { provider: { cloudDNS: { project: 'p-1234' } } },
      'dnsop-system',
      [],
    ],
    ['in-memory provider', { provider: { inMemory: {} } }, 'b', []],
    [
      'adoption outside trusted namespaces, grants off',
      { adopt: { externalDNS: { ownerId: 'default' } } },
      'b',
      ['Forbidden spec.adopt.externalDNS'],
    ],
    ['adoption, trusted', { adopt: { externalDNS: { ownerId: 'default' } } }, 'kube-system', []],
  ])('%s', (_name, spec, namespace, expected) => {
    expect(refusals(spec, namespace)).toEqual(expected);
  });

  it('adoption outside trusted namespaces is allowed when domain grants confine it', () => {
    const spec = { adopt: { externalDNS: { ownerId: 'default' } } };
    expect(refusals(spec, 'b', { ...untrusted, requireDomainGrants: true })).toEqual([]);
  });

  it('Secrets outside --secret-namespaces are refused, naming the flag', () => {
    const options = { ...untrusted, secretNamespaces: new Set(['shop']) };
    expect(refusals({ provider: r53() }, 'shop', options)).toEqual([]);
    const refused = policyRefusals(policy('p', { provider: r53() }, 'b'), options);
    expect(refused.map((r) => r.field)).toEqual(['spec.provider.route53.credentialsSecretRef']);
    expect(refused[0]?.message).toContain('--secret-namespaces');
  });

  it('each message names the field and the flag that would allow it', () => {
    const [ownerId] = policyRefusals(policy('p', { ownerId: 'shop/public' }, 'b'), untrusted);
    expect(ownerId?.message).toMatch(/^spec\.ownerId "shop\/public".*"b\/".*--trusted-namespaces/);
    const [endpoint] = policyRefusals(
      policy('p', { provider: r53({ endpoint: 'https://x.example' }) }, 'b'),
      untrusted,
    );
    expect(endpoint?.message).toMatch(/^spec\.provider\.route53\.endpoint: .*--trusted-namespaces/);
  });

  it('assertPolicyAllowed throws a permanent Forbidden error listing every refusal', () => {
    const p = policy(
      'p',
      { ownerId: 'shop/public', provider: r53({ endpoint: 'https://x.example' }) },
      'b',
    );
    let thrown: unknown;
    try {
      assertPolicyAllowed(p, untrusted);
    } catch (err) {
      thrown = err;
    }
    expect(isPermanent(thrown) && thrown.reason).toBe('Forbidden');
    expect(String((thrown as Error).message)).toMatch(/spec\.ownerId.*; spec\.provider/);
    expect(() => assertPolicyAllowed(policy('p', {}, 'b'), untrusted)).not.toThrow();
  });
});

describe('isLoopbackHost', () => {
  it.each([
    ['localhost', true],
    ['127.0.0.1', true],
    ['127.8.9.10', true],
    ['[::1]', true],
    ['::1', true],
    ['[0:0:0:0:0:0:0:1]', true],
    ['10.0.0.1', false],
    ['0.0.0.0', false],
    ['127.0.0.1.nip.io', false],
    ['localhost.example.com', false],
    ['[::2]', false],
  ])('%s -> %s', (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected);
  });
});

const ep = (name: string, type: Endpoint['type'] = 'A', targets = ['192.0.2.1']): Endpoint => ({
  name,
  type,
  targets,
  ttl: 300,
  source: 'DNSEndpoint/b/e',
});

describe('withoutReservedNames', () => {
  it.each<[string, Endpoint, string | undefined]>([
    ['a plain record', ep('app.example.com'), undefined],
    ['a TXT record', ep('app.example.com', 'TXT', ['"v=spf1 -all"']), undefined],
    ['an _acme-challenge TXT', ep('_acme-challenge.app.example.com', 'TXT', ['"x"']), undefined],
    ['an ownership TXT name', ep('_dnsop-a.app.shop.example.com', 'TXT', ['"x"']), 'ReservedName'],
    [
      'a wildcard ownership name',
      ep('_dnsop-a-wildcard.example.com', 'TXT', ['"x"']),
      'ReservedName',
    ],
    ['an A at a registry label', ep('_dnsop-cname.app.example.com'), 'ReservedName'],
    [
      'a forged dnsop ownership value',
      ep('x.example.com', 'TXT', ['"heritage=dnsop,dnsop/owner=b/x"']),
      'ReservedName',
    ],
    [
      'a forged external-dns ownership value (adoption)',
      ep('a-app.example.com', 'TXT', ['"heritage=external-dns,external-dns/owner=default"']),
      'ReservedName',
    ],
  ])('%s', (_name, endpoint, reason) => {
    const out = withoutReservedNames([endpoint]);
    expect(out.diagnostics.map((d) => d.reason)).toEqual(reason ? [reason] : []);
    expect(out.endpoints).toHaveLength(reason ? 0 : 1);
  });
});

const ns = (name: string, allowed?: string): V1Namespace => ({
  metadata: {
    name,
    ...(allowed !== undefined ? { annotations: { 'dnsop.io/allowed-domains': allowed } } : {}),
  },
});

describe('domain grants', () => {
  const on: TenancyOptions = { ...untrusted, requireDomainGrants: true };

  it('parses the annotation: comma separated, trimmed, lower-cased, invalid entries ignored', () => {
    expect(grantedDomains(ns('b', ' B.Example.com., c.example.com ,, *.x.com, bad_name'))).toEqual([
      'b.example.com',
      'c.example.com',
    ]);
    expect(grantedDomains(ns('b'))).toEqual([]);
    expect(grantedDomains(undefined)).toEqual([]);
  });

  it.each<[string, string, TenancyOptions, string | undefined, boolean]>([
    ['under a granted domain', 'app.b.example.com', on, 'b.example.com', true],
    ['the granted domain itself', 'b.example.com', on, 'b.example.com', true],
    ['a wildcard under it', '*.b.example.com', on, 'b.example.com', true],
    ["another tenant's domain", 'app.shop.example.com', on, 'b.example.com', false],
    ['a wildcard over the parent zone', '*.example.com', on, 'b.example.com', false],
    ['a name that only ends like the grant', 'xb.example.com', on, 'b.example.com', false],
    ['no annotation at all', 'app.b.example.com', on, undefined, false],
    ['grants not required', 'app.shop.example.com', untrusted, undefined, true],
  ])('%s', (_name, name, options, allowed, kept) => {
    const out = withinDomainGrants([ep(name)], 'b', [ns('b', allowed)], options);
    expect(out.endpoints).toHaveLength(kept ? 1 : 0);
    expect(out.diagnostics.map((d) => d.reason)).toEqual(kept ? [] : ['DomainNotGranted']);
  });

  it("names under a longer domain granted to another namespace are that namespace's", () => {
    const all = [ns('b', 'example.com'), ns('shop', 'shop.example.com'), ns('c', 'example.com')];
    const out = withinDomainGrants(
      [
        ep('new.shop.example.com'),
        ep('shop.example.com'),
        ep('x.example.com'),
        ep('x.c.example.com'),
      ],
      'b',
      all,
      on,
    );
    expect(out.endpoints.map((e) => e.name)).toEqual(['x.example.com', 'x.c.example.com']);
    expect(out.diagnostics.map((d) => d.message)).toEqual([
      expect.stringContaining('shop.example.com is granted to namespace "shop"'),
      expect.stringContaining('shop.example.com is granted to namespace "shop"'),
    ]);
    const theirs = withinDomainGrants([ep('new.shop.example.com')], 'shop', all, on);
    expect(theirs.endpoints).toHaveLength(1);
  });

  it('trusted namespaces need no grant', () => {
    const out = withinDomainGrants([ep('x.example.com')], 'kube-system', [], on);
    expect(out.endpoints).toHaveLength(1);
  });

  it('the diagnostic names the annotation and the flag', () => {
    const out = withinDomainGrants([ep('a.shop.example.com')], 'b', [ns('b', 'b.example.com')], on);
    expect(out.diagnostics[0]?.message).toMatch(
      /a\.shop\.example\.com .*"b" grants only b\.example\.com.*dnsop\.io\/allowed-domains.*--require-domain-grants/,
    );
  });
});

describe('withoutForeignNames', () => {
  const shopA = { ...ep('app.example.com'), source: 'Service/shop/app' };
  const current = [
    { name: 'app.example.com', type: 'A' as const, targets: ['192.0.2.7'], ttl: 300 },
    ownershipRecord(shopA, 'shop/public'),
  ];

  it.each<[string, Endpoint, boolean]>([
    ['an AAAA beside another namespace’s A', ep('app.example.com', 'AAAA', ['2001:db8::1']), false],
    ['a TXT beside it', ep('app.example.com', 'TXT', ['"hello"']), false],
    ['a CNAME at it', ep('app.example.com', 'CNAME', ['evil.example.net']), false],
    ['another name', ep('other.example.com'), true],
  ])('%s', (_name, endpoint, kept) => {
    const out = withoutForeignNames([endpoint], current, 'b');
    expect(out.endpoints).toHaveLength(kept ? 1 : 0);
    expect(out.diagnostics.map((d) => d.reason)).toEqual(kept ? [] : ['OwnedByAnotherOwner']);
  });

  it('names held by owners of the same namespace stay open', () => {
    expect(
      withoutForeignNames([ep('app.example.com', 'AAAA')], current, 'shop').endpoints,
    ).toHaveLength(1);
  });
});

describe('pipeline', () => {
  it('evaluatePolicy applies grants and reserved names; planForPolicy keeps untrusted policies off foreign names', () => {
    const caches = offlineCaches();
    caches.add({ ...ns('b', 'b.example.com'), apiVersion: 'v1', kind: 'Namespace' });
    for (const [name, host] of [
      ['ok', 'ok.b.example.com'],
      ['squat', 'squat.shop.example.com'],
      ['beside', 'app.b.example.com'],
    ] as const) {
      caches.add(service(name, { namespace: 'b', hostname: host, clusterIP: '10.0.0.9' }));
    }
    const p = policy('p', { sources: [{ kind: 'Service' }], publishInternalServices: true }, 'b');
    const options: TenancyOptions = { ...untrusted, requireDomainGrants: true };
    const evaluation = evaluatePolicy(p, sourceObjectsFrom(caches), options);
    expect(evaluation.desired.map((e) => e.name).sort()).toEqual([
      'app.b.example.com',
      'ok.b.example.com',
    ]);
    expect(evaluation.diagnostics.map((d) => `${d.object} ${d.reason}`)).toContain(
      'Service/b/squat DomainNotGranted',
    );
    const foreign = { ...ep('app.b.example.com', 'AAAA'), source: 'Service/shop/x' };
    const current = [
      { name: foreign.name, type: 'AAAA' as const, targets: ['2001:db8::1'], ttl: 300 },
      ownershipRecord(foreign, 'shop/public'),
    ];
    const plan = planForPolicy(p, evaluation, current, true);
    expect(plan.changes.create.filter((e) => e.type !== 'TXT').map((e) => e.name)).toEqual([
      'ok.b.example.com',
    ]);
    expect(plan.diagnostics.map((d) => `${d.object} ${d.reason}`)).toContain(
      'Service/b/beside OwnedByAnotherOwner',
    );
    const trusted = evaluatePolicy(p, sourceObjectsFrom(caches), {
      trustedNamespaces: new Set(['b']),
      requireDomainGrants: true,
    });
    expect(trusted.confinedTo).toBeUndefined();
    expect(trusted.desired).toHaveLength(3);
  });
});
