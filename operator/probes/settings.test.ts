import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { PermanentError } from '../runtime/errors';
import { DEFAULTS, probeSettings } from './settings';

type Schema = { default?: unknown; properties?: Record<string, Schema> };

function specSchema(): Record<string, Schema> {
  const crd = parse(
    readFileSync(join(__dirname, '..', '..', 'crds', 'dnsprobes.dnsop.io.yaml'), 'utf8'),
  ) as {
    spec: { versions: { schema: { openAPIV3Schema: { properties: { spec: Schema } } } }[] };
  };
  return crd.spec.versions[0]!.schema.openAPIV3Schema.properties.spec.properties!;
}

describe('probeSettings', () => {
  it('has the CRD schema defaults, so `dnsop probe` and a DNSProbe behave alike', () => {
    const s = specSchema();
    expect(DEFAULTS.interval).toBe(s['interval']!.default);
    expect(DEFAULTS.timeout).toBe(s['timeout']!.default);
    expect(DEFAULTS.transport).toBe(s['transport']!.default);
    expect(DEFAULTS.adaptiveTimeout).toBe(s['adaptiveTimeout']!.default);
    expect(DEFAULTS.maxQPS).toBe(s['maxQPS']!.default);
    expect(DEFAULTS.port).toBe(s['server']!.properties!['port']!.default);
    for (const [key, value] of Object.entries(DEFAULTS.thresholds)) {
      expect([key, s['thresholds']!.properties![key]!.default]).toEqual([key, value]);
    }
    // No schema default for readiness: an omitted one means "each pod's own readinessProbe"
    // (probes/tenancy.ts), which an API-server default would hide.
    expect(s['readiness']!.default).toBeUndefined();
    for (const key of Object.keys(DEFAULTS.readiness)) {
      expect([key, s['readiness']!.properties![key]!.default]).toEqual([key, undefined]);
    }
    for (const [key, value] of Object.entries(DEFAULTS.remediation)) {
      expect([key, s['remediation']!.properties![key]!.default]).toEqual([key, value]);
    }
  });

  it('applies defaults and parses durations', () => {
    const s = probeSettings({ queries: [{ name: 'kubernetes.default.svc.cluster.local' }] });
    expect(s).toMatchObject({
      port: 53,
      intervalMs: 100,
      timeoutMs: 100,
      transport: 'udp',
      maxQps: 200,
      thresholds: {
        consecutiveFailures: 3,
        rttSpikeSigma: 3,
        rttWindowMs: 60_000,
        nxdomainRatio: 0.85,
        nxdomainWindowMs: 5000,
        servfailEntropyBits: 1.2,
      },
      readiness: { port: 8181, path: '/ready' },
      remediation: { mode: 'DryRun', cooldownMs: 300_000, maxEvictionsPerHour: 3, minReadyPods: 1 },
    });
    expect(s.queries[0]!.label).toBe('kubernetes.default.svc.cluster.local/A');
    expect(Object.isFrozen(s)).toBe(true);
  });

  it.each([
    [{ queries: [] }, /spec.queries: at least one/],
    [{ queries: [{ name: 'a.example', type: 'ANY' }] }, /spec.queries\[0\]: invalid query type/],
    [{ queries: [{ name: 'a.example' }], interval: '5ms' }, /spec.interval: must be at least 10ms/],
    [{ queries: [{ name: 'a.example' }], timeout: 'soon' }, /spec.timeout: invalid duration/],
    [{ queries: [{ name: 'a.example' }], transport: 'QUIC' }, /spec.transport/],
    [{ queries: [{ name: 'a.example' }], thresholds: { nxdomainRatio: 2 } }, /nxdomainRatio/],
    [
      { queries: [{ name: 'a.example' }], thresholds: { consecutiveFailures: 0 } },
      /consecutiveFailures/,
    ],
  ])('rejects %j', (spec, message) => {
    expect(() => probeSettings(spec)).toThrow(PermanentError);
    expect(() => probeSettings(spec)).toThrow(message);
  });
});
