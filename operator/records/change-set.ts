/**
 * The change set `dnsop plan --current` prints: what the operator would apply to the zone as it
 * is now, per policy, in DESIGN.md's shape
 *   "changes": {"create": [...], "update": [{"name","type","from","to"}], "delete": [...], "adopt": [...]}
 * Records as in `records`, ownership TXT records (dnsop's and external-dns's) not listed. Pure.
 */
import type { DNSPolicy } from '../api/types';
import type { Diagnostic, Endpoint } from './endpoint';
import { endpointKey } from './endpoint';
import { DomainFilter } from './hostname';
import type { Plan } from './plan';
import { LABEL_RESOURCE, parseOwnershipName } from './registry';

export interface ChangeUpdate<R> {
  readonly name: string;
  readonly type: string;
  readonly from: R;
  readonly to: R;
}

export interface ChangeSet<R> {
  readonly create: readonly R[];
  readonly update: readonly ChangeUpdate<R>[];
  readonly delete: readonly R[];
  readonly adopt: readonly R[];
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const byKey = (a: Endpoint, b: Endpoint): number => compare(endpointKey(a), endpointKey(b));

/** A record read back from the zone names, as its source, the object its ownership TXT names. */
const withSource = (ep: Endpoint): Endpoint =>
  ep.source === undefined && ep.labels?.[LABEL_RESOURCE] !== undefined
    ? { ...ep, source: ep.labels[LABEL_RESOURCE] }
    : ep;

/** The records of a plan's changes, ownership TXT records left out, each list sorted. */
export function changeSetOf<R>(plan: Plan, toRecord: (ep: Endpoint) => R): ChangeSet<R> {
  const records = (list: readonly Endpoint[]): R[] =>
    list
      .filter((ep) => ep.ownerOf === undefined)
      .sort(byKey)
      .map((ep) => toRecord(withSource(ep)));
  const update = plan.changes.updateNew
    .map((to, i) => ({ to, from: plan.changes.updateOld[i]! }))
    .filter(({ to }) => to.ownerOf === undefined)
    .sort((x, y) => byKey(x.to, y.to))
    .map(({ from, to }) => ({
      name: to.name,
      type: to.type,
      from: toRecord(withSource(from)),
      to: toRecord(to),
    }));
  return {
    create: records(plan.changes.create),
    update,
    delete: records(plan.changes.delete),
    adopt: plan.adopted.map((a) => toRecord(a.record)),
  };
}

/** True when the change set changes a record (a pull-request check's "exit 1"). */
export function changesSomething<R>(changes: ChangeSet<R>): boolean {
  return (
    changes.create.length + changes.update.length + changes.delete.length + changes.adopt.length > 0
  );
}

/** A guard that refused the plan, as a diagnostic on the policy (its changes are not applied). */
export function guardDiagnostic(policyKey: string, plan: Plan): Diagnostic | undefined {
  if (plan.guard === undefined) return undefined;
  return {
    object: `DNSPolicy/${policyKey}`,
    reason: plan.guard.reason,
    message: `${plan.guard.message} (the operator would apply none of this policy's changes)`,
  };
}

/**
 * The part of the current zones a policy's provider would list: names under its domains, an
 * ownership TXT by the name of the record it describes.
 */
export function currentForPolicy(current: readonly Endpoint[], policy: DNSPolicy): Endpoint[] {
  const domains = new DomainFilter(policy.spec.domains, policy.spec.excludeDomains ?? []);
  return current.filter((ep) => {
    const described = ep.type === 'TXT' ? parseOwnershipName(ep.name) : undefined;
    return domains.matches(described?.name ?? ep.name);
  });
}
