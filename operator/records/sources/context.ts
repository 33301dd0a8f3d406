/**
 * What every source function needs besides its object: the policy's defaults and the operator's
 * settings that decide whether an object is published at all.
 */
import type { V1ObjectMeta } from '@kubernetes/client-node';
import type { Diagnostic, Endpoint } from '../endpoint';
import { otherController, readRecordAnnotations, type RecordAnnotations } from './annotations';
import { objectRef, type RecordRequest } from './targets';

export interface SourceContext {
  /** The policy's default TTL (spec.ttl), seconds. */
  readonly ttl: number;
  /** Values of the `controller` annotation the operator answers to besides "dnsop" (--controller-name). */
  readonly controllers: ReadonlySet<string>;
  /** spec.publishInternalServices: ClusterIP Services are published only when true. */
  readonly publishInternalServices: boolean;
}

export const DEFAULT_SOURCE_CONTEXT: SourceContext = Object.freeze({
  ttl: 300,
  controllers: new Set<string>(),
  publishInternalServices: false,
});

export interface SourceResult {
  readonly endpoints: readonly Endpoint[];
  readonly diagnostics: readonly Diagnostic[];
}

/** An object a source reads: its reference and annotations, or why it is skipped. */
export type SourceObject =
  | { readonly skipped: false; readonly object: string; readonly ann: RecordAnnotations }
  | { readonly skipped: true; readonly result: SourceResult };

/** The first step of every source: the object's reference, the controller check, its annotations. */
export function readSourceObject(
  kind: string,
  meta: V1ObjectMeta | undefined,
  ctx: SourceContext,
): SourceObject {
  const object = objectRef(kind, meta);
  const other = otherController(meta, object, ctx.controllers);
  if (other !== undefined) {
    return { skipped: true, result: { endpoints: [], diagnostics: [other] } };
  }
  return { skipped: false, object, ann: readRecordAnnotations(meta, object) };
}

/** What every record request of an object shares: the object, its TTL and its alias wish. */
export function requestBase(
  object: string,
  ann: RecordAnnotations,
  ctx: SourceContext,
): Pick<RecordRequest, 'object' | 'ttl' | 'alias'> {
  return {
    object,
    ttl: ann.ttl ?? ctx.ttl,
    ...(ann.alias !== undefined ? { alias: ann.alias } : {}),
  };
}
