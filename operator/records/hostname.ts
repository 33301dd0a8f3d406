/**
 * DNS name rules shared by sources, planner and registry: RFC 1123 hostnames (lower case,
 * labels of 1..63 letters, digits and inner hyphens, 253 characters at most), an optional
 * leading wildcard label, and the policy's domain filter.
 */
import { normaliseName } from './endpoint';

const LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** Registry TXT labels such as `_dnsop-a` are not hostnames but are valid record names. */
const METADATA_LABEL = /^_[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const MAX_NAME = 253;
/** Fast path: a whole valid name (optionally wildcard) in one regex; the slow path explains why not. */
const VALID_NAME =
  /^(\*\.)?([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)*[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export interface HostnameOptions {
  /** Accept `*.` as the first label (DNS wildcard record). Default true. */
  readonly allowWildcard?: boolean;
  /** Accept labels starting with `_` (registry TXT names). Default false. */
  readonly allowMetadataLabels?: boolean;
}

function isPlainValid(name: string, options: HostnameOptions): boolean {
  if (name.length === 0 || name.length > MAX_NAME || !VALID_NAME.test(name)) return false;
  return !name.startsWith('*.') || (options.allowWildcard ?? true);
}

/**
 * Why `name` (already normalised) is not a valid record name, or undefined when it is.
 * The message is written for a user reading a diagnostic.
 */
export function hostnameProblem(name: string, options: HostnameOptions = {}): string | undefined {
  if (isPlainValid(name, options)) return undefined;
  if (name.length === 0) return 'the name is empty';
  if (name.length > MAX_NAME)
    return `the name has ${name.length} characters; at most ${MAX_NAME} are allowed`;
  const labels = name.split('.');
  for (const [i, label] of labels.entries()) {
    if (label === '*' && i === 0 && labels.length > 1 && (options.allowWildcard ?? true)) continue;
    if (label.length > 63)
      return `label "${label.slice(0, 20)}…" has ${label.length} characters; at most 63 are allowed`;
    if (LABEL.test(label)) continue;
    if (options.allowMetadataLabels === true && METADATA_LABEL.test(label)) continue;
    if (label.length === 0) return 'the name has an empty label';
    if (label === '*') return 'a wildcard "*" is allowed only as the first label';
    return `label "${label}" is not an RFC 1123 label (lower-case letters, digits and inner hyphens)`;
  }
  return undefined;
}

export function isValidHostname(name: string, options: HostnameOptions = {}): boolean {
  return hostnameProblem(name, options) === undefined;
}

/** True when `name` equals `domain` or lies under it. */
export function isNameUnder(name: string, domain: string): boolean {
  return name === domain || name.endsWith(`.${domain}`);
}

/** The policy's `domains` minus its `excludeDomains`. */
export class DomainFilter {
  readonly domains: readonly string[];
  readonly excluded: readonly string[];

  constructor(domains: readonly string[], excluded: readonly string[] = []) {
    this.domains = Object.freeze(domains.map(normaliseName));
    this.excluded = Object.freeze(excluded.map(normaliseName));
  }

  /** True when the name is managed: equal to or under a domain and not equal to or under an exclusion. */
  matches(name: string): boolean {
    return (
      this.domains.some((d) => isNameUnder(name, d)) &&
      !this.excluded.some((d) => isNameUnder(name, d))
    );
  }
}
