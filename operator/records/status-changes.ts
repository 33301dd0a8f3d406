/**
 * The record changes DNSPolicy status lists (pure):
 * - `plannedChanges`: what a dry run (or a guard) left unapplied, record by record, capped like
 *   diagnostics, so `dryRun: true` shows the changes themselves and not only their number;
 * - `adoptions`: every record taken over from another registry, newest first, kept across syncs
 *   (capped), so the migration's audit trail stays on the object after the switch.
 * Ownership TXT records are never listed.
 */
import type { AdoptionStatus, PlannedChangeStatus } from '../api/types';
import type { Changes, Endpoint } from './endpoint';
import { batchGroupKey, endpointKey } from './endpoint';
import type { Adoption } from './plan';

export const MAX_STATUS_CHANGES = 50;

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function change(
  action: PlannedChangeStatus['action'],
  ep: Endpoint,
  extra: Partial<PlannedChangeStatus> = {},
): PlannedChangeStatus {
  return {
    action,
    name: ep.name,
    type: ep.type,
    targets: [...ep.targets].sort(),
    ttl: ep.ttl,
    ...(ep.providerSpecific?.alias === true ? { alias: true } : {}),
    ...extra,
  };
}

/** Every record change of a plan, adoptions first, each list by name and type; not capped. */
export function listChanges(
  changes: Changes,
  adopted: readonly Adoption[] = [],
): PlannedChangeStatus[] {
  const records = (list: readonly Endpoint[]): Endpoint[] =>
    list
      .filter((ep) => ep.ownerOf === undefined)
      .sort((a, b) => compare(endpointKey(a), endpointKey(b)));
  const updates = changes.updateNew
    .map((to, i) => ({ to, from: changes.updateOld[i] }))
    .filter(({ to }) => to.ownerOf === undefined)
    .sort((a, b) => compare(endpointKey(a.to), endpointKey(b.to)));
  return [
    ...adopted.map((a) => change('Adopt', a.record, { from: a.from })),
    ...records(changes.create).map((ep) => change('Create', ep)),
    ...updates.map(({ to, from }) =>
      change('Update', to, from ? { previousTargets: [...from.targets].sort() } : {}),
    ),
    ...records(changes.delete).map((ep) => change('Delete', ep)),
  ];
}

/** The adoption history after a sync: the records it adopted (their batch not failed) first. */
export function adoptionHistory(
  previous: readonly AdoptionStatus[] | undefined,
  adopted: readonly Adoption[],
  failedGroups: ReadonlySet<string>,
  now: Date,
): AdoptionStatus[] {
  const fresh = adopted
    .filter((a) => !failedGroups.has(batchGroupKey(a.record)))
    .map((a) => ({
      name: a.record.name,
      type: a.record.type,
      from: a.from,
      time: now.toISOString(),
    }));
  const taken = new Set(fresh.map((a) => `${a.name}/${a.type}`));
  const kept = (previous ?? []).filter((a) => !taken.has(`${a.name}/${a.type}`));
  return [...fresh, ...kept].slice(0, MAX_STATUS_CHANGES);
}
