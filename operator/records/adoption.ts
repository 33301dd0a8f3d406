/**
 * Adoption: taking over, in place, records that external-dns's TXT registry gives to one owner
 * (spec.adopt.externalDNS). Pure; the planner (plan.ts) calls it for every wanted record that
 * exists without dnsop's ownership, then once more to settle the whole plan.
 *
 * An adopted record keeps its record set: dnsop's ownership TXT is created and external-dns's TXT
 * records for it are removed in the record's own batch (every change carries `ownerOf`), and the
 * record is at most updated in place. A legacy TXT (no type in its name) that still gives another
 * record at that name to external-dns cannot go; the adoption then waits (diagnostic
 * AdoptionBlocked) rather than leave a record that two registries both believe they own.
 */
import type { Diagnostic, Endpoint } from './endpoint';
import { endpointKey } from './endpoint';
import {
  EXTERNAL_DNS_DEFAULTS,
  externalDnsClaim,
  removalOf,
  txtKey,
  type ExternalDnsClaim,
  type ExternalDnsRegistry,
} from './external-dns-registry';
import type { RegistryView } from './registry';

export interface AdoptionContext {
  readonly view: RegistryView;
  /** This policy's ownerId. */
  readonly ownerId: string;
  /** spec.adopt.externalDNS; undefined: nothing is adopted (claims are still read for hints). */
  readonly adopt: ExternalDnsRegistry | undefined;
}

/** A wanted record external-dns's registry gives to the adopted owner. */
export interface AdoptionCandidate {
  readonly want: Endpoint;
  readonly current: Endpoint;
  readonly claim: ExternalDnsClaim;
}

/** A record dnsop owns or creates whose orphaned external-dns claim (adopted owner) must go. */
export interface StaleClaim {
  readonly key: string;
  readonly claim: ExternalDnsClaim;
}

/** TXT changes of a plan's adoptions and stale claims; every endpoint carries `ownerOf`. */
export interface ClaimRemovals {
  readonly delete: readonly Endpoint[];
  readonly updateOld: readonly Endpoint[];
  readonly updateNew: readonly Endpoint[];
}

const dnsopOwner = (ctx: AdoptionContext, key: string): string | undefined =>
  ctx.view.ownership.get(key)?.ownership.owner;

/** external-dns's claim on a record, read with spec.adopt's settings or external-dns's defaults. */
export function claimOf(
  ctx: AdoptionContext,
  record: Pick<Endpoint, 'name' | 'type' | 'providerSpecific'>,
): ExternalDnsClaim | undefined {
  return externalDnsClaim(record, ctx.adopt ?? EXTERNAL_DNS_DEFAULTS, (name) =>
    ctx.view.records.get(txtKey(name)),
  );
}

function adoptable(ctx: AdoptionContext, claim: ExternalDnsClaim | undefined): boolean {
  return ctx.adopt !== undefined && claim !== undefined && claim.owner === ctx.adopt.ownerId;
}

/** The adoption of `current` for `want`, when it has no dnsop owner and external-dns gives it to spec.adopt's owner. */
export function adoptionCandidate(
  ctx: AdoptionContext,
  want: Endpoint,
  current: Endpoint,
): AdoptionCandidate | undefined {
  if (ctx.adopt === undefined || dnsopOwner(ctx, endpointKey(want)) !== undefined) return undefined;
  const claim = claimOf(ctx, current);
  return claim !== undefined && adoptable(ctx, claim) ? { want, current, claim } : undefined;
}

/** An orphaned claim of the adopted owner on a record dnsop owns or is about to create. */
export function staleClaim(
  ctx: AdoptionContext,
  record: Pick<Endpoint, 'name' | 'type' | 'providerSpecific'>,
): StaleClaim | undefined {
  if (ctx.adopt === undefined) return undefined;
  const claim = claimOf(ctx, record);
  return claim !== undefined && adoptable(ctx, claim)
    ? { key: endpointKey(record), claim }
    : undefined;
}

/**
 * Before creating a record: a claim on it by another external-dns owner refuses the create (that
 * external-dns would take the new record for its own); undefined when the create may go ahead.
 */
export function foreignClaimDiagnostic(
  ctx: AdoptionContext,
  want: Endpoint,
): Diagnostic | undefined {
  if (ctx.adopt === undefined) return undefined;
  const claim = claimOf(ctx, want);
  if (claim === undefined || adoptable(ctx, claim)) return undefined;
  return {
    object: want.source ?? '',
    reason: 'OwnedByAnotherOwner',
    message: `${want.name} ${want.type} is claimed by external-dns owner "${claim.owner}" (spec.adopt.externalDNS.ownerId is "${ctx.adopt.ownerId}"); not creating it`,
  };
}

/**
 * Why a wanted record that exists without this policy's ownership is left alone, naming
 * external-dns's owner when its registry claims the record.
 */
export function notOwnedDiagnostic(
  ctx: AdoptionContext,
  want: Endpoint,
  current: Endpoint,
  describeOwner: (owner: string | undefined) => string,
): Diagnostic {
  const owner = dnsopOwner(ctx, endpointKey(want));
  const claim = owner === undefined ? claimOf(ctx, current) : undefined;
  const what = `${want.name} ${want.type}`;
  if (claim === undefined) {
    return {
      object: want.source ?? '',
      reason: owner === undefined ? 'NotOwned' : 'OwnedByAnotherOwner',
      message: `${what} exists with ${describeOwner(owner)}; dnsop leaves it alone`,
    };
  }
  const hint =
    ctx.adopt === undefined
      ? 'set spec.adopt.externalDNS to take it over'
      : `spec.adopt.externalDNS.ownerId is "${ctx.adopt.ownerId}"`;
  return {
    object: want.source ?? '',
    reason: 'OwnedByAnotherOwner',
    message: `${what} is owned by external-dns owner "${claim.owner}" (${hint}); dnsop leaves it alone`,
  };
}

