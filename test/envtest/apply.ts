import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

import {
  ApiException,
  KubernetesObjectApi,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';

import { kubeRequest } from '../../operator/runtime/kube-http';
import { waitFor, type WaitOptions } from './wait';

/** apiVersion, kind, name (and namespace for namespaced kinds) of one object. */
export interface ObjectRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
}

export const envtestFieldManager = 'envtest';

/** Every non-empty document of a multi-document YAML (or JSON) text; `List` kinds are flattened. */
export function parseManifests(text: string, source = '<inline>'): KubernetesObject[] {
  const objects: KubernetesObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) {
      throw new Error(`${source}: ${doc.errors.map((e) => e.message).join('; ')}`);
    }
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    if (typeof value !== 'object' || Array.isArray(value)) {
      throw new Error(`${source}: a document is not a Kubernetes object`);
    }
    const obj = value as KubernetesObject & { items?: KubernetesObject[] };
    if (obj.kind?.endsWith('List') === true && Array.isArray(obj.items)) objects.push(...obj.items);
    else objects.push(obj);
  }
  return objects;
}

/**
 * Objects from files and directories (recursively: *.yaml, *.yml, *.json, in name order).
 * kustomize's own files (kind Kustomization) are not Kubernetes objects and are skipped.
 */
export function readManifests(...paths: string[]): KubernetesObject[] {
  const objects: KubernetesObject[] = [];
  for (const path of paths) {
    if (statSync(path).isDirectory()) {
      const entries = readdirSync(path).sort();
      objects.push(
        ...readManifests(
          ...entries
            .map((e) => join(path, e))
            .filter((p) => statSync(p).isDirectory() || /\.(ya?ml|json)$/.test(p)),
        ),
      );
    } else {
      objects.push(
        ...parseManifests(readFileSync(path, 'utf8'), path).filter((o) => !isKustomization(o)),
      );
    }
  }
  return objects;
}

function isKustomization(obj: KubernetesObject): boolean {
  return obj.apiVersion?.startsWith('kustomize.config.k8s.io/') === true;
}

function isCrd(obj: KubernetesObject): boolean {
  return obj.kind === 'CustomResourceDefinition';
}

function applyOrder(obj: KubernetesObject): number {
  if (obj.kind === 'Namespace') return 0;
  if (isCrd(obj)) return 1;
  return 2;
}

/**
 * Server-side applies `objects` (force, field manager `envtest`): Namespaces first, then CRDs,
 * which are waited on until Established, then the rest. A kind whose API is not served yet
 * (a CRD just established) is retried until `timeoutMs`. Returns the applied objects as stored.
 */
export async function applyObjects(
  kc: KubeConfig,
  objects: readonly KubernetesObject[],
  options: WaitOptions = {},
): Promise<KubernetesObject[]> {
  const client = KubernetesObjectApi.makeApiClient(kc);
  const ordered = [...objects].sort((a, b) => applyOrder(a) - applyOrder(b));
  const applied: KubernetesObject[] = [];
  for (const obj of ordered) {
    if (!isCrd(obj) && applied.some(isCrd)) {
      await waitForCrdsEstablished(kc, applied.filter(isCrd), options);
    }
    applied.push(
      await waitFor(
        `apply ${describe(obj)}`,
        async () => {
          try {
            return await serverSideApply(kc, client, obj);
          } catch (err) {
            if (isNotServedYet(err)) return undefined;
            throw new Error(`apply ${describe(obj)} failed`, { cause: err });
          }
        },
        options,
      ),
    );
  }
  // CRDs applied last (or alone) must be served before the caller creates their objects.
  await waitForCrdsEstablished(kc, applied.filter(isCrd), options);
  return applied;
}

/** `applyObjects` over `readManifests(...paths)`. */
export async function applyFiles(
  kc: KubeConfig,
  paths: readonly string[],
  options: WaitOptions = {},
): Promise<KubernetesObject[]> {
  return applyObjects(kc, readManifests(...paths), options);
}

/** `applyObjects` over a YAML text. */
export async function applyYaml(
  kc: KubeConfig,
  yamlText: string,
  options: WaitOptions = {},
): Promise<KubernetesObject[]> {
  return applyObjects(kc, parseManifests(yamlText), options);
}

const establishedCrds = new WeakSet<KubernetesObject>();

async function waitForCrdsEstablished(
  kc: KubeConfig,
  crds: readonly KubernetesObject[],
  options: WaitOptions,
): Promise<void> {
  for (const crd of crds) {
    if (establishedCrds.has(crd)) continue;
    await waitForObject(
      kc,
      refOf(crd),
      (o) => hasCondition(o, 'Established', 'True') && hasCondition(o, 'NamesAccepted', 'True'),
      options,
    );
    await waitForDiscovery(kc, crd, options);
    establishedCrds.add(crd);
  }
}

