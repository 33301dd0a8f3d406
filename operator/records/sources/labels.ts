/** Kubernetes label selector semantics (metav1.LabelSelector and the plain map of Service.spec.selector). */
import type { V1LabelSelector } from '@kubernetes/client-node';

export type Labels = Readonly<Record<string, string>>;

/**
 * True when the labels satisfy the selector. An omitted selector selects everything, as does `{}`
 * (the Kubernetes meaning of an empty LabelSelector).
 */
export function matchesLabelSelector(
  selector: V1LabelSelector | undefined,
  labels: Labels | undefined,
): boolean {
  if (selector === undefined) return true;
  const have = labels ?? {};
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (have[key] !== value) return false;
  }
  for (const req of selector.matchExpressions ?? []) {
    const value = have[req.key];
    const values = req.values ?? [];
    switch (req.operator) {
      case 'In':
        if (value === undefined || !values.includes(value)) return false;
        break;
      case 'NotIn':
        if (value !== undefined && values.includes(value)) return false;
        break;
      case 'Exists':
        if (value === undefined) return false;
        break;
      case 'DoesNotExist':
        if (value !== undefined) return false;
        break;
      default:
        // An unknown operator selects nothing: safer than selecting everything.
        return false;
    }
  }
  return true;
}

/** Service.spec.selector: every pair must match; an empty map selects nothing (Kubernetes semantics). */
export function matchesMapSelector(
  selector: Labels | undefined,
  labels: Labels | undefined,
): boolean {
  if (selector === undefined) return false;
  const entries = Object.entries(selector);
  if (entries.length === 0) return false;
  const have = labels ?? {};
  return entries.every(([key, value]) => have[key] === value);
}

/** Index values "namespace/key=value" for each label, the key shape both label indexes use. */
export function labelPairKeys(namespace: string, labels: Labels | undefined): string[] {
  return Object.entries(labels ?? {}).map(([k, v]) => `${namespace}/${k}=${v}`);
}
