/**
 * Route 53's half of applying changes (pure): the ChangeResourceRecordSets request a resolved
 * change group becomes, and what it costs against the per-request limits. Grouping, packing and
 * isolation of refused groups are shared with Cloud DNS (zone-changes.ts).
 */
import type { Change, ResourceRecordSet } from '@aws-sdk/client-route-53';
import type { ResolvedGroup } from './zone-changes';
import { recordSetFromEndpoint } from './route53-records';

export interface Route53Limits {
  /** Changes per request (UPSERT counts twice). */
  readonly maxChanges: number;
  /** ResourceRecord elements per request (UPSERT counts twice). */
  readonly maxRecords: number;
  /** Characters of all Value elements per request (UPSERT counts twice). */
  readonly maxValueChars: number;
}

/**
 * Route 53's published ChangeResourceRecordSets limits: at most 1,000 ResourceRecord elements
 * and 32,000 characters of Value elements per request, each counted twice for an UPSERT.
 */
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

/**
 * The changes of one group, deletions first (a type change deletes before it creates): they are
 * built in the order they are sent.
 */
export function route53Changes(group: ResolvedGroup<ResourceRecordSet>): Change[] {
  return [
    ...group.removals.map((rrs): Change => ({ Action: 'DELETE', ResourceRecordSet: rrs })),
    ...group.creations.map((ep): Change => ({
      Action: 'CREATE',
      ResourceRecordSet: recordSetFromEndpoint(ep),
    })),
    ...group.replacements.map(([, ep]): Change => ({
      Action: 'UPSERT',
      ResourceRecordSet: recordSetFromEndpoint(ep),
    })),
  ];
}

/** What changes cost against Route 53's limits, UPSERT counted twice. */
export function costOf(changes: readonly Change[]): BatchCost {
  let cost = { changes: 0, records: 0, chars: 0 };
  for (const change of changes) {
    const weight = change.Action === 'UPSERT' ? 2 : 1;
    const rrs = change.ResourceRecordSet;
    // An alias has no ResourceRecord: counted as one, and its DNS name as its characters,
    // which can only err on the safe side.
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

/** Limits and costs as the vectors the shared packer compares. */
export function limitVector(limits: Route53Limits): number[] {
  return [limits.maxChanges, limits.maxRecords, limits.maxValueChars];
}

export function costVector(cost: BatchCost): number[] {
  return [cost.changes, cost.records, cost.chars];
}

export function describeCostVector([changes, records, chars]: readonly number[]): string {
  return `${changes ?? 0} changes, ${records ?? 0} records, ${chars ?? 0} value characters, UPSERT counted twice`;
}
