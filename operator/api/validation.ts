/**
 * Validation of dnsop objects exactly as the API server does it, for manifests that never met
 * one (`dnsop plan`): the CRD's own openAPIV3Schema from crds/ (ajv; the CRD's defaults applied
 * first, unknown fields rejected as kubectl's strict field validation does), then the CRD's CEL
 * rules (crd-rules.ts). Like the API server, CEL rules are not evaluated when the schema already
 * found a blocking error (required, type, enum, too long, too many). Every error is reported.
 *
 * ajv and the CRD files are loaded on first use, so commands other than `plan` never pay for them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { DURATION_PATTERN } from '../runtime/duration';
import { CEL_RULES, ruleKey } from './crd-rules';

/** crds/ beside operator/ (sources) and dist/ (compiled): both are two levels below the root. */
export const CRD_DIR = join(__dirname, '..', '..', 'crds');

export interface FieldError {
  /** The field at fault, as the API server names it, e.g. `spec.domains[0]`. */
  readonly field: string;
  readonly message: string;
}

export interface ValidationResult {
  /** The object with the CRD's defaults filled in (the input is not modified). */
  readonly object: Record<string, unknown>;
  readonly errors: readonly FieldError[];
}

export interface CrdValidator {
  /** The kinds (by apiVersion and kind) this validator knows, e.g. `dnsop.io/v1alpha1 DNSPolicy`. */
  readonly kinds: readonly string[];
  /** Undefined for an object of a kind no CRD in crds/ defines. */
  validate(obj: Record<string, unknown>): ValidationResult | undefined;
}

interface CrdVersion {
  name: string;
  schema: { openAPIV3Schema: Schema };
}
interface CrdDoc {
  kind?: string;
  spec?: { group: string; names: { kind: string }; versions: CrdVersion[] };
}
type Schema = Record<string, unknown>;

const NOT_CHECKED =
  'some validation rules were not checked because the object was invalid; correct the existing errors to complete validation';

/** Schema errors after which the API server skips the CEL rules. */
const BLOCKING = new Set(['required', 'type', 'enum', 'maxLength', 'maxItems', 'maxProperties']);

/** What a pattern means, for the patterns a user is likely to get wrong. */
const PATTERN_HINTS: Readonly<Record<string, string>> = {
  [DURATION_PATTERN]: 'must be a duration such as 100ms, 60s, 5m or 1h30m (units ms, s, m, h)',
  '^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\\.)*[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$':
    'must be a lower-case DNS name such as example.com',
  '^[a-z]{2}(-[a-z]+)+-[0-9]+$': 'must be an AWS region such as us-east-1',
};

/** Unknown fields are errors (kubectl applies with strict field validation). */
function strict(schema: Schema): Schema {
  const out: Schema = { ...schema };
  const props = schema['properties'] as Record<string, Schema> | undefined;
  if (props !== undefined) {
    out['properties'] = Object.fromEntries(Object.entries(props).map(([k, v]) => [k, strict(v)]));
    if (
      schema['additionalProperties'] === undefined &&
      schema['x-kubernetes-preserve-unknown-fields'] !== true
    ) {
      out['additionalProperties'] = false;
    }
  }
  if (typeof schema['items'] === 'object') out['items'] = strict(schema['items'] as Schema);
  if (typeof schema['additionalProperties'] === 'object') {
    out['additionalProperties'] = strict(schema['additionalProperties'] as Schema);
  }
  return out;
}

/** `/spec/domains/0` -> `spec.domains[0]`. */
function fieldPath(pointer: string, child?: string): string {
  const parts = pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (child !== undefined) parts.push(child);
  return parts.reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
}

