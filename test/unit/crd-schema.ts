/**
 * Helpers for tests that read crds/ and examples/. Validation itself is the product's
 * (operator/api/validation.ts), so tests and `dnsop plan` check objects the same way.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

export const ROOT = join(__dirname, '..', '..');

export interface Crd {
  spec: {
    names: { kind: string; shortNames?: string[] };
    versions: Array<{
      name: string;
      schema: { openAPIV3Schema: Record<string, unknown> };
      subresources?: { status?: unknown };
      additionalPrinterColumns?: Array<{ name: string; jsonPath: string }>;
    }>;
  };
}

export function loadCrds(): Crd[] {
  const dir = join(ROOT, 'crds');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .map(
      (f) =>
        parseAllDocuments(readFileSync(join(dir, f), 'utf8'))[0]?.toJS() as Crd & { kind?: string },
    )
    .filter((doc) => doc.kind === 'CustomResourceDefinition');
}

/** Every YAML/JSON document under a directory, recursively, with the file it came from. */
export function documentsUnder(dir: string): Array<{ file: string; doc: Record<string, unknown> }> {
  const out: Array<{ file: string; doc: Record<string, unknown> }> = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) {
      out.push(...documentsUnder(path));
    } else if (/\.(ya?ml|json)$/.test(entry)) {
      for (const d of parseAllDocuments(readFileSync(path, 'utf8'))) {
        const doc = d.toJS() as Record<string, unknown> | null;
        if (doc) out.push({ file: path, doc });
      }
    }
  }
  return out;
}

/** Structural schema rule: every node declares a type (unless it preserves unknown fields). */
export function untypedNodes(schema: unknown, path = '$'): string[] {
  if (typeof schema !== 'object' || schema === null) return [];
  const node = schema as Record<string, unknown>;
  const out: string[] = [];
  if (
    node.type === undefined &&
    node['x-kubernetes-preserve-unknown-fields'] !== true &&
    node['x-kubernetes-int-or-string'] !== true
  ) {
    out.push(path);
  }
  const props = node.properties as Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(props ?? {})) out.push(...untypedNodes(v, `${path}.${k}`));
  if (node.items) out.push(...untypedNodes(node.items, `${path}[]`));
  if (typeof node.additionalProperties === 'object') {
    out.push(...untypedNodes(node.additionalProperties, `${path}{}`));
  }
  return out;
}

/**
 * Paths of fields (properties, at any depth) without a description: `kubectl explain` shows none.
 * The top-level metadata is the API server's (a CRD may not describe it).
 */
export function undocumentedFields(schema: unknown, path = ''): string[] {
  if (typeof schema !== 'object' || schema === null) return [];
  const node = schema as Record<string, unknown>;
  const out: string[] = [];
  const props = node.properties as Record<string, Record<string, unknown>> | undefined;
  for (const [k, v] of Object.entries(props ?? {})) {
    const here = path === '' ? k : `${path}.${k}`;
    if (here === 'metadata') continue;
    if (typeof v.description !== 'string' || v.description.trim() === '') out.push(here);
    out.push(...undocumentedFields(v, here));
  }
  if (node.items) out.push(...undocumentedFields(node.items, path));
  if (typeof node.additionalProperties === 'object') {
    out.push(...undocumentedFields(node.additionalProperties, path));
  }
  return out;
}
