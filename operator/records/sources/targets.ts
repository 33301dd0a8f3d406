/**
 * Turns "these names should point at these targets" into Endpoints: IPv4 -> A, IPv6 -> AAAA,
 * a hostname -> CNAME. Invalid names and targets are dropped with a diagnostic, never sent on.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { Diagnostic, Endpoint } from '../endpoint';
import { normaliseName } from '../endpoint';
import { hostnameProblem } from '../hostname';

export interface RecordRequest {
  /** "Kind/namespace/name" of the object asking. */
  readonly object: string;
  readonly names: readonly string[];
  /** IP addresses and/or hostnames, as found on the object. */
  readonly targets: readonly string[];
  readonly ttl: number;
  /** false forces plain records; true asks the provider for an alias where it can make one. */
  readonly alias?: boolean;
}

export interface BuiltEndpoints {
  readonly endpoints: readonly Endpoint[];
  readonly diagnostics: readonly Diagnostic[];
}

/** The canonical text of an IPv6 address (lower case, zeros compressed), so comparisons are stable. */
export function canonicalIPv6(ip: string): string {
  return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
}

export interface ClassifiedTargets {
  readonly ipv4: readonly string[];
  readonly ipv6: readonly string[];
  readonly hostnames: readonly string[];
  readonly invalid: readonly { readonly target: string; readonly problem: string }[];
}

export function classifyTargets(targets: readonly string[]): ClassifiedTargets {
  const ipv4 = new Set<string>();
  const ipv6 = new Set<string>();
  const hostnames = new Set<string>();
  const invalid: { target: string; problem: string }[] = [];
  for (const raw of targets) {
    const target = raw.trim();
    if (target === '') continue;
    if (isIPv4(target)) ipv4.add(target);
    else if (isIPv6(target)) ipv6.add(canonicalIPv6(target));
    else {
      const name = normaliseName(target);
      const problem = hostnameProblem(name, { allowWildcard: false });
      if (problem === undefined) hostnames.add(name);
      else invalid.push({ target, problem });
    }
  }
  const sorted = (s: Set<string>): string[] => [...s].sort();
  return { ipv4: sorted(ipv4), ipv6: sorted(ipv6), hostnames: sorted(hostnames), invalid };
}

/** One record set per (name, type) the targets call for. */
export function buildEndpoints(request: RecordRequest): BuiltEndpoints {
  const { object, ttl } = request;
  const diagnostics: Diagnostic[] = [];
  const names: string[] = [];
  for (const raw of request.names) {
    const name = normaliseName(raw);
    const problem = hostnameProblem(name);
    if (problem === undefined) names.push(name);
    else
      diagnostics.push({
        object,
        reason: 'InvalidHostname',
        message: `"${raw}" skipped: ${problem}`,
      });
  }
  const targets = classifyTargets(request.targets);
  for (const { target, problem } of targets.invalid) {
    diagnostics.push({
      object,
      reason: 'InvalidTarget',
      message: `target "${target}" skipped: ${problem}`,
    });
  }
  const sets: { type: Endpoint['type']; targets: readonly string[] }[] = [];
  if (targets.ipv4.length > 0) sets.push({ type: 'A', targets: targets.ipv4 });
  if (targets.ipv6.length > 0) sets.push({ type: 'AAAA', targets: targets.ipv6 });
  const firstHostname = targets.hostnames[0];
  if (sets.length > 0 && firstHostname !== undefined) {
    diagnostics.push({
      object,
      reason: 'MixedTargets',
      message: `both IP addresses and hostnames are targets; publishing the addresses and ignoring ${targets.hostnames.join(', ')} (a name cannot hold a CNAME and other records)`,
    });
  } else if (firstHostname !== undefined) {
    if (targets.hostnames.length > 1) {
      diagnostics.push({
        object,
        reason: 'MultipleCNAMETargets',
        message: `a CNAME has one target; using ${firstHostname} and ignoring ${targets.hostnames.slice(1).join(', ')}`,
      });
    }
    sets.push({ type: 'CNAME', targets: [firstHostname] });
  }
  const providerSpecific =
    request.alias === undefined ? {} : { providerSpecific: { alias: request.alias } };
  const endpoints: Endpoint[] = [];
  for (const name of names) {
    for (const set of sets) {
      endpoints.push({
        name,
        type: set.type,
        targets: set.targets,
        ttl,
        source: object,
        ...providerSpecific,
      });
    }
  }
  return { endpoints, diagnostics };
}

/** "Kind/namespace/name" — the object reference used in diagnostics, sources and ownership records. */
export function objectRef(
  kind: string,
  meta: { namespace?: string; name?: string } | undefined,
): string {
  return `${kind}/${meta?.namespace ?? ''}/${meta?.name ?? ''}`;
}