/**
 * Established is not yet served: clients that discover resources (KubernetesObjectApi) see a 404
 * until the group-version's discovery document lists the plural. Waits for every served version.
 */
async function waitForDiscovery(
  kc: KubeConfig,
  crd: KubernetesObject,
  options: WaitOptions,
): Promise<void> {
  const spec = (
    crd as {
      spec?: {
        group?: string;
        names?: { plural?: string };
        versions?: { name: string; served?: boolean }[];
      };
    }
  ).spec;
  const group = spec?.group;
  const plural = spec?.names?.plural;
  if (group === undefined || plural === undefined) return;
  for (const version of (spec?.versions ?? []).filter((v) => v.served !== false)) {
    await waitFor(
      `discovery of ${plural}.${group}/${version.name}`,
      async () => {
        const doc = await kubeRequest<{ resources?: { name: string }[] }>(kc, {
          method: 'GET',
          path: `/apis/${group}/${version.name}`,
        });
        return doc.resources?.some((r) => r.name === plural) === true ? true : undefined;
      },
      options,
    );
  }
}

/** Reads an object; `undefined` when it does not exist. */
export async function readObject<T extends KubernetesObject = KubernetesObject>(
  kc: KubeConfig,
  ref: ObjectRef,
): Promise<T | undefined> {
  const client = KubernetesObjectApi.makeApiClient(kc);
  try {
    return await client.read<T>({
      apiVersion: ref.apiVersion,
      kind: ref.kind,
      metadata: {
        name: ref.name,
        ...(ref.namespace !== undefined ? { namespace: ref.namespace } : {}),
      },
    });
  } catch (err) {
    if (err instanceof ApiException && err.code === 404) return undefined;
    throw err;
  }
}

/** Waits (bounded) until the object exists and `predicate` holds; returns it. */
export async function waitForObject<T extends KubernetesObject = KubernetesObject>(
  kc: KubeConfig,
  ref: ObjectRef,
  predicate: (obj: T) => boolean = () => true,
  options: WaitOptions = {},
): Promise<T> {
  return waitFor(
    `${refToString(ref)} to satisfy the predicate`,
    async () => {
      const obj = await readObject<T>(kc, ref);
      return obj !== undefined && predicate(obj) ? obj : undefined;
    },
    options,
  );
}

/** Waits (bounded) until the object is gone. */
export async function waitForDeletion(
  kc: KubeConfig,
  ref: ObjectRef,
  options: WaitOptions = {},
): Promise<void> {
  await waitFor(
    `${refToString(ref)} to be deleted`,
    async () => ((await readObject(kc, ref)) === undefined ? true : undefined),
    options,
  );
}

/** Whether `obj.status.conditions` has `type` with `status`. */
export function hasCondition(obj: KubernetesObject, type: string, status: string): boolean {
  const conditions = (obj as { status?: { conditions?: { type?: string; status?: string }[] } })
    .status?.conditions;
  return conditions?.some((c) => c.type === type && c.status === status) ?? false;
}

export function refOf(obj: KubernetesObject): ObjectRef {
  const name = obj.metadata?.name;
  if (obj.apiVersion === undefined || obj.kind === undefined || name === undefined) {
    throw new Error('object needs apiVersion, kind and metadata.name');
  }
  return {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    name,
    ...(obj.metadata?.namespace !== undefined ? { namespace: obj.metadata.namespace } : {}),
  };
}

function refToString(ref: ObjectRef): string {
  return `${ref.kind} ${ref.namespace !== undefined ? `${ref.namespace}/` : ''}${ref.name}`;
}

function describe(obj: KubernetesObject): string {
  return `${obj.kind ?? '?'} ${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? '?'}`;
}

/** A kind whose API group/version is not (yet) served: discovery 404 or unknown kind. */
/**
 * Server-side apply of the object exactly as written. The typed client serialises known kinds
 * through its models, which silently drops fields it has no attribute for (a CRD's
 * `x-kubernetes-validations` and `default`), so the body is sent as raw JSON (valid YAML).
 */
async function serverSideApply(
  kc: KubeConfig,
  client: KubernetesObjectApi,
  obj: KubernetesObject,
): Promise<KubernetesObject> {
  // specUriPath is protected in the typings only; it does the discovery we need for the path.
  const paths = client as unknown as {
    specUriPath(spec: KubernetesObject, action: 'patch'): Promise<string>;
  };
  const path = await paths.specUriPath(obj, 'patch');
  const url = new URL(path, 'http://x');
  url.searchParams.set('fieldManager', envtestFieldManager);
  url.searchParams.set('force', 'true');
  return kubeRequest<KubernetesObject>(kc, {
    method: 'PATCH',
    path: `${url.pathname}${url.search}`,
    contentType: 'application/apply-patch+yaml',
    body: obj,
  });
}

function isNotServedYet(err: unknown): boolean {
  return (
    err instanceof Error &&
    /Unrecognized API version and kind|Failed to fetch resource metadata/.test(err.message)
  );
}
