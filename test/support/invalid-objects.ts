/**
 * One table of DNSPolicy and DNSProbe objects, run through both validators: `dnsop plan`'s
 * (operator/api/validation.ts, a unit test) and the real API server's (an integration test,
 * `kubectl apply`'s strict field validation). Both must reject the same objects at the same
 * fields, and accept the valid ones.
 */
type Obj = Record<string, unknown>;

export const validPolicy = (spec: Obj = {}): Obj => ({
  apiVersion: 'dnsop.io/v1alpha1',
  kind: 'DNSPolicy',
  metadata: { name: 'p', namespace: 'shop' },
  spec: {
    sources: [{ kind: 'Service' }],
    domains: ['example.com'],
    provider: { inMemory: {} },
    ...spec,
  },
});

export const validProbe = (spec: Obj = {}): Obj => ({
  apiVersion: 'dnsop.io/v1alpha1',
  kind: 'DNSProbe',
  metadata: { name: 'p', namespace: 'shop' },
  spec: {
    server: { serviceRef: { name: 'kube-dns' } },
    queries: [{ name: 'kubernetes.default.svc.cluster.local' }],
    ...spec,
  },
});

export interface ValidationCase {
  readonly name: string;
  readonly object: Obj;
  /** The fields at fault; empty for a valid object. */
  readonly fields: readonly string[];
  /** For rules: the message both must give. */
  readonly message?: RegExp;
}

export const VALIDATION_CASES: readonly ValidationCase[] = [
  { name: 'minimal DNSPolicy', object: validPolicy(), fields: [] },
  { name: 'minimal DNSProbe', object: validProbe(), fields: [] },
  {
    name: 'DNSPolicy with every field set',
    object: validPolicy({
      sources: [{ kind: 'Service', selector: { matchLabels: { expose: 'public' } } }],
      excludeDomains: ['internal.example.com'],
      provider: { route53: { region: 'eu-west-1', aliasMode: 'Never', zoneType: 'public' } },
      policy: 'UpsertOnly',
      ttl: 60,
      ownerId: 'shop/public',
      interval: '5m',
      maxDeletePercent: 20,
      dryRun: true,
    }),
    fields: [],
  },
  {
    name: 'DNSPolicy interval abc',
    object: validPolicy({ interval: 'abc' }),
    fields: ['spec.interval'],
  },
  {
    name: 'DNSPolicy interval 0s',
    object: validPolicy({ interval: '0s' }),
    fields: ['spec.interval'],
    message: /must be at least 10s/,
  },
  {
    name: 'DNSPolicy interval 1s',
    object: validPolicy({ interval: '1s' }),
    fields: ['spec.interval'],
    message: /must be at least 10s/,
  },
  {
    name: 'DNSPolicy with a misspelt field (regoin)',
    object: validPolicy({ provider: { route53: { regoin: 'us-east-1' } } }),
    fields: ['spec.provider.route53.regoin'],
  },
  {
    name: 'DNSPolicy with an unknown spec field',
    object: validPolicy({ domain: ['example.com'] }),
    fields: ['spec.domain'],
  },
  {
    name: 'DNSPolicy with an upper-case domain',
    object: validPolicy({ domains: ['Example.COM'] }),
    fields: ['spec.domains[0]'],
  },
  {
    name: 'DNSPolicy with two providers',
    object: validPolicy({ provider: { inMemory: {}, route53: {} } }),
    fields: ['spec.provider'],
    message: /^provider must set exactly one of route53, cloudDNS, inMemory$/,
  },
  {
    name: 'DNSPolicy with no provider',
    object: validPolicy({ provider: {} }),
    fields: ['spec.provider'],
    message: /^provider must set exactly one of route53, cloudDNS, inMemory$/,
  },
  { name: 'DNSPolicy with negative ttl', object: validPolicy({ ttl: -5 }), fields: ['spec.ttl'] },
  {
    name: 'DNSPolicy with maxDeletePercent 150',
    object: validPolicy({ maxDeletePercent: 150 }),
    fields: ['spec.maxDeletePercent'],
  },
  {
    name: 'DNSPolicy with ingressClassNames on a Service source',
    object: validPolicy({ sources: [{ kind: 'Service', ingressClassNames: ['nginx'] }] }),
    fields: ['spec.sources[0]'],
    message: /ingressClassNames applies to kind Ingress only/,
  },
  {
    name: 'DNSPolicy adopting with both txtPrefix and txtSuffix',
    object: validPolicy({
      adopt: { externalDNS: { ownerId: 'default', txtPrefix: 'a-', txtSuffix: '-b' } },
    }),
    fields: ['spec.adopt.externalDNS'],
    message: /txtPrefix and txtSuffix are mutually exclusive/,
  },
  {
    name: 'DNSPolicy with two faults (interval and ttl) reports both',
    object: validPolicy({ interval: 'soon', ttl: 0 }),
    fields: ['spec.interval', 'spec.ttl'],
  },
  {
    name: 'DNSProbe interval 0ms',
    object: validProbe({ interval: '0ms', timeout: '0ms' }),
    fields: ['spec.interval', 'spec.timeout'],
  },
  {
    name: 'DNSProbe timeout 10s with interval 100ms',
    object: validProbe({ interval: '100ms', timeout: '10s' }),
    fields: ['spec.timeout'],
    message: /timeout must not be longer than interval/,
  },
  {
    name: 'DNSProbe timeout 0s',
    object: validProbe({ timeout: '0s' }),
    fields: ['spec.timeout'],
    message: /must be greater than 0 and at most 30s/,
  },
  {
    name: 'DNSProbe timeout 1m with interval 5m',
    object: validProbe({ interval: '5m', timeout: '1m' }),
    fields: ['spec.timeout'],
    message: /must be greater than 0 and at most 30s/,
  },
  {
    name: 'DNSProbe rttWindow 0s',
    object: validProbe({ thresholds: { rttWindow: '0s' } }),
    fields: ['spec.thresholds.rttWindow'],
    message: /must be greater than 0/,
  },
  {
    name: 'DNSProbe with serviceRef and addresses',
    object: validProbe({ server: { serviceRef: { name: 'kube-dns' }, addresses: ['10.0.0.10'] } }),
    fields: ['spec.server'],
    message: /server must set exactly one of serviceRef or addresses/,
  },
  {
    name: 'DNSProbe with remediation mode Kill',
    object: validProbe({ remediation: { mode: 'Kill' } }),
    fields: ['spec.remediation.mode'],
  },
  {
    name: 'DNSProbe with nxdomainRatio 2',
    object: validProbe({ thresholds: { nxdomainRatio: 2 } }),
    fields: ['spec.thresholds.nxdomainRatio'],
  },
];
