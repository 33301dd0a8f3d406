/**
 * How every zone-based cloud provider applies planner Changes, beside the port:
 *
 * 1. group: everything about one DNS name in one zone (a record, its ownership TXT(s), both halves
 *    of a type change; creates, updates and deletes alike) is one group, never split across two
 *    requests, so each group is applied atomically;
 * 2. resolve each group against the zone as cached: deletions carry the exact record set the
 *    zone holds (the APIs refuse anything else), deleting what is gone is dropped, creating over
 *    an existing set is a conflict reported without a request;
 * 3. pack whole groups greedily into as few requests as the provider's per-request limits allow
 *    (a group over the limits on its own is reported, never sent);
 * 4. submit; when the provider refuses a request because the zone moved under us, list the zone
 *    once, resolve again and resubmit; a request it still refuses is split in halves until the
 *    refused groups are isolated (O(k log n) requests for k bad groups among n), and only those
 *    are reported.
 * The cached view follows every accepted request; a request whose outcome is unknown (no answer)
 * or a conflict makes the zone's view untrusted, so it is listed again before its next use.
 */
import type { Changes, Endpoint } from '../endpoint';
import { batchGroupKey, endpointKey } from '../endpoint';
import type { FailureKind } from './errors';
import { faultOf } from './errors';
import type { ApplyResult, FailedGroup } from './provider';
import type { ZoneCache, ZoneRef } from './zone-cache';
import { zonesForName } from './zone-cache';

/** What the planner wants done with one DNS name in one zone. */
export interface ChangeIntent {
  readonly zoneId: string;
  /** The batchGroupKeys of the endpoints in this group, sorted (for ApplyResult.failed). */
  readonly groupKeys: readonly string[];
  readonly creates: readonly Endpoint[];
  readonly deletes: readonly Endpoint[];
  /** [old, new]; old is undefined when the planner did not give it. */
  readonly updates: readonly (readonly [Endpoint | undefined, Endpoint])[];
}

/** A group resolved against the zone as cached. */
export interface ResolvedGroup<R> {
  readonly intent: ChangeIntent;
  /** Record sets to remove, exactly as the zone holds them. */
  readonly removals: readonly R[];
  /** Endpoints to create where the zone holds nothing of that name and type. */
  readonly creations: readonly Endpoint[];
  /** Endpoints replacing the set of the same name and type (undefined: none is cached). */
  readonly replacements: readonly (readonly [R | undefined, Endpoint])[];
  /** Why the group cannot be applied to the zone as cached. */
  readonly conflict?: string;
}

/** The provider-specific half of applying changes. */
export interface ChangeDriver<R> {
  /** "hosted zone", "managed zone": how messages name a zone. */
  readonly zoneNoun: string;
  /** What one request may carry, per dimension of `cost`. */
  readonly limits: readonly number[];
  /** A group's cost in the provider's per-request dimensions (same order as `limits`). */
  cost(group: ResolvedGroup<R>): readonly number[];
  /** Human description of a cost vector, for a group too large on its own. */
  describeCost(cost: readonly number[]): string;
  /** The record sets a group leaves behind: removed, and written (for the cached view). */
  effects(group: ResolvedGroup<R>): { removed: readonly R[]; written: readonly R[] };
  /** Submits groups as one atomic request; resolves when applied; throws typed provider errors. */
  submit(zoneId: string, groups: readonly ResolvedGroup<R>[], signal?: AbortSignal): Promise<void>;
}

/** Groups planner changes per zone and DNS name; names in no zone come back as unroutable. */
export function groupIntents(
  changes: Changes,
  zonesFor: (name: string) => readonly string[],
): { intents: ChangeIntent[]; unroutable: Endpoint[] } {
  interface Mutable {
    zoneId: string;
    groupKeys: Set<string>;
    creates: Endpoint[];
    deletes: Endpoint[];
    updates: [Endpoint | undefined, Endpoint][];
  }
  const groups = new Map<string, Mutable>();
  const unroutable: Endpoint[] = [];
  const groupsOf = (ep: Endpoint): Mutable[] => {
    const zoneIds = zonesFor(ep.name);
    if (zoneIds.length === 0) unroutable.push(ep);
    const key = batchGroupKey(ep);
    return zoneIds.map((zoneId) => {
      const id = `${zoneId}\u0000${nameOfKey(key)}`;
      let g = groups.get(id);
      if (g === undefined) {
        g = { zoneId, groupKeys: new Set(), creates: [], deletes: [], updates: [] };
        groups.set(id, g);
      }
      g.groupKeys.add(key);
      return g;
    });
  };
  for (const ep of changes.create) for (const g of groupsOf(ep)) g.creates.push(ep);
  for (const ep of changes.delete) for (const g of groupsOf(ep)) g.deletes.push(ep);
  changes.updateNew.forEach((next, i) => {
    const old = pairedOld(changes, next, i);
    for (const g of groupsOf(next)) g.updates.push([old, next]);
  });
  const intents = [...groups.values()].map((g) => ({ ...g, groupKeys: [...g.groupKeys].sort() }));
  return { intents, unroutable };
}

