/**
 * @dot-i/k8s-operator pulls an old @kubernetes/client-node whose tree carried known-vulnerable
 * packages. package.json pins fixed versions with npm overrides; this test reads the installed
 * tree and fails if a vulnerable version ever comes back.
 */
import { execFileSync } from 'node:child_process';
import { dirname } from 'node:path';
import { ROOT } from './crd-schema';

interface NpmNode {
  version?: string;
  dependencies?: Record<string, NpmNode>;
}

/** package -> first fixed version */
const FIXED: Record<string, string> = {
  'jsonpath-plus': '10.3.0',
  'form-data': '2.5.4',
  'tough-cookie': '4.1.3',
};

function compare(a: string, b: string): number {
  const pa = a.split(/[.+-]/).slice(0, 3).map(Number);
  const pb = b.split(/[.+-]/).slice(0, 3).map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export function vulnerableIn(tree: NpmNode, path: string[] = []): string[] {
  const out: string[] = [];
  for (const [name, node] of Object.entries(tree.dependencies ?? {})) {
    const fixed = FIXED[name];
    if (fixed !== undefined && node.version !== undefined && compare(node.version, fixed) < 0) {
      out.push(`${[...path, name].join(' > ')}@${node.version} (fixed in ${fixed})`);
    }
    out.push(...vulnerableIn(node, [...path, name]));
  }
  return out;
}

describe('dependency guard', () => {
  it('finds a vulnerable version deep in a tree (the check itself works)', () => {
    const tree: NpmNode = {
      dependencies: {
        a: { version: '1.0.0', dependencies: { 'tough-cookie': { version: '2.5.0' } } },
        'form-data': { version: '4.0.0' },
      },
    };
    expect(vulnerableIn(tree)).toEqual(['a > tough-cookie@2.5.0 (fixed in 4.1.3)']);
  });

  it('the installed tree has no known-vulnerable jsonpath-plus, form-data or tough-cookie', () => {
    const json = execFileSync('npm', ['ls', '--all', '--json'], {
      cwd: ROOT,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const tree = JSON.parse(json) as NpmNode;
    expect(Object.keys(tree.dependencies ?? {})).toContain('@dot-i/k8s-operator');
    expect(vulnerableIn(tree)).toEqual([]);
  });

  it("the framework runs on the operator's own @kubernetes/client-node (one client tree in `dnsop run`)", () => {
    // A second, older client-node under the framework cost `dnsop run` about 40 MB of RSS and
    // 15 MB of V8 heap (issue 14); package.json overrides the framework's dependency with ours.
    const ours = require.resolve('@kubernetes/client-node/package.json', { paths: [ROOT] });
    const framework = require.resolve('@kubernetes/client-node/package.json', {
      paths: [dirname(require.resolve('@dot-i/k8s-operator', { paths: [ROOT] }))],
    });
    expect(framework).toBe(ours);
  });
});