/** A hint for a record that cannot be created because `blocker` (another type) holds its name. */
export function typeMismatchHint(ctx: AdoptionContext, blocker: Endpoint): string | undefined {
  if (!adoptable(ctx, claimOf(ctx, blocker))) return undefined;
  return `external-dns published it as ${blocker.type}, and adoption never replaces a record; make the policy want a ${blocker.type} there (for a load balancer hostname: dnsop.io/alias: "false") to adopt it`;
}

/** The record (other than a released one) that still takes its owner from this legacy TXT. */
function legacyDependent(
  ctx: AdoptionContext,
  legacy: Endpoint,
  recordName: string,
  releasing: ReadonlySet<string>,
): Endpoint | undefined {
  for (const type of ctx.view.typesAtName.get(recordName) ?? []) {
    const key = `${recordName}/${type}`;
    const record = ctx.view.records.get(key);
    if (releasing.has(key) || record === undefined || type === 'TXT') continue;
    const first = claimOf(ctx, record)?.txts[0];
    if (first !== undefined && endpointKey(first.txt) === endpointKey(legacy)) return record;
  }
  return undefined;
}

function releasingKeys(
  ctx: AdoptionContext,
  candidates: readonly AdoptionCandidate[],
  stale: readonly StaleClaim[],
): Set<string> {
  const keys = new Set([...candidates.map((c) => endpointKey(c.want)), ...stale.map((s) => s.key)]);
  for (const [key, owned] of ctx.view.ownership) {
    if (owned.ownership.owner === ctx.ownerId) keys.add(key);
  }
  return keys;
}

function blockedBy(
  ctx: AdoptionContext,
  claim: ExternalDnsClaim,
  key: string,
  releasing: ReadonlySet<string>,
): { legacy: Endpoint; dependent: Endpoint } | undefined {
  const recordName = key.slice(0, key.lastIndexOf('/'));
  for (const found of claim.txts) {
    if (found.format !== 'legacy') continue;
    const dependent = legacyDependent(ctx, found.txt, recordName, releasing);
    if (dependent !== undefined) return { legacy: found.txt, dependent };
  }
  return undefined;
}

export interface SettledAdoptions {
  readonly adopted: readonly AdoptionCandidate[];
  readonly diagnostics: readonly Diagnostic[];
  readonly removals: ClaimRemovals;
}

/**
 * Settles a plan's adoptions: drops those whose legacy TXT another record still needs (until
 * none is left to drop), and lists the TXT changes that end external-dns's ownership of the
 * adopted records and of the stale claims.
 */
export function settleAdoptions(
  ctx: AdoptionContext,
  candidates: readonly AdoptionCandidate[],
  stale: readonly StaleClaim[],
): SettledAdoptions {
  let adopted = [...candidates];
  const diagnostics: Diagnostic[] = [];
  for (let changed = true; changed;) {
    const releasing = releasingKeys(ctx, adopted, stale);
    const keep = adopted.filter((c) => {
      const blocked = blockedBy(ctx, c.claim, endpointKey(c.want), releasing);
      if (blocked !== undefined) {
        diagnostics.push({
          object: c.want.source ?? '',
          reason: 'AdoptionBlocked',
          message: `${c.want.name} ${c.want.type} is not adopted yet: external-dns's legacy ownership record ${blocked.legacy.name} also gives it the ${blocked.dependent.type} record there; adopt that record too, or let external-dns (v0.12 or later) write its "${blocked.dependent.type.toLowerCase()}-" record first`,
        });
      }
      return blocked === undefined;
    });
    changed = keep.length !== adopted.length;
    adopted = keep;
  }
  return { adopted, diagnostics, removals: claimRemovals(ctx, adopted, stale) };
}

function claimRemovals(
  ctx: AdoptionContext,
  adopted: readonly AdoptionCandidate[],
  stale: readonly StaleClaim[],
): ClaimRemovals {
  const out = {
    delete: [] as Endpoint[],
    updateOld: [] as Endpoint[],
    updateNew: [] as Endpoint[],
  };
  const claims = [...adopted.map((c) => ({ key: endpointKey(c.want), claim: c.claim })), ...stale];
  const releasing = releasingKeys(ctx, adopted, stale);
  const done = new Set<string>();
  for (const { key, claim } of claims) {
    const recordName = key.slice(0, key.lastIndexOf('/'));
    for (const found of claim.txts) {
      const id = endpointKey(found.txt);
      if (done.has(id)) continue;
      if (found.format === 'legacy' && legacyDependent(ctx, found.txt, recordName, releasing))
        continue;
      done.add(id);
      const change = removalOf(found.txt, claim.owner, key);
      if (change.delete !== undefined) out.delete.push(change.delete);
      if (change.update !== undefined) {
        out.updateOld.push(change.update[0]);
        out.updateNew.push(change.update[1]);
      }
    }
  }
  return out;
}
