/**
 * examples/ is what a user applies (`kubectl apply -f examples/`) and plans (`dnsop plan -f
 * examples/`). The rules that keep both working, checked on the files themselves; the
 * integration test (kubectl.test.ts) applies them to a real API server and compares the records.
 *
 * - Top-level files use only kinds every cluster serves (core, apps, discovery) and dnsop's;
 *   a kind that needs other CRDs lives in a subfolder named after that API (gateway-api/), which
 *   `kubectl apply -f examples/` does not read.
 * - Each file is self-contained: it defines every namespace it uses, before using it.
 * - No object is defined twice; no `status:` (kubectl apply ignores it and reports the object
 *   "configured" on every run); no hard-coded cluster IP (clusters allocate from their own range).
 * - A "# Diagnostic Reason" comment names a reason `dnsop plan` gives for that file.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { runPlanCommand } from '../../operator/records/plan-command';
import { ROOT } from './crd-schema';

type Doc = Record<string, any>;
const EXAMPLES = join(ROOT, 'examples');
const CORE_API_VERSIONS = new Set(['v1', 'apps/v1', 'discovery.k8s.io/v1', 'dnsop.io/v1alpha1']);
const SUBFOLDER_APIS: Readonly<Record<string, RegExp>> = {
  'gateway-api': /^gateway\.networking\.k8s\.io\//,
};

function yamlFilesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory()
        ? yamlFilesUnder(join(dir, e.name))
        : /\.ya?ml$/.test(e.name)
          ? [join(dir, e.name)]
          : [],
    )
    .sort();
}

const files = yamlFilesUnder(EXAMPLES);
const docsOf = (file: string): Doc[] =>
  parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => d.toJS() as Doc | null)
    .filter((d): d is Doc => d !== null);
const rel = (file: string): string => relative(EXAMPLES, file);

describe('examples/', () => {
  it('has files at the top level and in one subfolder per optional API', () => {
    expect(files.filter((f) => !rel(f).includes('/')).length).toBeGreaterThanOrEqual(4);
    for (const f of files.filter((f) => rel(f).includes('/'))) {
      expect(Object.keys(SUBFOLDER_APIS)).toContain(rel(f).split('/')[0]);
    }
  });

  it.each(files.map((f) => [rel(f), f]))('%s applies on any cluster as written', (_name, file) => {
    const folder = rel(file).includes('/') ? rel(file).split('/')[0]! : '';
    const docs = docsOf(file);
    const defined = new Set<string>();
    for (const doc of docs) {
      const api = String(doc.apiVersion);
      const allowed = CORE_API_VERSIONS.has(api) || (SUBFOLDER_APIS[folder]?.test(api) ?? false);
      expect({ kind: doc.kind, api, allowed }).toEqual({ kind: doc.kind, api, allowed: true });
      expect({ kind: doc.kind, name: doc.metadata?.name, status: doc.status }).toEqual({
        kind: doc.kind,
        name: doc.metadata?.name,
        status: undefined,
      });
      expect([undefined, 'None']).toContain(doc.spec?.clusterIP);
      if (doc.kind === 'Namespace') defined.add(doc.metadata.name);
      const ns = doc.metadata?.namespace;
      if (ns !== undefined && ns !== 'kube-system') {
        expect({
          object: `${doc.kind}/${doc.metadata.name}`,
          namespaceDefinedBefore: defined.has(ns),
        }).toEqual({ object: `${doc.kind}/${doc.metadata.name}`, namespaceDefinedBefore: true });
      }
    }
  });

  it('defines no object twice across files', () => {
    const seen = new Map<string, string>();
    const twice: string[] = [];
    for (const file of files) {
      for (const doc of docsOf(file)) {
        const key = `${String(doc.kind)} ${String(doc.metadata?.namespace ?? '')}/${String(doc.metadata?.name)}`;
        if (seen.has(key)) twice.push(`${key} in ${seen.get(key)} and ${rel(file)}`);
        seen.set(key, rel(file));
      }
    }
    expect(twice).toEqual([]);
  });

  it.each(files.map((f) => [rel(f), f]))(
    '%s: every "# Diagnostic Reason" comment is a reason dnsop plan gives',
    async (_name, file) => {
      const promised = [...readFileSync(file, 'utf8').matchAll(/^# Diagnostic (\w+)/gm)].map(
        (m) => m[1]!,
      );
      let out = '';
      const code = await runPlanCommand(
        { files: [file], output: 'json' },
        { stdout: (t) => (out += t), stderr: () => undefined },
      );
      expect(code).toBe(0);
      const reasons = new Set(
        (JSON.parse(out) as { policies: { diagnostics: { reason: string }[] }[] }).policies.flatMap(
          (p) => p.diagnostics.map((d) => d.reason),
        ),
      );
      for (const reason of promised) expect(reasons).toContain(reason);
    },
  );
});