/** Resolves an intent against the zone as cached (`lookup` by endpointKey). Pure. */
export function resolveIntent<R>(
  intent: ChangeIntent,
  lookup: (key: string) => R | undefined,
): ResolvedGroup<R> {
  const removals: R[] = [];
  const creations: Endpoint[] = [];
  const replacements: [R | undefined, Endpoint][] = [];
  const removed = new Set<string>();
  let conflict: string | undefined;
  const remove = (ep: Endpoint): void => {
    const key = endpointKey(ep);
    const existing = lookup(key);
    if (existing !== undefined && !removed.has(key)) {
      removals.push(existing);
      removed.add(key);
    }
  };
  const create = (ep: Endpoint): void => {
    const key = endpointKey(ep);
    if (lookup(key) !== undefined && !removed.has(key)) {
      conflict ??= `${ep.name} (${ep.type}) already exists in zone ${intent.zoneId}`;
    }
    creations.push(ep);
  };
  for (const ep of intent.deletes) remove(ep);
  for (const [old, next] of intent.updates) {
    if (old === undefined || endpointKey(old) === endpointKey(next)) {
      const key = endpointKey(next);
      replacements.push([removed.has(key) ? undefined : lookup(key), next]);
    } else {
      // A type change (CNAME -> A) cannot be a replacement: delete and create together.
      remove(old);
      create(next);
    }
  }
  for (const ep of intent.creates) create(ep);
  return { intent, removals, creations, replacements, ...(conflict ? { conflict } : {}) };
}

/** Record-level changes (create + update + delete) an intent carries. */
export function endpointCount(intent: ChangeIntent): number {
  return intent.creates.length + intent.deletes.length + intent.updates.length;
}

/**
 * Greedy packing of whole groups into requests within `limits`; a group over the limits on its
 * own cannot be sent and comes back in `oversized`.
 */
export function packGroups<G>(
  groups: readonly G[],
  cost: (group: G) => readonly number[],
  limits: readonly number[],
): { batches: G[][]; oversized: G[] } {
  const batches: G[][] = [];
  const oversized: G[] = [];
  let batch: G[] = [];
  let used = limits.map(() => 0);
  for (const group of groups) {
    const c = cost(group);
    if (!within(c, limits)) {
      oversized.push(group);
      continue;
    }
    const next = used.map((u, i) => u + (c[i] ?? 0));
    if (batch.length > 0 && !within(next, limits)) {
      batches.push(batch);
      batch = [];
      used = [...c];
    } else {
      used = next;
    }
    batch.push(group);
  }
  if (batch.length > 0) batches.push(batch);
  return { batches, oversized };
}

function within(cost: readonly number[], limits: readonly number[]): boolean {
  return limits.every((limit, i) => (cost[i] ?? 0) <= limit);
}

/** Applies planner Changes to a provider's zones with the cache and driver of that provider. */
export class ZoneChangeApplier<Z extends ZoneRef, R> {
  readonly #cache: ZoneCache<Z, R>;
  readonly #driver: ChangeDriver<R>;

  constructor(cache: ZoneCache<Z, R>, driver: ChangeDriver<R>) {
    this.#cache = cache;
    this.#driver = driver;
  }

  async apply(changes: Changes, signal?: AbortSignal): Promise<ApplyResult> {
    const zones = await this.#cache.zones(signal);
    const { intents, unroutable } = groupIntents(changes, (name) =>
      zonesForName(zones, name).map((z) => z.id),
    );
    const failed = new FailedGroups();
    for (const ep of unroutable) {
      failed.add([batchGroupKey(ep)], {
        message: `${ep.name} is in none of the policy's ${this.#driver.zoneNoun}s`,
        permanent: true,
      });
    }
    const byZone = new Map<string, ChangeIntent[]>();
    for (const intent of intents)
      byZone.set(intent.zoneId, [...(byZone.get(intent.zoneId) ?? []), intent]);
    let applied = 0;
    for (const [zoneId, zoneIntents] of byZone) {
      const zone = zones.find((z) => z.id === zoneId)!;
      await this.#cache.ensureLoaded([zone], signal);
      applied += await this.#applyZone(zone, zoneIntents, failed, signal);
    }
    return { applied, failed: failed.list() };
  }

