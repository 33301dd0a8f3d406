import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { VALIDATION_CASES, validPolicy, validProbe } from '../../test/support/invalid-objects';
import { CEL_RULES } from './crd-rules';
import { CRD_DIR, loadCrdValidator, rulesIn, type CrdValidator } from './validation';

interface Crd {
  spec: { versions: { schema: { openAPIV3Schema: unknown } }[] };
}

let validator: CrdValidator;

beforeAll(async () => {
  validator = await loadCrdValidator();
});

function errorsOf(obj: Record<string, unknown>): { field: string; message: string }[] {
  const result = validator.validate(obj);
  if (result === undefined) throw new Error('not a dnsop kind');
  return [...result.errors];
}

describe('CRD validation for dnsop plan', () => {
  it('knows both kinds from crds/', () => {
    expect([...validator.kinds].sort()).toEqual([
      'dnsop.io/v1alpha1 DNSPolicy',
      'dnsop.io/v1alpha1 DNSProbe',
    ]);
    expect(validator.validate({ apiVersion: 'v1', kind: 'Service' })).toBeUndefined();
  });

  it('implements every CEL rule of the CRDs, and no rule the CRDs lack', () => {
    const inCrds = new Set(
      readdirSync(CRD_DIR)
        .filter((f) => f.endsWith('.yaml'))
        .map((f) => parse(readFileSync(join(CRD_DIR, f), 'utf8')) as Crd)
        .flatMap((crd) => crd.spec.versions.flatMap((v) => rulesIn(v.schema.openAPIV3Schema))),
    );
    expect([...inCrds].filter((r) => !CEL_RULES.has(r))).toEqual([]);
    expect([...CEL_RULES.keys()].filter((r) => !inCrds.has(r))).toEqual([]);
  });

  it.each(VALIDATION_CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const errors = errorsOf(c.object);
    const fields = [...new Set(errors.map((e) => e.field).filter((f) => f !== ''))].sort();
    expect(fields).toEqual([...c.fields].sort());
    if (c.message !== undefined) {
      expect(errors.map((e) => e.message)).toEqual(
        expect.arrayContaining([expect.stringMatching(c.message)]),
      );
    }
  });

  it('fills in the CRD defaults, nested ones included, without touching the input', () => {
    const input = validPolicy({ provider: { route53: {} } });
    const before = JSON.stringify(input);
    const spec = validator.validate(input)!.object['spec'] as Record<string, unknown>;
    expect(JSON.stringify(input)).toBe(before);
    expect(spec).toMatchObject({
      policy: 'Sync',
      ttl: 300,
      interval: '60s',
      maxDeletePercent: 50,
      dryRun: false,
      provider: { route53: { region: 'us-east-1', zoneType: 'any', aliasMode: 'Auto' } },
    });
    const probe = validator.validate(validProbe())!.object['spec'] as Record<string, unknown>;
    expect(probe).toMatchObject({
      interval: '100ms',
      timeout: '100ms',
      thresholds: { consecutiveFailures: 3, rttWindow: '60s' },
      remediation: { mode: 'DryRun' },
    });
  });

  it('says what a duration or a domain must look like', () => {
    expect(errorsOf(validPolicy({ interval: 'abc' }))).toEqual([
      {
        field: 'spec.interval',
        message:
          'Invalid value: "abc": must be a duration such as 100ms, 60s, 5m or 1h30m (units ms, s, m, h)',
      },
    ]);
    expect(errorsOf(validPolicy({ domains: ['Example.COM'] }))[0]?.message).toMatch(
      /must be a lower-case DNS name such as example.com/,
    );
  });

  it('skips the rules after a blocking schema error, and says so, as the API server does', () => {
    const errors = errorsOf(validPolicy({ ttl: 'x', interval: '1s' }));
    expect(errors.map((e) => e.field)).toEqual(['spec.ttl', '']);
    expect(errors[1]?.message).toMatch(/some validation rules were not checked/);
  });
});
