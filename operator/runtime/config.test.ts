import { buildConfig, ConfigError, parseListenAddress } from './config';

describe('buildConfig', () => {
  it('applies documented defaults', () => {
    const c = buildConfig({}, { POD_NAMESPACE: 'dnsop-system', POD_NAME: 'dnsop-abc' });
    expect(c).toMatchObject({
      namespace: '',
      trustedNamespaces: ['dnsop-system', 'kube-system'],
      requireDomainGrants: false,
      probeClusterMaxQps: 2000,
      metricsHost: '0.0.0.0',
      metricsPort: 8080,
      leaderElect: false,
      leaderElectionNamespace: 'dnsop-system',
      leaderElectionId: 'dnsop-leader',
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      identity: 'dnsop-abc',
      logLevel: 'info',
      controllers: ['dnspolicy', 'dnsprobe'],
      debounceMs: 200,
    });
    expect(Object.isFrozen(c)).toBe(true);
    expect(c.secretNamespaces).toBeUndefined();
  });

  it("trusts the operator's own namespace and kube-system unless told otherwise", () => {
    expect(buildConfig({}, { POD_NAMESPACE: 'dns' }).trustedNamespaces).toEqual([
      'dns',
      'kube-system',
    ]);
    expect(buildConfig({}).trustedNamespaces).toEqual(['dnsop-system', 'kube-system']);
    expect(buildConfig({ trustedNamespaces: '' }).trustedNamespaces).toEqual([]);
    expect(buildConfig({ trustedNamespaces: 'a,b,a' }).trustedNamespaces).toEqual(['a', 'b']);
  });

  it('parses the other tenancy flags', () => {
    const c = buildConfig({
      requireDomainGrants: 'true',
      secretNamespaces: 'shop, team-a',
      probeClusterMaxQps: '500',
    });
    expect([c.requireDomainGrants, c.secretNamespaces, c.probeClusterMaxQps]).toEqual([
      true,
      ['shop', 'team-a'],
      500,
    ]);
    expect(buildConfig({ secretNamespaces: '' }).secretNamespaces).toEqual([]);
  });

  it('parses flags given as strings', () => {
    const c = buildConfig({
      trustedNamespaces: 'dnsop-system, platform',
      metricsAddr: '127.0.0.1:9090',
      leaderElect: 'true',
      controllers: 'dnsprobe',
      concurrency: '8',
    });
    expect(c.trustedNamespaces).toEqual(['dnsop-system', 'platform']);
    expect([c.metricsHost, c.metricsPort, c.leaderElect, c.concurrency]).toEqual([
      '127.0.0.1',
      9090,
      true,
      8,
    ]);
    expect(c.controllers).toEqual(['dnsprobe']);
  });

  it.each([
    [{ logLevel: 'loud' }, /--log-level: must be one of/],
    [{ metricsAddr: 'localhost' }, /--metrics-addr: expected host:port/],
    [{ metricsAddr: ':99999' }, /--metrics-addr: must be an integer from 0 to 65535/],
    [{ leaderElect: 'maybe' }, /--leader-elect: must be true or false/],
    [{ leaseDuration: 'abc' }, /--lease-duration: invalid duration "abc"/],
    [
      { leaseDuration: '5s', renewDeadline: '10s' },
      /--renew-deadline: must be shorter than --lease-duration/,
    ],
    [
      { trustedNamespaces: 'Bad_NS' },
      /--trusted-namespaces: "Bad_NS" is not a valid namespace name/,
    ],
    [{ secretNamespaces: 'ok,Not_OK' }, /--secret-namespaces: "Not_OK" is not a valid/],
    [{ probeClusterMaxQps: '0' }, /--probe-cluster-max-qps: must be an integer from 1/],
    [{ requireDomainGrants: 'perhaps' }, /--require-domain-grants: must be true or false/],
    [{ controllers: 'dnspolicy,ingress' }, /--controllers: unknown controller "ingress"/],
    [{ concurrency: '0' }, /--concurrency: must be an integer from 1 to 64/],
    [{ debounce: 'soon' }, /--debounce: invalid duration/],
  ])('rejects %j with a message naming the flag', (raw, message) => {
    expect(() => buildConfig(raw)).toThrow(ConfigError);
    expect(() => buildConfig(raw)).toThrow(message);
  });
});

describe('parseListenAddress', () => {
  it.each([
    [':8080', '0.0.0.0', 8080],
    ['8080', '0.0.0.0', 8080],
    ['127.0.0.1:0', '127.0.0.1', 0],
    ['[::1]:9000', '::1', 9000],
  ])('%s -> %s %d', (text, host, port) => {
    expect(parseListenAddress('x', text)).toEqual({ host, port });
  });
});
