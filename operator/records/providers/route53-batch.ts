/**
 * Turns planner Changes into Route 53 ChangeResourceRecordSets batches (pure).
 *
 * Everything about one DNS name (a record, its ownership TXT, the delete half of a type change)
 * forms one change group that is never split across batches; groups are packed greedily into
 * batches within Route 53's per-request limits.
 */
import type { Change, ResourceRecordSet } from '@aws-sdk/client-route-53';
import type { Changes, Endpoint } from '../endpoint';
import { batchGroupKey, endpointKey } from '../endpoint';
import type { FailedGroup } from './provider';
import { recordSetFromEndpoint } from './route53-records';
import type { Route53Zone } from './route53-zones';
import { zonesForName } from './route53-zones';

export interface Route53Limits {
  /** Changes per request (UPSERT counts twice). */
  readonly maxChanges: number;
  /** ResourceRecord elements per request (UPSERT counts twice). */
  readonly maxRecords: number;
  /** Characters of all Value elements per request (UPSERT counts twice). */
  readonly maxValueChars: number;
}

/** Route 53's published ChangeResourceRecordSets limits. */
export const ROUTE53_LIMITS: Route53Limits = Object.freeze({
  maxChanges: 1000,
  maxRecords: 1000,
  maxValueChars: 32_000,
});

export interface BatchCost {
  readonly changes: number;
  readonly records: number;
  readonly chars: number;
}

export interface ChangeGroup {
  readonly zoneId: string;
  /** The batchGroupKeys of the endpoints in this group, for ApplyResult.failed. */
  readonly groupKeys: readonly string[];
  readonly changes: readonly Change[];
  /** Endpoint-level changes (create + update + delete) this group carries. */
  readonly endpointCount: number;
  readonly cost: BatchCost;
}

export interface ZoneChangePlan {
  /** Change groups per zone id. */
  readonly byZone: ReadonlyMap<string, readonly ChangeGroup[]>;
  /** Endpoints whose name falls in none of the policy's zones. */
  readonly unroutable: readonly FailedGroup[];
}

type Lookup = (zoneId: string, key: string) => ResourceRecordSet | undefined;

const ACTION_ORDER: Record<string, number> = { DELETE: 0, CREATE: 1, UPSERT: 2 };

interface MutableGroup {
  zoneId: string;
  groupKeys: Set<string>;
  changes: Change[];
  endpointCount: number;
}

export function buildZoneChanges(
  changes: Changes,
  zones: readonly Route53Zone[],
  current: Lookup,
): ZoneChangePlan {
  const groups = new Map<string, MutableGroup>();
  const unroutable = new Map<string, FailedGroup>();

  const add = (ep: Endpoint, action: 'CREATE' | 'DELETE' | 'UPSERT', counts: boolean): void => {
    const key = batchGroupKey(ep);
    const targets = zonesForName(zones, ep.name);
    if (targets.length === 0) {
      unroutable.set(key, {
        group: key,
        message: `${ep.name} is in none of the policy's hosted zones`,
      });
      return;
    }
    for (const zone of targets) {
      const id = `${zone.id}\u0000${groupName(key)}`;
      let group = groups.get(id);
      if (!group) {
        group = { zoneId: zone.id, groupKeys: new Set(), changes: [], endpointCount: 0 };
        groups.set(id, group);
      }
      group.groupKeys.add(key);
      const rrs =
        action === 'DELETE'
          ? (current(zone.id, endpointKey(ep)) ?? recordSetFromEndpoint(ep))
          : recordSetFromEndpoint(ep);
      group.changes.push({ Action: action, ResourceRecordSet: rrs });
    }
    if (counts) {
      for (const zone of targets) {
        const group = groups.get(`${zone.id}\u0000${groupName(key)}`);
        if (group) group.endpointCount += 1;
      }
    }
  };

  for (const ep of changes.create) add(ep, 'CREATE', true);
  for (const ep of changes.delete) add(ep, 'DELETE', true);
  changes.updateNew.forEach((next, i) => {
    const old = pairedOld(changes, next, i);
    if (old === undefined || endpointKey(old) === endpointKey(next)) {
      add(next, 'UPSERT', true);
    } else {
      // A type change (e.g. CNAME -> alias A) cannot be an UPSERT: delete and create together.
      add(old, 'DELETE', false);
      add(next, 'CREATE', true);
    }
  });

  const byZone = new Map<string, ChangeGroup[]>();
  for (const g of groups.values()) {
    const sorted = [...g.changes].sort(
      (a, b) => (ACTION_ORDER[a.Action ?? ''] ?? 9) - (ACTION_ORDER[b.Action ?? ''] ?? 9),
    );
    const group: ChangeGroup = {
      zoneId: g.zoneId,
      groupKeys: [...g.groupKeys].sort(),
      changes: sorted,
      endpointCount: g.endpointCount,
      cost: costOf(sorted),
    };
    const list = byZone.get(g.zoneId) ?? [];
    list.push(group);
    byZone.set(g.zoneId, list);
  }
  return { byZone, unroutable: [...unroutable.values()] };
}

/** Greedy packing of whole groups into batches that each respect the limits. */
export function packBatches(
  groups: readonly ChangeGroup[],
  limits: Route53Limits = ROUTE53_LIMITS,
): ChangeGroup[][] {
  const batches: ChangeGroup[][] = [];
  let batch: ChangeGroup[] = [];
  let used: BatchCost = { changes: 0, records: 0, chars: 0 };
  for (const group of groups) {
    const next = {
      changes: used.changes + group.cost.changes,
      records: used.records + group.cost.records,
      chars: used.chars + group.cost.chars,
    };
    if (batch.length > 0 && !fits(next, limits)) {
      batches.push(batch);
      batch = [];
      used = group.cost;
    } else {
      used = next;
    }
    // A group too large on its own still goes alone: Route 53 rejects it and it is reported.
    batch.push(group);
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

export function costOf(changes: readonly Change[]): BatchCost {
  let cost = { changes: 0, records: 0, chars: 0 };
  for (const change of changes) {
    const weight = change.Action === 'UPSERT' ? 2 : 1;
    const rrs = change.ResourceRecordSet;
    const values = rrs?.AliasTarget
      ? [rrs.AliasTarget.DNSName ?? '']
      : (rrs?.ResourceRecords ?? []).map((r) => r.Value ?? '');
    cost = {
      changes: cost.changes + weight,
      records: cost.records + weight * Math.max(1, values.length),
      chars: cost.chars + weight * values.reduce((n, v) => n + v.length, 0),
    };
  }
  return cost;
}

function fits(cost: BatchCost, limits: Route53Limits): boolean {
  return (
    cost.changes <= limits.maxChanges &&
    cost.records <= limits.maxRecords &&
    cost.chars <= limits.maxValueChars
  );
}

/** The DNS name part of a batch group key ("name/TYPE"). */
function groupName(key: string): string {
  const slash = key.lastIndexOf('/');
  return slash < 0 ? key : key.slice(0, slash);
}

function pairedOld(changes: Changes, next: Endpoint, index: number): Endpoint | undefined {
  if (changes.updateOld.length === changes.updateNew.length) return changes.updateOld[index];
  return changes.updateOld.find((old) => endpointKey(old) === endpointKey(next));
}
