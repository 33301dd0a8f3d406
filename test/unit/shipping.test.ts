/**
 * House rule 12: test support lives under test/, never under operator/. Everything under
 * operator/ except *.test.ts compiles into dist/ and the image, so every such module must be
 * part of the product: reachable from the CLI entry (operator/main.ts) through imports, static,
 * dynamic or type-only. A fixture or fake left under operator/ is reachable only from tests.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { ROOT } from './crd-schema';

const OPERATOR = join(ROOT, 'operator');

function sourcesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sourcesUnder(join(dir, e.name))
      : e.name.endsWith('.ts')
        ? [join(dir, e.name)]
        : [],
  );
}

function localImports(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return info.importedFiles
    .map((f) => f.fileName)
    .filter((name) => name.startsWith('.'))
    .map((name) => resolve(dirname(file), name))
    .map((base) => [`${base}.ts`, join(base, 'index.ts')].find((p) => shipped.has(p)) ?? base);
}

const shipped = new Set(sourcesUnder(OPERATOR).filter((f) => !f.endsWith('.test.ts')));

function reachableFrom(entry: string): Set<string> {
  const seen = new Set<string>();
  const queue = [entry];
  for (let file = queue.pop(); file !== undefined; file = queue.pop()) {
    if (seen.has(file) || !shipped.has(file)) continue;
    seen.add(file);
    queue.push(...localImports(file));
  }
  return seen;
}

describe('what ships in dist/ and the image', () => {
  it('every module under operator/ (tests aside) is reachable from operator/main.ts', () => {
    const reachable = reachableFrom(join(OPERATOR, 'main.ts'));
    const unreachable = [...shipped].filter((f) => !reachable.has(f));
    expect(unreachable.map((f) => relative(ROOT, f))).toEqual([]);
  });

  it('no shipped module imports from test/', () => {
    const testDir = join(ROOT, 'test');
    const offenders = [...shipped].filter((f) =>
      localImports(f).some((p) => !relative(testDir, p).startsWith('..')),
    );
    expect(offenders.map((f) => relative(ROOT, f))).toEqual([]);
  });

  it('the build compiles operator/ without its tests', () => {
    const build = JSON.parse(readFileSync(join(ROOT, 'tsconfig.build.json'), 'utf8')) as {
      include: string[];
      exclude: string[];
    };
    expect(build.include).toEqual(['operator/**/*.ts']);
    expect(build.exclude).toContain('operator/**/*.test.ts');
  });
});
