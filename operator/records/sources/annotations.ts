/**
 * Annotations a source object may carry. dnsop's own names win; the external-dns names are read
 * so that objects annotated for external-dns migrate without edits.
 */
import type { V1ObjectMeta } from '@kubernetes/client-node';
import type { Diagnostic } from '../endpoint';
import { normaliseName } from '../endpoint';
import { parseDuration } from '../../runtime/duration';

export const ANNOTATION_HOSTNAME = 'dnsop.io/hostname';
export const ANNOTATION_TTL = 'dnsop.io/ttl';
export const ANNOTATION_TARGET = 'dnsop.io/target';
export const ANNOTATION_ALIAS = 'dnsop.io/alias';

/** Read in this order; the first one present is used. */
const HOSTNAME_KEYS = [
  ANNOTATION_HOSTNAME,
  'external-dns.alpha.kubernetes.io/hostname',
  'external-dns.kubernetes.io/hostname',
] as const;
const TTL_KEYS = [ANNOTATION_TTL, 'external-dns.alpha.kubernetes.io/ttl'] as const;
const TARGET_KEYS = [ANNOTATION_TARGET, 'external-dns.alpha.kubernetes.io/target'] as const;

const MIN_TTL = 1;
const MAX_TTL = 604_800;

/** What the annotations of one object ask for. */
export interface RecordAnnotations {
  /** Normalised hostnames, in annotation order, duplicates removed. Empty when none. */
  readonly hostnames: readonly string[];
  readonly ttl?: number;
  /** Normalised targets that replace the ones the object's status would give. */
  readonly targets?: readonly string[];
  /** `dnsop.io/alias`: false forces plain records; true asks for an alias (honoured only where a provider can). */
  readonly alias?: boolean;
  readonly diagnostics: readonly Diagnostic[];
}

function firstPresent(
  annotations: Readonly<Record<string, string>>,
  keys: readonly string[],
): [string, string] | undefined {
  for (const key of keys) {
    const value = annotations[key];
    if (value !== undefined) return [key, value];
  }
  return undefined;
}

export function splitList(value: string): string[] {
  return [
    ...new Set(
      value
        .split(',')
        .map((s) => normaliseName(s))
        .filter((s) => s.length > 0),
    ),
  ];
}

/** Seconds from "300" or a Go duration ("5m"); undefined when unparseable. */
function parseTtl(value: string): number | undefined {
  const trimmed = value.trim();
  if (/^[0-9]+$/.test(trimmed)) return Number(trimmed);
  try {
    return Math.round(parseDuration(trimmed) / 1000);
  } catch {
    return undefined;
  }
}

/** Parses the record annotations of an object; bad values become diagnostics, never exceptions. */
export function readRecordAnnotations(
  meta: V1ObjectMeta | undefined,
  object: string,
): RecordAnnotations {
  const annotations = meta?.annotations ?? {};
  const diagnostics: Diagnostic[] = [];
  const hostname = firstPresent(annotations, HOSTNAME_KEYS);
  const ttlEntry = firstPresent(annotations, TTL_KEYS);
  const targetEntry = firstPresent(annotations, TARGET_KEYS);
  const aliasValue = annotations[ANNOTATION_ALIAS];

  let ttl: number | undefined;
  if (ttlEntry !== undefined) {
    const parsed = parseTtl(ttlEntry[1]);
    if (parsed === undefined || parsed < MIN_TTL || parsed > MAX_TTL) {
      diagnostics.push({
        object,
        reason: 'InvalidAnnotation',
        message: `${ttlEntry[0]}: "${ttlEntry[1]}" is not a TTL from ${MIN_TTL} to ${MAX_TTL} seconds; using the policy's ttl`,
      });
    } else {
      ttl = parsed;
    }
  }
  let alias: boolean | undefined;
  if (aliasValue !== undefined) {
    const v = aliasValue.trim().toLowerCase();
    if (v === 'false') alias = false;
    else if (v === 'true') alias = true;
    else {
      diagnostics.push({
        object,
        reason: 'InvalidAnnotation',
        message: `${ANNOTATION_ALIAS}: "${aliasValue}" must be "true" or "false"; ignoring it`,
      });
    }
  }
  const targets = targetEntry === undefined ? undefined : splitList(targetEntry[1]);
  return {
    hostnames: hostname === undefined ? [] : splitList(hostname[1]),
    ...(ttl !== undefined ? { ttl } : {}),
    ...(targets !== undefined && targets.length > 0 ? { targets } : {}),
    ...(alias !== undefined ? { alias } : {}),
    diagnostics,
  };
}