function show(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

function describeError(e: ErrorObject): FieldError {
  const p = e.params as Record<string, unknown>;
  const at = fieldPath(e.instancePath);
  switch (e.keyword) {
    case 'required':
      return {
        field: fieldPath(e.instancePath, String(p['missingProperty'])),
        message: 'Required value',
      };
    case 'additionalProperties':
      return {
        field: fieldPath(e.instancePath, String(p['additionalProperty'])),
        message: 'unknown field (check its spelling; kubectl apply rejects it too)',
      };
    case 'enum':
      return {
        field: at,
        message: `Unsupported value: ${show(e.data)}: supported values: ${(p['allowedValues'] as unknown[]).map(show).join(', ')}`,
      };
    case 'pattern': {
      const hint = PATTERN_HINTS[String(p['pattern'])] ?? `must match '${String(p['pattern'])}'`;
      return { field: at, message: `Invalid value: ${show(e.data)}: ${hint}` };
    }
    case 'type':
      return {
        field: at,
        message: `Invalid value: ${show(e.data)}: must be of type ${String(p['type'])}`,
      };
    default:
      return { field: at, message: `Invalid value: ${show(e.data)}: ${e.message ?? e.keyword}` };
  }
}

/** Evaluates every CEL rule along the schema over `value`; appends an error per failed rule. */
function checkRules(schema: Schema, value: unknown, path: string, errors: FieldError[]): void {
  if (value === undefined || value === null) return;
  const rules = (schema['x-kubernetes-validations'] ?? []) as Array<{
    rule: string;
    message?: string;
    fieldPath?: string;
  }>;
  for (const r of rules) {
    const check = CEL_RULES.get(ruleKey(r.rule));
    if (check === undefined) {
      throw new Error(`no TypeScript implementation of the CRD rule at ${path}: ${r.rule}`);
    }
    if (!check(value)) {
      const suffix = (r.fieldPath ?? '').replace(/^\./, '');
      errors.push({
        field: suffix === '' ? path : `${path}.${suffix}`,
        message: r.message ?? `failed rule: ${ruleKey(r.rule)}`,
      });
    }
  }
  const props = schema['properties'] as Record<string, Schema> | undefined;
  if (props !== undefined && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, sub] of Object.entries(props)) {
      checkRules(sub, (value as Record<string, unknown>)[k], path ? `${path}.${k}` : k, errors);
    }
  }
  if (typeof schema['items'] === 'object' && Array.isArray(value)) {
    value.forEach((item, i) =>
      checkRules(schema['items'] as Schema, item, `${path}[${i}]`, errors),
    );
  }
}

/** Every rule text in a schema (to check that crd-rules.ts implements each). */
export function rulesIn(schema: unknown): string[] {
  if (typeof schema !== 'object' || schema === null) return [];
  const node = schema as Schema;
  const own = ((node['x-kubernetes-validations'] ?? []) as Array<{ rule: string }>).map((r) =>
    ruleKey(r.rule),
  );
  const children = [
    ...Object.values((node['properties'] ?? {}) as Record<string, unknown>),
    node['items'],
    node['additionalProperties'],
  ];
  return [...own, ...children.flatMap((c) => rulesIn(c))];
}

/** Reads the CRDs under `dir` and compiles one validator per served version. */
export async function loadCrdValidator(dir: string = CRD_DIR): Promise<CrdValidator> {
  const { default: Ajv } = await import('ajv');
  const { default: addFormats } = await import('ajv-formats');
  const ajv = new Ajv({ strict: false, allErrors: true, useDefaults: true, verbose: true });
  addFormats(ajv);
  ajv.addFormat('int64', true);
  const byKind = new Map<string, { schema: Schema; validate: ValidateFunction }>();
  for (const file of readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()) {
    const crd = parse(readFileSync(join(dir, file), 'utf8')) as CrdDoc | null;
    if (crd?.kind !== 'CustomResourceDefinition' || crd.spec === undefined) continue;
    for (const version of crd.spec.versions) {
      const schema = version.schema.openAPIV3Schema;
      byKind.set(`${crd.spec.group}/${version.name} ${crd.spec.names.kind}`, {
        schema,
        validate: ajv.compile(strict(schema)),
      });
    }
  }
  return {
    kinds: [...byKind.keys()],
    validate(obj) {
      const entry = byKind.get(`${String(obj['apiVersion'])} ${String(obj['kind'])}`);
      if (entry === undefined) return undefined;
      const object = structuredClone(obj);
      const schemaErrors = entry.validate(object) ? [] : (entry.validate.errors ?? []);
      const errors = schemaErrors.map(describeError);
      if (schemaErrors.some((e) => BLOCKING.has(e.keyword))) {
        errors.push({ field: '', message: NOT_CHECKED });
      } else {
        checkRules(entry.schema, object, '', errors);
      }
      return { object, errors };
    },
  };
}
