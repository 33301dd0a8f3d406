/**
 * The planner: desired endpoints (from sources, shaped by the provider) versus current provider
 * records -> Changes. Pure: it reads its inputs and builds new values, nothing else.
 *
 * Rules, in the order they apply:
 * - only names in the policy's domains are considered, desired or current;
 * - a record whose source object is held (an HTTPRoute whose status lags), or whose source kind's
 *   API is not served right now (a CRD being reinstalled), stays exactly as it is;
 * - several objects wanting one A/AAAA record set (also SRV, TXT) share it: their targets are
 *   merged (round robin), the lowest TTL wins, and `source` lists every object (ADR 0006);
 * - several objects wanting one CNAME or alias differently, or a CNAME and another type at one
 *   name, are a conflict: one wins (the one already published, else A/AAAA over CNAME, else the
 *   first object by name), the others get a RecordConflict diagnostic, nothing flips back and forth;
 * - a record is updated or deleted only when its ownership TXT names this ownerId; a record owned
 *   by another owner or by nobody is never touched, and wanting it is a diagnostic;
 * - adoption (spec.adopt.externalDNS, adoption.ts): a wanted record that external-dns's registry
 *   gives to the named owner is taken over in place: dnsop's ownership TXT is created and
 *   external-dns's removed in the record's own batch, the record is at most updated (never deleted
 *   or recreated); records the policy does not want are never adopted;
 * - Sync creates, updates and deletes; UpsertOnly never deletes; CreateOnly only creates;
 * - guards: no changes at all before the caches are synced; a plan whose deletions, added to
 *   those of the last hour (`recentlyDeleted`), exceed maxDeletePercent of the owned records is
 *   refused whole (DeleteGuard), so deleting one by one does not get round it.
 */
import type { SyncPolicy } from '../api/types';
import type { Changes, Diagnostic, Endpoint, RecordType } from './endpoint';
import { NO_CHANGES, endpointKey, joinSources, sourcesOf } from './endpoint';
import {
  adoptionCandidate,
  foreignClaimDiagnostic,
  notOwnedDiagnostic,
  settleAdoptions,
  staleClaim,
  typeMismatchHint,
  type AdoptionCandidate,
  type AdoptionContext,
  type StaleClaim,
} from './adoption';
import type { ExternalDnsRegistry } from './external-dns-registry';
import type { DomainFilter } from './hostname';
import {
  LABEL_OWNER,
  LABEL_RESOURCE,
  canOwn,
  isSafeOwnershipToken,
  ownershipRecord,
  readRegistry,
  type OwnedTxt,
  type RegistryView,
} from './registry';

export interface PlanInput {
  /** Endpoints the sources want (several may share a key); names already normalised. */
  readonly desired: readonly Endpoint[];
  /** Every record the provider holds under the policy's domains, ownership TXT included. */
  readonly current: readonly Endpoint[];
  readonly ownerId: string;
  readonly policy: SyncPolicy;
  readonly domains: DomainFilter;
  /** Source objects whose owned records must be kept unchanged. */
  readonly held?: readonly string[];
  /** Source kinds whose API is not served right now: every owned record made from one is held. */
  readonly heldKinds?: readonly string[];
  /** False until every cache the policy reads has loaded: nothing is changed then. */
  readonly cachesSynced: boolean;
  /** 0..100 */
  readonly maxDeletePercent: number;
  /** external-dns's registry whose records this policy takes over (spec.adopt.externalDNS). */
  readonly adopt?: ExternalDnsRegistry;
  /** Owned records this policy deleted within the guard's rolling hour (delete-history.ts). */
  readonly recentlyDeleted?: number;
  /**
   * True while the sources are still changing (an event within the policy's sync spacing): owned
   * records that are no longer wanted are kept for now and deleted by a later sync, so a sync
   * started on the first event of a burst (a failover's "old primary loses its label") does not
   * delete what the next event (the new primary) wants back. Replacements are not delayed.
   */
  readonly deletesWait?: boolean;
}

