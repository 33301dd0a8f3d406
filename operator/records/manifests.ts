/**
 * Reading Kubernetes manifests from files for `dnsop plan`: multi-document YAML or JSON, `List`
 * objects, directories recursively. Every problem is a ManifestError naming the file.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { SOURCE_KINDS as KNOWN_SOURCE_KINDS } from '../api/types';
import type { DNSPolicy, DNSPolicySpec, ProviderSpec } from '../api/types';

export class ManifestError extends Error {
  override readonly name = 'ManifestError';
  readonly file: string;
  constructor(file: string, reason: string, options?: { cause?: unknown }) {
    super(`${file}: ${reason}`, options);
    this.file = file;
  }
}

const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);
const CLUSTER_SCOPED = new Set(['Namespace']);

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

// ---- DNSPolicy validation and defaults (the CRD's, for manifests that never met an API server) --

const SOURCE_KINDS: ReadonlySet<string> = new Set(KNOWN_SOURCE_KINDS);
const SYNC_POLICIES = new Set(['Sync', 'UpsertOnly', 'CreateOnly']);

function fail(file: string, policy: string, reason: string): never {
  throw new ManifestError(file, `DNSPolicy ${policy}: ${reason}`);
}

function checkSpecFields(file: string, ref: string, spec: Record<string, unknown>): void {
  const sources = spec['sources'];
  if (!Array.isArray(sources) || sources.length === 0)
    fail(file, ref, 'spec.sources must list at least one source');
  for (const [i, s] of sources.entries()) {
    if (!isRecord(s) || typeof s['kind'] !== 'string' || !SOURCE_KINDS.has(s['kind'])) {
      fail(file, ref, `spec.sources[${i}].kind must be one of ${KNOWN_SOURCE_KINDS.join(', ')}`);
    }
  }
  const domains = spec['domains'];
  if (
    !Array.isArray(domains) ||
    domains.length === 0 ||
    !domains.every((d) => typeof d === 'string' && d !== '')
  ) {
    fail(file, ref, 'spec.domains must list at least one domain');
  }
  const provider = spec['provider'];
  const set = isRecord(provider)
    ? ['route53', 'cloudDNS', 'inMemory'].filter((k) => provider[k] !== undefined)
    : [];
  if (set.length !== 1)
    fail(file, ref, 'spec.provider must set exactly one of route53, cloudDNS, inMemory');
  checkScalarFields(file, ref, spec);
}

function checkScalarFields(file: string, ref: string, spec: Record<string, unknown>): void {
  const policy = spec['policy'];
  if (policy !== undefined && (typeof policy !== 'string' || !SYNC_POLICIES.has(policy))) {
    fail(file, ref, 'spec.policy must be Sync, UpsertOnly or CreateOnly');
  }
  const ttl = spec['ttl'];
  if (
    ttl !== undefined &&
    (!Number.isInteger(ttl) || (ttl as number) < 1 || (ttl as number) > 604_800)
  ) {
    fail(file, ref, 'spec.ttl must be an integer from 1 to 604800');
  }
  const mdp = spec['maxDeletePercent'];
  if (
    mdp !== undefined &&
    (!Number.isInteger(mdp) || (mdp as number) < 0 || (mdp as number) > 100)
  ) {
    fail(file, ref, 'spec.maxDeletePercent must be an integer from 0 to 100');
  }
}

function withProviderDefaults(provider: ProviderSpec): ProviderSpec {
  if (provider.route53 === undefined) return provider;
  return {
    ...provider,
    route53: {
      ...provider.route53,
      region: provider.route53.region ?? 'us-east-1',
      zoneType: provider.route53.zoneType ?? 'any',
      aliasMode: provider.route53.aliasMode ?? 'Auto',
    },
  };
}

/** Validates a DNSPolicy read from a file and fills the CRD's defaults. */
export function toDNSPolicy(file: string, obj: KubernetesObject): DNSPolicy {
  const raw = obj as unknown as Record<string, unknown>;
  const ref = `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
  const spec = raw['spec'];
  if (!isRecord(spec)) fail(file, ref, 'spec is required');
  checkSpecFields(file, ref, spec);
  const typed = spec as unknown as DNSPolicySpec;
  return {
    apiVersion: String(raw['apiVersion']),
    kind: 'DNSPolicy',
    metadata: obj.metadata ?? {},
    spec: {
      ...typed,
      provider: withProviderDefaults(typed.provider),
      policy: typed.policy ?? 'Sync',
      ttl: typed.ttl ?? 300,
      interval: typed.interval ?? '60s',
      maxDeletePercent: typed.maxDeletePercent ?? 50,
      dryRun: typed.dryRun ?? false,
    },
  };
}
