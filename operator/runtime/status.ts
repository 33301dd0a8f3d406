/**
 * Writes the status subresource of our custom resources.
 * `update` reads the live object, lets the caller compute the new status from it, and patches
 * with the object's resourceVersion as a precondition; a 409 (someone wrote in between) re-reads
 * and recomputes, so a status is never computed from a stale read.
 */
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { isConflict, isNotFound, kubeRequest, MERGE_PATCH } from './kube-http';
import type { ResourceType } from './cache';

export interface ObjectRef {
  readonly resource: ResourceType;
  readonly namespace: string;
  readonly name: string;
}

export function objectPath(ref: ObjectRef): string {
  const r = ref.resource;
  const base = r.group === '' ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
  const ns = r.namespaced ? `/namespaces/${encodeURIComponent(ref.namespace)}` : '';
  return `${base}${ns}/${r.plural}/${encodeURIComponent(ref.name)}`;
}

export type StatusOf<T> = T extends { status?: infer S } ? S : unknown;

const MAX_CONFLICT_RETRIES = 5;

export class StatusWriter {
  readonly #kc: KubeConfig;

  constructor(kubeConfig: KubeConfig) {
    this.#kc = kubeConfig;
  }

  /**
   * Computes and writes a new status. `compute` gets the live object and returns the new status,
   * or undefined to write nothing. Returns the written object, or undefined when the object is
   * gone or nothing was written.
   */
  async update<T extends KubernetesObject & { status?: unknown }>(
    ref: ObjectRef,
    compute: (live: T) => StatusOf<T> | undefined,
    signal?: AbortSignal,
  ): Promise<T | undefined> {
    for (let attempt = 0; ; attempt++) {
      let live: T;
      try {
        live = await kubeRequest<T>(this.#kc, { method: 'GET', path: objectPath(ref), signal });
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
      const status = compute(live);
      if (status === undefined) return undefined;
      try {
        return await kubeRequest<T>(this.#kc, {
          method: 'PATCH',
          path: `${objectPath(ref)}/status`,
          contentType: MERGE_PATCH,
          body: { metadata: { resourceVersion: live.metadata?.resourceVersion }, status },
          signal,
        });
      } catch (err) {
        if (isNotFound(err)) return undefined;
        if (!isConflict(err) || attempt >= MAX_CONFLICT_RETRIES) throw err;
      }
    }
  }

  /** Merge-patches metadata.finalizers (with a resourceVersion precondition). */
  async setFinalizers(
    ref: ObjectRef,
    finalizers: readonly string[],
    resourceVersion: string | undefined,
    signal?: AbortSignal,
  ): Promise<void> {
    try {
      await kubeRequest(this.#kc, {
        method: 'PATCH',
        path: objectPath(ref),
        contentType: MERGE_PATCH,
        body: { metadata: { finalizers, ...(resourceVersion ? { resourceVersion } : {}) } },
        signal,
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