/** A record taken over from another registry by this plan. */
export interface Adoption {
  /** The record as this policy publishes it once the plan is applied. */
  readonly record: Endpoint;
  /** The record as the provider holds it now. */
  readonly current: Endpoint;
  /** The registry and owner it is taken from, e.g. "external-dns owner default". */
  readonly from: string;
}

export type PlanGuard = 'CachesNotSynced' | 'DeleteGuard';

export interface Plan {
  /** What to apply, ownership TXT records included; NO_CHANGES when a guard tripped. */
  readonly changes: Changes;
  readonly diagnostics: readonly Diagnostic[];
  /** Set when a guard refused the plan; `refused` then holds the changes that were not made. */
  readonly guard?: { readonly reason: PlanGuard; readonly message: string };
  readonly refused: Changes;
  /** Owned records that already match what is wanted. */
  readonly inSync: number;
  /** Records (not TXT) the plan creates or updates. */
  readonly recordChanges: number;
  /** Records (not TXT) this owner held before the plan. */
  readonly ownedBefore: number;
  /** Records this plan adopts (their TXT changes are in `changes`); empty when a guard tripped. */
  readonly adopted: readonly Adoption[];
  /** Records (not TXT) the plan deletes, replacements by another type not counted: what the guard counts. */
  readonly deletes: number;
  /** Records (not TXT) no longer wanted whose deletion waits for a later sync (`deletesWait`). */
  readonly deletesWaiting: number;
}

