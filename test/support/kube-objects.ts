/** Objects and JSON merge patches (of objects or their status) for tests against a real API server. */
import type { KubeConfig } from '@kubernetes/client-node';
import { kubeRequest, MERGE_PATCH } from '../../operator/runtime/kube-http';

/** Where an object lives: its apiVersion, resource plural, namespace ("" if cluster-scoped) and name. */
export interface ObjectPath {
  readonly apiVersion: string;
  readonly plural: string;
  readonly namespace: string;
  readonly name: string;
}

function pathOf(obj: ObjectPath, subresource?: 'status'): string {
  const base = obj.apiVersion === 'v1' ? '/api/v1' : `/apis/${obj.apiVersion}`;
  const ns = obj.namespace === '' ? '' : `/namespaces/${obj.namespace}`;
  return `${base}${ns}/${obj.plural}/${obj.name}${subresource ? `/${subresource}` : ''}`;
}

/** Merge-patches the object itself. */
export async function mergePatch(kc: KubeConfig, obj: ObjectPath, body: unknown): Promise<void> {
  await kubeRequest(kc, { method: 'PATCH', path: pathOf(obj), contentType: MERGE_PATCH, body });
}

/** Merge-patches the status subresource: `{ status }`. */
export async function patchStatus(kc: KubeConfig, obj: ObjectPath, status: unknown): Promise<void> {
  await kubeRequest(kc, {
    method: 'PATCH',
    path: pathOf(obj, 'status'),
    contentType: MERGE_PATCH,
    body: { status },
  });
}

/** Namespaces, each with the `default` ServiceAccount pods need (no controller makes it here). */
export function namespaceObjects(names: readonly string[]): Record<string, unknown>[] {
  return [
    ...names.map((name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } })),
    ...names.map((namespace) => ({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'default', namespace },
    })),
  ];
}