  async #applyZone(
    zone: Z,
    intents: readonly ChangeIntent[],
    failed: FailedGroups,
    signal: AbortSignal | undefined,
  ): Promise<number> {
    const run: ZoneRun<Z> = { zone, reloaded: false, failed, signal };
    let applied = 0;
    for (const batch of this.#resolveAndPack(zone, intents, failed)) {
      applied += await this.#submit(run, batch);
    }
    return applied;
  }

  /** Resolves intents against the cache and packs them; conflicts and oversized groups fail. */
  #resolveAndPack(
    zone: Z,
    intents: readonly ChangeIntent[],
    failed: FailedGroups,
  ): ResolvedGroup<R>[][] {
    const ready: ResolvedGroup<R>[] = [];
    for (const intent of intents) {
      const group = resolveIntent(intent, (key) => this.#cache.lookup(zone.id, key));
      if (group.conflict === undefined) ready.push(group);
      else failed.add(intent.groupKeys, { message: group.conflict, permanent: false });
    }
    const driver = this.#driver;
    const { batches, oversized } = packGroups(ready, (g) => driver.cost(g), driver.limits);
    for (const group of oversized) {
      failed.add(group.intent.groupKeys, {
        message: `the changes for ${group.intent.groupKeys.join(', ')} exceed one request's limits on their own (${driver.describeCost(driver.cost(group))})`,
        permanent: true,
      });
    }
    return batches;
  }

  /** Submits groups as one request; on refusal re-reads once, then isolates by halving. */
  async #submit(run: ZoneRun<Z>, groups: readonly ResolvedGroup<R>[]): Promise<number> {
    const zoneId = run.zone.id;
    let kind: FailureKind;
    let message: string;
    try {
      await this.#driver.submit(zoneId, groups, run.signal);
      for (const g of groups) {
        const { removed, written } = this.#driver.effects(g);
        this.#cache.commit(zoneId, removed, written);
      }
      return groups.reduce((n, g) => n + endpointCount(g.intent), 0);
    } catch (err) {
      const fault = faultOf(err);
      if (fault === undefined || (fault.kind !== 'conflict' && fault.kind !== 'invalid')) {
        // No answer: the change may have been applied. Throttled or refused: it was not.
        if (fault === undefined || fault.kind === 'unavailable') this.#cache.markStale(zoneId);
        throw err;
      }
      kind = fault.kind;
      message = err instanceof Error ? err.message : String(err);
    }
    if (kind === 'conflict' && !run.reloaded) {
      run.reloaded = true;
      await this.#cache.reload(run.zone, run.signal);
      let applied = 0;
      const intents = groups.map((g) => g.intent);
      for (const batch of this.#resolveAndPack(run.zone, intents, run.failed)) {
        applied += await this.#submit(run, batch);
      }
      return applied;
    }
    if (kind === 'conflict') this.#cache.markStale(zoneId);
    if (groups.length === 1) {
      run.failed.add(groups[0]!.intent.groupKeys, { message, permanent: kind === 'invalid' });
      return 0;
    }
    const half = Math.ceil(groups.length / 2);
    return (
      (await this.#submit(run, groups.slice(0, half))) +
      (await this.#submit(run, groups.slice(half)))
    );
  }
}

interface ZoneRun<Z> {
  readonly zone: Z;
  /** The zone was listed again after a conflict (once per apply and zone). */
  reloaded: boolean;
  readonly failed: FailedGroups;
  readonly signal: AbortSignal | undefined;
}

/** Failed groups by batchGroupKey, first reason kept. */
class FailedGroups {
  readonly #byKey = new Map<string, FailedGroup>();

  add(keys: readonly string[], why: { message: string; permanent: boolean }): void {
    for (const group of keys) {
      if (!this.#byKey.has(group)) this.#byKey.set(group, { group, ...why });
    }
  }

  list(): FailedGroup[] {
    return [...this.#byKey.values()];
  }
}

/** The DNS name part of a batch group key ("name/TYPE"). */
function nameOfKey(key: string): string {
  const slash = key.lastIndexOf('/');
  return slash < 0 ? key : key.slice(0, slash);
}

function pairedOld(changes: Changes, next: Endpoint, index: number): Endpoint | undefined {
  if (changes.updateOld.length === changes.updateNew.length) return changes.updateOld[index];
  return changes.updateOld.find((old) => endpointKey(old) === endpointKey(next));
}
