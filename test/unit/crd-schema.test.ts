import { join } from 'node:path';
import { DURATION_PATTERN } from '../../operator/runtime/duration';
import {
  documentsUnder,
  loadCrds,
  ROOT,
  undocumentedFields,
  untypedNodes,
  validatorsByKind,
} from './crd-schema';

const validators = validatorsByKind();

function validate(doc: unknown): string[] {
  const kind = (doc as { kind: string }).kind;
  const v = validators.get(kind);
  if (!v) throw new Error(`no schema for ${kind}`);
  return v(doc) ? [] : (v.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`);
}

const policy = (spec: Record<string, unknown>): unknown => ({
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
const probe = (spec: Record<string, unknown>): unknown => ({
  apiVersion: 'dnsop.io/v1alpha1',
  kind: 'DNSProbe',
  metadata: { name: 'p', namespace: 'kube-system' },
  spec: {
    server: { serviceRef: { name: 'kube-dns' } },
    queries: [{ name: 'kubernetes.default.svc.cluster.local' }],
    ...spec,
  },
});

describe('CRDs', () => {
  const crds = loadCrds();

  it('are structural, namespaced v1alpha1 with a status subresource, short names and printer columns', () => {
    expect(crds.map((c) => c.spec.names.kind).sort()).toEqual(['DNSPolicy', 'DNSProbe']);
    for (const crd of crds) {
      const v = crd.spec.versions[0]!;
      expect(v.name).toBe('v1alpha1');
      expect(v.subresources?.status).toEqual({});
      expect(untypedNodes(v.schema.openAPIV3Schema)).toEqual([]);
      expect(v.additionalPrinterColumns?.map((c) => c.name)).toContain('Age');
    }
    const byKind = Object.fromEntries(crds.map((c) => [c.spec.names.kind, c]));
    expect(byKind.DNSPolicy?.spec.names.shortNames).toEqual(['dnspol']);
    expect(byKind.DNSProbe?.spec.names.shortNames).toEqual(['dnsprobe']);
    expect(
      byKind.DNSPolicy?.spec.versions[0]?.additionalPrinterColumns?.map((c) => c.name),
    ).toEqual(expect.arrayContaining(['Ready', 'Records']));
    expect(byKind.DNSProbe?.spec.versions[0]?.additionalPrinterColumns?.map((c) => c.name)).toEqual(
      expect.arrayContaining(['Healthy', 'Targets']),
    );
  });

  it('describe every field, so `kubectl explain` documents each one', () => {
    for (const crd of crds) {
      const schema = crd.spec.versions[0]!.schema.openAPIV3Schema;
      expect({ kind: crd.spec.names.kind, undocumented: undocumentedFields(schema) }).toEqual({
        kind: crd.spec.names.kind,
        undocumented: [],
      });
    }
  });

  it('use the same duration pattern as the operator parser', () => {
    const text = JSON.stringify(crds);
    const patterns = [...text.matchAll(/"pattern":"(\^\(\[0-9\]\+[^"]*)"/g)].map((m) => m[1]);
    expect(patterns.length).toBeGreaterThanOrEqual(6);
    for (const p of patterns) expect(JSON.parse(`"${p}"`)).toBe(DURATION_PATTERN);
  });
});

describe('examples/', () => {
  const docs = documentsUnder(join(ROOT, 'examples')).filter(({ doc }) =>
    ['DNSPolicy', 'DNSProbe'].includes(doc.kind as string),
  );

  it('holds at least one DNSPolicy and one DNSProbe', () => {
    expect(new Set(docs.map((d) => d.doc.kind))).toEqual(new Set(['DNSPolicy', 'DNSProbe']));
  });

  it.each(
    docs.map(({ file, doc }) => [
      `${file.slice(ROOT.length + 1)} ${String((doc.metadata as { name?: string })?.name)}`,
      doc,
    ]),
  )('%s is valid', (_name, doc) => {
    expect(validate(doc)).toEqual([]);
  });
});

describe('invalid objects are rejected', () => {
  it.each([
    [
      'DNSPolicy without domains',
      policy({ domains: undefined }),
      /must have required property 'domains'/,
    ],
    ['DNSPolicy with empty domains', policy({ domains: [] }), /must NOT have fewer than 1 items/],
    ['DNSPolicy with negative ttl', policy({ ttl: -5 }), /\/spec\/ttl must be >= 1/],
    [
      'DNSPolicy with interval abc',
      policy({ interval: 'abc' }),
      /\/spec\/interval must match pattern/,
    ],
    [
      'DNSPolicy with unknown source kind',
      policy({ sources: [{ kind: 'ConfigMap' }] }),
      /must be equal to one of the allowed values/,
    ],
    [
      'DNSPolicy with bad policy',
      policy({ policy: 'Delete' }),
      /\/spec\/policy must be equal to one of/,
    ],
    [
      'DNSPolicy with upper-case domain',
      policy({ domains: ['Example.COM'] }),
      /\/spec\/domains\/0 must match pattern/,
    ],
    ['DNSPolicy with maxDeletePercent 150', policy({ maxDeletePercent: 150 }), /must be <= 100/],
    [
      'DNSPolicy with IP-like aliasMode',
      policy({ provider: { route53: { aliasMode: 'Always' } } }),
      /aliasMode must be equal to one of/,
    ],
    [
      'DNSProbe with interval abc',
      probe({ interval: 'abc' }),
      /\/spec\/interval must match pattern/,
    ],
    ['DNSProbe with timeout 10', probe({ timeout: '10' }), /\/spec\/timeout must match pattern/],
    ['DNSProbe without queries', probe({ queries: [] }), /must NOT have fewer than 1 items/],
    [
      'DNSProbe with bad qtype',
      probe({ queries: [{ name: 'a.b', type: 'AXFR' }] }),
      /type must be equal to one of/,
    ],
    ['DNSProbe with nxdomainRatio 2', probe({ thresholds: { nxdomainRatio: 2 } }), /must be <= 1/],
    [
      'DNSProbe with remediation mode Kill',
      probe({ remediation: { mode: 'Kill' } }),
      /mode must be equal to one of/,
    ],
    [
      'DNSProbe with port 0',
      probe({ server: { addresses: ['10.0.0.1'], port: 0 } }),
      /must be >= 1/,
    ],
  ])('%s', (_name, doc, message) => {
    const errors = validate(doc);
    expect(errors.join('\n')).toMatch(message);
  });

  it('accepts the minimal valid objects the invalid ones are built from', () => {
    expect(validate(policy({}))).toEqual([]);
    expect(validate(probe({}))).toEqual([]);
  });
});
