/**
 * Annotations a source object may carry. Every key is read under dnsop's own prefix first and then
 * under external-dns's two prefixes (`external-dns.alpha.kubernetes.io/`, the one most clusters
 * still use, and `external-dns.kubernetes.io/`, its GA name), so objects annotated for external-dns
 * migrate without edits. `dnsop.io/*` wins when both are set.
 */
import type { V1ObjectMeta } from '@kubernetes/client-node';
import type { Diagnostic } from '../endpoint';
import { normaliseName } from '../endpoint';
import { parseDuration } from '../../runtime/duration';

export const DNSOP_PREFIX = 'dnsop.io/';
/** In the order they are read: the first one present wins. */
export const ANNOTATION_PREFIXES = [
  DNSOP_PREFIX,
  'external-dns.alpha.kubernetes.io/',
  'external-dns.kubernetes.io/',
] as const;

export const ANNOTATION_HOSTNAME = 'dnsop.io/hostname';
export const ANNOTATION_INTERNAL_HOSTNAME = 'dnsop.io/internal-hostname';
export const ANNOTATION_TTL = 'dnsop.io/ttl';
export const ANNOTATION_TARGET = 'dnsop.io/target';
export const ANNOTATION_ALIAS = 'dnsop.io/alias';
export const ANNOTATION_CONTROLLER = 'dnsop.io/controller';

/** The controller annotation value that always means "dnsop publishes this object". */
export const DNSOP_CONTROLLER = 'dnsop';

const MIN_TTL = 1;
const MAX_TTL = 604_800;

/** What the annotations of one object ask for. */
export interface RecordAnnotations {
  /** Normalised hostnames, in annotation order, duplicates removed. Empty when none. */
  readonly hostnames: readonly string[];
  /** `internal-hostname`: names for the object's cluster-internal address. Empty when none. */
  readonly internalHostnames: readonly string[];
  readonly ttl?: number;
  /** Normalised targets that replace the ones the object's status would give. */
  readonly targets?: readonly string[];
  /** `alias`: false forces plain records; true asks for an alias (honoured only where a provider can). */
  readonly alias?: boolean;
  readonly diagnostics: readonly Diagnostic[];
}

type Annotations = Readonly<Record<string, string>>;

/** The value of `<prefix><key>` for the first prefix that has it, with the full key found. */
export function readAnnotation(
  annotations: Annotations | undefined,
  key: string,
): { readonly key: string; readonly value: string } | undefined {
  for (const prefix of ANNOTATION_PREFIXES) {
    const value = annotations?.[`${prefix}${key}`];
    if (value !== undefined) return { key: `${prefix}${key}`, value };
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

/**
 * The `controller` annotation check: an object whose controller annotation names neither dnsop
 * nor one of `accepted` belongs to another controller. Returns the diagnostic that says so.
 */
export function otherController(
  meta: V1ObjectMeta | undefined,
  object: string,
  accepted: ReadonlySet<string>,
): Diagnostic | undefined {
  const found = readAnnotation(meta?.annotations, 'controller');
  if (found === undefined) return undefined;
  const value = found.value.trim();
  if (value === DNSOP_CONTROLLER || accepted.has(value)) return undefined;
  return {
    object,
    reason: 'OtherController',
    message: `${found.key}: "${found.value}" names another controller; dnsop publishes objects whose controller annotation is "${[DNSOP_CONTROLLER, ...accepted].join('" or "')}" (flag --controller-name)`,
  };
}

/** Reads one annotation listing targets (`target`), normalised; undefined when absent or empty. */
export function readTargets(annotations: Annotations | undefined): string[] | undefined {
  const found = readAnnotation(annotations, 'target');
  if (found === undefined) return undefined;
  const targets = splitList(found.value);
  return targets.length > 0 ? targets : undefined;
}

function readTtl(annotations: Annotations, object: string, out: Diagnostic[]): number | undefined {
  const found = readAnnotation(annotations, 'ttl');
  if (found === undefined) return undefined;
  const parsed = parseTtl(found.value);
  if (parsed === undefined || parsed < MIN_TTL || parsed > MAX_TTL) {
    out.push({
      object,
      reason: 'InvalidAnnotation',
      message: `${found.key}: "${found.value}" is not a TTL from ${MIN_TTL} to ${MAX_TTL} seconds; using the policy's ttl`,
    });
    return undefined;
  }
  return parsed;
}

function readAlias(
  annotations: Annotations,
  object: string,
  out: Diagnostic[],
): boolean | undefined {
  const found = readAnnotation(annotations, 'alias');
  if (found === undefined) return undefined;
  const v = found.value.trim().toLowerCase();
  if (v === 'false') return false;
  if (v === 'true') return true;
  out.push({
    object,
    reason: 'InvalidAnnotation',
    message: `${found.key}: "${found.value}" must be "true" or "false"; ignoring it`,
  });
  return undefined;
}

/** Parses the record annotations of an object; bad values become diagnostics, never exceptions. */
export function readRecordAnnotations(
  meta: V1ObjectMeta | undefined,
  object: string,
): RecordAnnotations {
  const annotations = meta?.annotations ?? {};
  const diagnostics: Diagnostic[] = [];
  const hostname = readAnnotation(annotations, 'hostname');
  const internal = readAnnotation(annotations, 'internal-hostname');
  const ttl = readTtl(annotations, object, diagnostics);
  const alias = readAlias(annotations, object, diagnostics);
  const targets = readTargets(annotations);
  return {
    hostnames: hostname === undefined ? [] : splitList(hostname.value),
    internalHostnames: internal === undefined ? [] : splitList(internal.value),
    ...(ttl !== undefined ? { ttl } : {}),
    ...(targets !== undefined ? { targets } : {}),
    ...(alias !== undefined ? { alias } : {}),
    diagnostics,
  };
}
