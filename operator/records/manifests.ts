/**
 * Reading Kubernetes manifests from files for `dnsop plan`: multi-document YAML or JSON, `List`
 * objects, directories recursively. Every problem is a ManifestError naming the file.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import type { CrdValidator } from '../api/validation';

export class ManifestError extends Error {
  override readonly name = 'ManifestError';
  readonly file: string;
  constructor(file: string, reason: string, options?: { cause?: unknown }) {
    super(`${file}: ${reason}`, options);
    this.file = file;
  }
}

const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);
const CLUSTER_SCOPED = new Set(['Namespace', 'Node']);

/** The manifest files named by `paths`, directories walked recursively, in a stable order. */
export function listManifestFiles(paths: readonly string[]): string[] {
  const files: string[] = [];
  const walk = (path: string, explicit: boolean): void => {
    let isDir: boolean;
    try {
      isDir = statSync(path).isDirectory();
    } catch (err) {
      throw new ManifestError(path, 'no such file or directory', { cause: err });
    }
    if (isDir) {
      for (const entry of readdirSync(path).sort()) {
        if (!entry.startsWith('.')) walk(join(path, entry), false);
      }
    } else if (explicit || MANIFEST_EXTENSIONS.has(extname(path).toLowerCase())) {
      files.push(path);
    }
  };
  for (const path of paths) walk(path, true);
  return files;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function toObjects(file: string, value: unknown, where: string): KubernetesObject[] {
  if (value === null || value === undefined) return [];
  if (!isRecord(value))
    throw new ManifestError(
      file,
      `${where}: expected a Kubernetes object, got ${Array.isArray(value) ? 'a list' : typeof value}`,
    );
  const kind = value['kind'];
  if (typeof kind !== 'string' || kind === '')
    throw new ManifestError(file, `${where}: missing "kind"`);
  if (typeof value['apiVersion'] !== 'string')
    throw new ManifestError(file, `${where}: ${kind} is missing "apiVersion"`);
  if (kind.endsWith('List') && Array.isArray(value['items'])) {
    return (value['items'] as unknown[]).flatMap((item, i) =>
      toObjects(file, item, `${where}, item ${i + 1}`),
    );
  }
  const metadata = value['metadata'];
  if (!isRecord(metadata) || typeof metadata['name'] !== 'string' || metadata['name'] === '') {
    throw new ManifestError(file, `${where}: ${kind} is missing metadata.name`);
  }
  if (!CLUSTER_SCOPED.has(kind) && metadata['namespace'] === undefined) {
    // kubectl apply's default.
    return [{ ...value, metadata: { ...metadata, namespace: 'default' } }];
  }
  return [value];
}

/** Parses one file's documents. */
export function parseManifestFile(file: string): KubernetesObject[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ManifestError(file, 'cannot be read', { cause: err });
  }
  if (extname(file).toLowerCase() === '.json') {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new ManifestError(
        file,
        `invalid JSON: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
    return toObjects(file, value, 'document 1');
  }
  const docs = parseAllDocuments(text, { prettyErrors: true });
  const list = Array.isArray(docs) ? docs : [docs];
  return list.flatMap((doc, i) => {
    const error = doc.errors[0];
    if (error !== undefined)
      throw new ManifestError(
        file,
        `invalid YAML in document ${i + 1}: ${error.message.split('\n')[0]}`,
      );
    return toObjects(file, doc.toJS(), `document ${i + 1}`);
  });
}

// ---- validation: the CRDs' own schema and rules (operator/api/validation.ts) --------------------

export interface ManifestProblem {
  readonly file: string;
  /** `Kind namespace/name` of the object at fault, when the problem is in one object. */
  readonly object?: string;
  /** The field at fault, as the API server names it (e.g. `spec.domains[0]`). */
  readonly field?: string;
  readonly reason: string;
}

/** Every problem found in a set of manifests; `message` has one line per problem. */
export class ManifestProblems extends Error {
  override readonly name = 'ManifestProblems';
  readonly problems: readonly ManifestProblem[];
  constructor(problems: readonly ManifestProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.problems = problems;
  }
}

export function formatProblem(p: ManifestProblem): string {
  const where = [p.file, p.object, p.field].filter((x) => x !== undefined && x !== '').join(': ');
  return `${where}: ${p.reason}`;
}

function describeObject(obj: KubernetesObject): string {
  const ns = obj.metadata?.namespace;
  return `${obj.kind ?? ''} ${ns ? `${ns}/` : ''}${obj.metadata?.name ?? ''}`;
}

/**
 * Reads every manifest under `paths` and validates each dnsop object with `validator`, which also
 * fills in the CRD's defaults. Throws ManifestProblems listing every problem in every file.
 */
export function readValidatedManifests(
  paths: readonly string[],
  validator: CrdValidator,
): KubernetesObject[] {
  const problems: ManifestProblem[] = [];
  const objects: KubernetesObject[] = [];
  let files: string[] = [];
  try {
    files = listManifestFiles(paths);
  } catch (err) {
    if (!(err instanceof ManifestError)) throw err;
    problems.push({ file: err.file, reason: err.message.slice(err.file.length + 2) });
  }
  for (const file of files) {
    let parsed: KubernetesObject[];
    try {
      parsed = parseManifestFile(file);
    } catch (err) {
      if (!(err instanceof ManifestError)) throw err;
      problems.push({ file, reason: err.message.slice(file.length + 2) });
      continue;
    }
    for (const obj of parsed) {
      const result = validator.validate(obj as unknown as Record<string, unknown>);
      const validated = result?.object as KubernetesObject | undefined;
      if (result === undefined) {
        objects.push(obj);
        continue;
      }
      for (const e of result.errors) {
        problems.push({ file, object: describeObject(obj), field: e.field, reason: e.message });
      }
      if (validated !== undefined) objects.push(validated);
    }
  }
  if (problems.length > 0) throw new ManifestProblems(problems);
  return objects;
}
