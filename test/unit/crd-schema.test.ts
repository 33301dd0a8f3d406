import { join } from 'node:path';
import { loadCrdValidator, type CrdValidator } from '../../operator/api/validation';
import { DURATION_PATTERN } from '../../operator/runtime/duration';
import { documentsUnder, loadCrds, ROOT, undocumentedFields, untypedNodes } from './crd-schema';

let validator: CrdValidator;

beforeAll(async () => {
  validator = await loadCrdValidator();
});

/** The CRD's schema and CEL rules, as `dnsop plan` and the API server apply them. */
function validate(doc: Record<string, unknown>): string[] {
  const result = validator.validate(doc);
  if (!result) throw new Error(`no CRD for ${String(doc.kind)}`);
  return result.errors.map((e) => `${e.field}: ${e.message}`);
}

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
  )('%s is valid (schema and CEL rules)', (_name, doc) => {
    expect(validate(doc)).toEqual([]);
  });
});