interface Candidate {
  readonly endpoint: Endpoint;
  readonly held: boolean;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function ownerOf(view: RegistryView, key: string): string | undefined {
  return view.ownership.get(key)?.ownership.owner;
}

function sameTargets(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const sa = [...a].sort();
  const sb = [...b].sort();
  return sa.every((t, i) => t === sb[i]);
}

/** True when the provider's record already says what the desired endpoint says. */
export function sameRecord(desired: Endpoint, current: Endpoint): boolean {
  const aliasD = desired.providerSpecific?.alias === true;
  const aliasC = current.providerSpecific?.alias === true;
  if (aliasD !== aliasC) return false;
  if (
    aliasD &&
    desired.providerSpecific.aliasHostedZoneId !== current.providerSpecific?.aliasHostedZoneId
  ) {
    return false;
  }
  return desired.ttl === current.ttl && sameTargets(desired.targets, current.targets);
}

function conflictDiagnostic(loser: Endpoint, winner: Endpoint, why: string): Diagnostic {
  return {
    object: loser.source ?? winner.source ?? '',
    reason: 'RecordConflict',
    message: `${loser.name} ${loser.type}: ${why}; keeping ${winner.type} for ${winner.source ?? 'the published record'}`,
  };
}

/**
 * What a record set says, apart from which object wants it: candidates with the same shape are
 * one record set. Plain address (and SRV, TXT) sets of any targets share one shape: they merge.
 */
function shapeOf(ep: Endpoint): string {
  if (ep.providerSpecific?.alias === true) {
    return `alias ${ep.providerSpecific.aliasHostedZoneId ?? ''} ${ep.targets.join(' ')}`;
  }
  return ep.type === 'CNAME' ? `cname ${ep.targets.join(' ')}` : 'plain';
}

/** One record set from candidates of one shape: every target, the lowest TTL, every source. */
function mergeCandidates(group: readonly Candidate[]): Endpoint {
  const eps = group.map((c) => c.endpoint).sort((a, b) => compare(a.source ?? '', b.source ?? ''));
  const first = eps[0]!;
  const source = joinSources(eps.flatMap((e) => sourcesOf(e.source)));
  return {
    ...first,
    targets: [...new Set(eps.flatMap((e) => e.targets))].sort(),
    ttl: Math.min(...eps.map((e) => e.ttl)),
    ...(source !== '' ? { source } : {}),
  };
}

/**
 * One record set per key. A held (lagging) candidate is the published record: it stays as it is.
 * Otherwise candidates of the same shape merge (several Services or Pods behind one name), and
 * when shapes differ (two CNAME or alias targets) the published shape wins, else the first object
 * by name; the others get a RecordConflict diagnostic.
 */
function resolveSameKey(
  candidates: readonly Candidate[],
  view: RegistryView,
  ownerId: string,
  out: Diagnostic[],
): Candidate {
  const held = candidates.find((c) => c.held);
  if (held !== undefined) {
    const holders = new Set(sourcesOf(held.endpoint.source));
    for (const other of candidates) {
      if (sourcesOf(other.endpoint.source).every((s) => holders.has(s))) continue;
      out.push(
        conflictDiagnostic(
          other.endpoint,
          held.endpoint,
          `the record is held unchanged while ${held.endpoint.source ?? 'its source'} waits for its Gateway status`,
        ),
      );
    }
    return held;
  }
  const key = endpointKey(candidates[0]!.endpoint);
  const published = new Set(
    ownerOf(view, key) === ownerId
      ? sourcesOf(view.records.get(key)?.labels?.[LABEL_RESOURCE])
      : [],
  );
  const groups = new Map<string, Candidate[]>();
  for (const c of candidates) {
    const shape = shapeOf(c.endpoint);
    groups.set(shape, [...(groups.get(shape) ?? []), c]);
  }
  const isPublished = (group: readonly Candidate[]): boolean =>
    group.some((c) => sourcesOf(c.endpoint.source).some((s) => published.has(s)));
  const firstSource = (group: readonly Candidate[]): string =>
    group.map((c) => c.endpoint.source ?? '').sort()[0]!;
  const ranked = [...groups.values()].sort(
    (a, b) =>
      Number(isPublished(b)) - Number(isPublished(a)) || compare(firstSource(a), firstSource(b)),
  );
  const winner = mergeCandidates(ranked[0]!);
  const winners = new Set(sourcesOf(winner.source));
  for (const loser of ranked.flat()) {
    if (sourcesOf(loser.endpoint.source).every((s) => winners.has(s))) continue;
    out.push(
      conflictDiagnostic(
        loser.endpoint,
        winner,
        `also wanted by ${winner.source ?? 'another object'}`,
      ),
    );
  }
  return { endpoint: winner, held: false };
}

/** At one name, a CNAME excludes every other type: keep the published shape, else addresses. */
function resolveSameName(
  candidates: readonly Candidate[],
  view: RegistryView,
  ownerId: string,
  out: Diagnostic[],
): Candidate[] {
  if (candidates.length === 1) return [...candidates];
  const name = candidates[0]!.endpoint.name;
  const publishedTypes = (view.typesAtName.get(name) ?? []).filter(
    (t) => ownerOf(view, `${name}/${t}`) === ownerId,
  );
  const keepCname = publishedTypes.includes('CNAME');
  const winners = candidates.filter((c) => (c.endpoint.type === 'CNAME') === keepCname);
  const first = winners[0]!;
  for (const loser of candidates.filter((c) => !winners.includes(c))) {
    out.push(
      conflictDiagnostic(
        loser.endpoint,
        first.endpoint,
        'a name with a CNAME can hold no other record',
      ),
    );
  }
  return winners;
}

/** The endpoints to publish: held records re-wanted as they are, conflicts resolved. */
function resolveDesired(
  input: PlanInput,
  view: RegistryView,
  out: Diagnostic[],
): Map<string, Candidate> {
  const held = new Set(input.held);
  const heldKinds = new Set(input.heldKinds);
  // `source` names one object or several ("Kind/namespace/name,..."): held if any of them is.
  const isHeld = (source: string | undefined): boolean =>
    sourcesOf(source).some((s) => held.has(s) || heldKinds.has(s.slice(0, s.indexOf('/'))));
  const candidates: Candidate[] = input.desired
    .filter((ep) => input.domains.matches(ep.name) && !isHeld(ep.source))
    .map((endpoint) => ({ endpoint, held: false }));
  for (const [key, record] of view.records) {
    const resource = record.labels?.[LABEL_RESOURCE];
    if (isHeld(resource) && ownerOf(view, key) === input.ownerId) {
      candidates.push({ endpoint: { ...record, source: resource }, held: true });
    }
  }
  const byKey = new Map<string, Candidate[]>();
  for (const c of candidates) {
    const key = endpointKey(c.endpoint);
    const list = byKey.get(key);
    if (list === undefined) byKey.set(key, [c]);
    else list.push(c);
  }
  const byName = new Map<string, Candidate[]>();
  for (const list of byKey.values()) {
    const winner = list.length === 1 ? list[0]! : resolveSameKey(list, view, input.ownerId, out);
    const same = byName.get(winner.endpoint.name);
    if (same === undefined) byName.set(winner.endpoint.name, [winner]);
    else same.push(winner);
  }
  const resolved = new Map<string, Candidate>();
  for (const list of byName.values()) {
    for (const c of resolveSameName(list, view, input.ownerId, out))
      resolved.set(endpointKey(c.endpoint), c);
  }
  return resolved;
}

interface Builder {
  readonly create: Endpoint[];
  readonly updateOld: Endpoint[];
  readonly updateNew: Endpoint[];
  readonly delete: Endpoint[];
  readonly diagnostics: Diagnostic[];
  inSync: number;
  /** Record (not TXT) deletes that replace a record of a conflicting type at a wanted name. */
  replacements: number;
  /** Unwanted records kept because `deletesWait`. */
  waiting: number;
  readonly adoption: AdoptionContext;
  readonly adoptions: AdoptionCandidate[];
  readonly staleClaims: StaleClaim[];
}

const allowsUpdate = (policy: SyncPolicy): boolean => policy !== 'CreateOnly';
const allowsDelete = (policy: SyncPolicy): boolean => policy === 'Sync';

/** The owned records at this name whose type cannot live beside `type` (CNAME vs the rest). */
function blockingRecords(view: RegistryView, name: string, type: RecordType): Endpoint[] {
  const types = view.typesAtName.get(name) ?? [];
  return types
    .filter((t) => t === 'CNAME' || type === 'CNAME')
    .map((t) => view.records.get(`${name}/${t}`)!);
}

function describeOwner(owner: string | undefined): string {
  return owner === undefined ? 'no owner (no dnsop ownership record)' : `owner "${owner}"`;
}

function planCreate(input: PlanInput, view: RegistryView, want: Endpoint, b: Builder): void {
  const key = endpointKey(want);
  const txtOwner = ownerOf(view, key);
  if (txtOwner !== undefined && txtOwner !== input.ownerId) {
    b.diagnostics.push({
      object: want.source ?? '',
      reason: 'OwnedByAnotherOwner',
      message: `${want.name} ${want.type} is claimed by ${describeOwner(txtOwner)}; not creating it`,
    });
    return;
  }
  const blocking = blockingRecords(view, want.name, want.type);
  const foreign = blocking.filter((r) => ownerOf(view, endpointKey(r)) !== input.ownerId);
  if (foreign.length > 0 || (blocking.length > 0 && !allowsUpdate(input.policy))) {
    const r = foreign[0] ?? blocking[0]!;
    const why =
      typeMismatchHint(b.adoption, r) ??
      `a ${r.type} record with ${describeOwner(ownerOf(view, endpointKey(r)))} exists at that name`;
    b.diagnostics.push({
      object: want.source ?? '',
      reason: 'RecordConflict',
      message: `${want.name} ${want.type} cannot be created: ${why}`,
    });
    return;
  }
  const foreignClaim = foreignClaimDiagnostic(b.adoption, want);
  if (foreignClaim !== undefined) {
    b.diagnostics.push(foreignClaim);
    return;
  }
  const stale = staleClaim(b.adoption, want);
  if (stale !== undefined) b.staleClaims.push(stale);
  for (const r of blocking) {
    // Replacing our own record of the other shape (e.g. CNAME -> A after a load balancer change).
    b.delete.push(r);
    const txt = view.ownership.get(endpointKey(r))?.txt;
    if (txt !== undefined) b.delete.push(txt);
    b.replacements++;
  }
  b.create.push(want);
  const existing = view.ownership.get(key);
  if (existing === undefined) b.create.push(ownershipRecord(want, input.ownerId));
  else planTxtRefresh(input, existing, want, b);
}

/** True when an ownership TXT already says what it would say for `want` (compared as parsed). */
function ownershipCurrent(existing: OwnedTxt, want: Endpoint): boolean {
  return (
    (existing.ownership.resource ?? '') ===
    joinSources(sourcesOf(want.source).filter(isSafeOwnershipToken))
  );
}

function planTxtRefresh(input: PlanInput, existing: OwnedTxt, want: Endpoint, b: Builder): void {
  if (!ownershipCurrent(existing, want)) {
    b.updateOld.push(existing.txt);
    b.updateNew.push(ownershipRecord(want, input.ownerId));
  }
}

function planWanted(input: PlanInput, view: RegistryView, want: Endpoint, b: Builder): void {
  const key = endpointKey(want);
  const current = view.records.get(key);
  if (current === undefined) {
    if (canOwn(want.name, want.type)) planCreate(input, view, want, b);
    else
      b.diagnostics.push({
        object: want.source ?? '',
        reason: 'InvalidHostname',
        message: `${want.name}: too long to hold an ownership record beside it`,
      });
    return;
  }
  const owner = ownerOf(view, key);
  if (owner !== input.ownerId) {
    const adoption = canOwn(want.name, want.type)
      ? adoptionCandidate(b.adoption, want, current)
      : undefined;
    if (adoption !== undefined) b.adoptions.push(adoption);
    else b.diagnostics.push(notOwnedDiagnostic(b.adoption, want, current, describeOwner));
    return;
  }
  const stale = staleClaim(b.adoption, current);
  if (stale !== undefined) b.staleClaims.push(stale);
  const owned = view.ownership.get(key)!;
  if (sameRecord(want, current) && ownershipCurrent(owned, want)) {
    b.inSync++;
    return;
  }
  if (!allowsUpdate(input.policy)) return;
  if (!sameRecord(want, current)) {
    b.updateOld.push(current);
    b.updateNew.push(want);
  } else {
    b.inSync++;
  }
  planTxtRefresh(input, owned, want, b);
}

function planUnwanted(
  input: PlanInput,
  view: RegistryView,
  wanted: ReadonlyMap<string, Candidate>,
  b: Builder,
): void {
  if (!allowsDelete(input.policy)) return;
  const deleting = new Set(b.delete.map(endpointKey));
  for (const [key, owned] of view.ownership) {
    if (owned.ownership.owner !== input.ownerId || wanted.has(key)) continue;
    if (deleting.has(key) || !input.domains.matches(key.slice(0, key.lastIndexOf('/')))) continue;
    const record = view.records.get(key);
    if (input.deletesWait === true) {
      if (record !== undefined) b.waiting++;
      continue;
    }
    if (record !== undefined) b.delete.push(record);
    b.delete.push(owned.txt);
  }
}

/** Takes over the adoptable records: dnsop's TXT in, external-dns's out, the record updated in place. */
function planAdoptions(input: PlanInput, b: Builder): Adoption[] {
  const settled = settleAdoptions(b.adoption, b.adoptions, b.staleClaims);
  b.diagnostics.push(...settled.diagnostics);
  for (const { want, current } of settled.adopted) {
    b.create.push(ownershipRecord(want, input.ownerId));
    if (sameRecord(want, current)) b.inSync++;
    else if (allowsUpdate(input.policy)) {
      b.updateOld.push(current);
      b.updateNew.push(want);
    }
  }
  b.delete.push(...settled.removals.delete);
  b.updateOld.push(...settled.removals.updateOld);
  b.updateNew.push(...settled.removals.updateNew);
  return settled.adopted.map((a) => ({
    record: a.want,
    current: a.current,
    from: `external-dns owner ${a.claim.owner}`,
  }));
}

function recordsOnly(list: readonly Endpoint[]): number {
  return list.filter((e) => e.ownerOf === undefined).length;
}

/** Sorts by endpointKey, computing each key once. */
function sortedByKey<T>(items: readonly T[], keyOf: (item: T) => string): T[] {
  return items
    .map((item) => ({ item, key: keyOf(item) }))
    .sort((a, b) => compare(a.key, b.key))
    .map((d) => d.item);
}

function sortChanges(changes: Changes): Changes {
  const pairs = sortedByKey(
    changes.updateOld.map((old, i) => [old, changes.updateNew[i]!] as const),
    (p) => endpointKey(p[1]),
  );
  return {
    create: sortedByKey(changes.create, endpointKey),
    updateOld: pairs.map((p) => p[0]),
    updateNew: pairs.map((p) => p[1]),
    delete: sortedByKey(changes.delete, endpointKey),
  };
}

/**
 * The delete guard over a rolling hour: the records deleted in the last hour plus those this plan
 * deletes, against what the policy owned before them. One deletion an hour is always allowed
 * (unless deletes are off entirely), so a policy with one or two records can still clean up.
 */
function deleteGuardMessage(input: PlanInput, deletes: number, owned: number): string | undefined {
  if (deletes === 0) return undefined;
  const recent = input.recentlyDeleted ?? 0;
  const total = recent + deletes;
  const base = owned + recent;
  if (total === 1 && input.maxDeletePercent > 0) return undefined;
  if (total * 100 <= input.maxDeletePercent * base) return undefined;
  const percent = Math.round((total * 100) / base);
  const window = recent > 0 ? ` (${deletes} now + ${recent} already deleted in the last hour)` : '';
  return `refusing to delete ${total} of ${base} owned records within an hour${window}: ${percent}% > maxDeletePercent ${input.maxDeletePercent}%; raise spec.maxDeletePercent if this is intended, or wait for earlier deletions to leave the one-hour window`;
}

/** Computes the changes that bring the provider to what the policy wants. */
export function planChanges(input: PlanInput): Plan {
  const diagnostics: Diagnostic[] = [];
  const view = readRegistry(input.current);
  const wanted = resolveDesired(input, view, diagnostics);
  const b: Builder = {
    create: [],
    updateOld: [],
    updateNew: [],
    delete: [],
    diagnostics,
    inSync: 0,
    replacements: 0,
    waiting: 0,
    adoption: { view, ownerId: input.ownerId, adopt: input.adopt },
    adoptions: [],
    staleClaims: [],
  };
  const ordered = [...wanted.keys()].sort();
  for (const key of ordered) planWanted(input, view, wanted.get(key)!.endpoint, b);
  planUnwanted(input, view, wanted, b);
  const adopted = planAdoptions(input, b);

  const changes = sortChanges(b);
  const ownedBefore = [...view.ownership.entries()].filter(
    ([key, o]) => o.ownership.owner === input.ownerId && view.records.has(key),
  ).length;
  const recordChanges = recordsOnly(changes.create) + recordsOnly(changes.updateNew);
  const deletes = recordsOnly(changes.delete) - b.replacements;
  const base = {
    diagnostics,
    inSync: b.inSync,
    recordChanges,
    ownedBefore,
    adopted: [],
    deletes,
    deletesWaiting: b.waiting,
  };
  const hasChanges = changes.create.length + changes.updateNew.length + changes.delete.length > 0;
  if (!input.cachesSynced && hasChanges) {
    return {
      ...base,
      changes: NO_CHANGES,
      refused: changes,
      guard: {
        reason: 'CachesNotSynced',
        message: 'waiting for the caches to load before changing any record',
      },
    };
  }
  const guardMessage = deleteGuardMessage(input, deletes, ownedBefore);
  if (guardMessage !== undefined) {
    return {
      ...base,
      changes: NO_CHANGES,
      refused: changes,
      guard: { reason: 'DeleteGuard', message: guardMessage },
    };
  }
  return { ...base, changes, refused: NO_CHANGES, adopted };
}

/** The owner label the registry attached to a record read back from the provider. */
export function recordOwner(ep: Endpoint): string | undefined {
  return ep.labels?.[LABEL_OWNER];
}
