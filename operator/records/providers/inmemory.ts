/**
 * An in-process DNS provider for trials and tests. One `InMemoryDnsStore` per operator process is
 * injected into the reconciler; policies naming the same `inMemory.zone` share its records, like
 * two policies sharing one hosted zone. It enforces what a real DNS service enforces (a change
 * batch is atomic, a CNAME excludes other records at its name, deletes must match) so plans that
 * would fail against Route 53 fail here too.
 */
import type { Changes, Endpoint } from '../endpoint';
import { batchGroupKey, endpointKey } from '../endpoint';
import { DomainFilter } from '../hostname';
import type { AdjustResult, ApplyResult, FailedGroup, Provider, RecordsOptions } from './provider';
import { policyManages } from './zone-cache';

export interface ZoneChange {
  readonly zone: string;
  readonly changes: Changes;
  readonly at: Date;
}

type Stored = Pick<Endpoint, 'name' | 'type' | 'targets' | 'ttl' | 'providerSpecific'>;

function stored(ep: Endpoint): Stored {
  return {
    name: ep.name,
    type: ep.type,
    targets: [...ep.targets].sort(),
    ttl: ep.ttl,
    ...(ep.providerSpecific ? { providerSpecific: ep.providerSpecific } : {}),
  };
}

class InMemoryZone {
  readonly records = new Map<string, Stored>();
  /** Bumped by every change (what a provider's answer is stable across). */
  version = 0;

  #conflicts(ep: Stored, pending: ReadonlyMap<string, Stored | null>): boolean {
    const types = ['A', 'AAAA', 'CNAME', 'TXT', 'SRV'] as const;
    return types.some((t) => {
      if (t === ep.type || (t !== 'CNAME' && ep.type !== 'CNAME')) return false;
      const key = `${ep.name}/${t}`;
      const next = pending.has(key) ? pending.get(key) : this.records.get(key);
      return next !== undefined && next !== null;
    });
  }

  /** Validates one batch against the zone as it would be after `pending`; returns why it fails. */
  check(group: Changes, pending: Map<string, Stored | null>): string | undefined {
    const exists = (key: string): boolean => {
      const p = pending.get(key);
      return p === undefined ? this.records.has(key) : p !== null;
    };
    for (const ep of [...group.delete, ...group.updateOld]) {
      if (!exists(endpointKey(ep))) return `${endpointKey(ep)} does not exist`;
    }
    for (const ep of group.delete) pending.set(endpointKey(ep), null);
    for (const ep of group.create) {
      if (exists(endpointKey(ep))) return `${endpointKey(ep)} already exists`;
    }
    for (const ep of [...group.create, ...group.updateNew])
      pending.set(endpointKey(ep), stored(ep));
    for (const ep of group.create) {
      if (this.#conflicts(stored(ep), pending))
        return `${ep.name}: a CNAME cannot share its name with another record`;
    }
    return undefined;
  }

  commit(pending: ReadonlyMap<string, Stored | null>): void {
    this.version++;
    for (const [key, value] of pending) {
      if (value === null) this.records.delete(key);
      else this.records.set(key, value);
    }
  }
}

/** The records of every in-memory zone of one operator process. */
export class InMemoryDnsStore {
  readonly #zones = new Map<string, InMemoryZone>();
  readonly #listeners = new Set<(change: ZoneChange) => void>();

  zone(name: string): InMemoryZone {
    let zone = this.#zones.get(name);
    if (zone === undefined) {
      zone = new InMemoryZone();
      this.#zones.set(name, zone);
    }
    return zone;
  }

  /** Every record of a zone (ownership TXT records included), sorted by key. */
  records(zone = ''): Endpoint[] {
    return [...(this.#zones.get(zone)?.records.values() ?? [])].sort((a, b) =>
      endpointKey(a) < endpointKey(b) ? -1 : 1,
    );
  }

  /** Seeds a record directly, as if someone had created it by hand. */
  put(zone: string, ep: Endpoint): void {
    const z = this.zone(zone);
    z.version++;
    z.records.set(endpointKey(ep), stored(ep));
  }

  /** Called after every applied change; returns an unsubscribe function. */
  onChange(listener: (change: ZoneChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  notify(change: ZoneChange): void {
    for (const listener of this.#listeners) listener(change);
  }
}

export interface InMemoryProviderOptions {
  readonly store: InMemoryDnsStore;
  /** The shared zone name; "" is the default zone. */
  readonly zone: string;
  readonly domains: readonly string[];
  readonly excludeDomains?: readonly string[];
}

function groupChanges(changes: Changes): Map<string, Changes & Record<keyof Changes, Endpoint[]>> {
  const groups = new Map<
    string,
    { create: Endpoint[]; updateOld: Endpoint[]; updateNew: Endpoint[]; delete: Endpoint[] }
  >();
  const group = (
    ep: Endpoint,
  ): { create: Endpoint[]; updateOld: Endpoint[]; updateNew: Endpoint[]; delete: Endpoint[] } => {
    const key = batchGroupKey(ep);
    let g = groups.get(key);
    if (g === undefined) {
      g = { create: [], updateOld: [], updateNew: [], delete: [] };
      groups.set(key, g);
    }
    return g;
  };
  changes.create.forEach((ep) => group(ep).create.push(ep));
  changes.delete.forEach((ep) => group(ep).delete.push(ep));
  changes.updateNew.forEach((ep, i) => {
    const g = group(ep);
    g.updateNew.push(ep);
    const old = changes.updateOld[i];
    if (old !== undefined) g.updateOld.push(old);
  });
  return groups;
}

export class InMemoryProvider implements Provider {
  readonly kind = 'inMemory';
  readonly #options: InMemoryProviderOptions;
  readonly #domains: DomainFilter;
  /** The last answer and the zone version it was read at: the same array while nothing changed. */
  #answer: { readonly version: number; readonly endpoints: Endpoint[] } | undefined;

  constructor(options: InMemoryProviderOptions) {
    this.#options = options;
    this.#domains = new DomainFilter(options.domains, options.excludeDomains ?? []);
  }

  /** Like a cloud provider's (zone-cache.ts): the same array while the zone did not change. */
  records(_options?: RecordsOptions): Promise<Endpoint[]> {
    const version = this.#options.store.zone(this.#options.zone).version;
    if (this.#answer?.version !== version)
      this.#answer = {
        version,
        endpoints: this.#options.store
          .records(this.#options.zone)
          .filter((ep) => policyManages(this.#domains, ep)),
      };
    return Promise.resolve(this.#answer.endpoints);
  }

  applyChanges(changes: Changes, _signal?: AbortSignal): Promise<ApplyResult> {
    const zone = this.#options.store.zone(this.#options.zone);
    const groups = [...groupChanges(changes).entries()];
    // Batches that only delete go first, so a record replaced by another type (CNAME -> A) is
    // gone before its successor is created, as in one Route 53 change batch.
    groups.sort(
      ([, a], [, b]) =>
        Number(a.create.length + a.updateNew.length > 0) -
        Number(b.create.length + b.updateNew.length > 0),
    );
    const failed: FailedGroup[] = [];
    let applied = 0;
    const done: Changes = { create: [], updateOld: [], updateNew: [], delete: [] };
    for (const [key, group] of groups) {
      const pending = new Map<string, Stored | null>();
      const problem = zone.check(group, pending);
      if (problem !== undefined) {
        failed.push({ group: key, message: problem });
        continue;
      }
      zone.commit(pending);
      applied += group.create.length + group.updateNew.length + group.delete.length;
      (done.create as Endpoint[]).push(...group.create);
      (done.updateOld as Endpoint[]).push(...group.updateOld);
      (done.updateNew as Endpoint[]).push(...group.updateNew);
      (done.delete as Endpoint[]).push(...group.delete);
    }
    if (applied > 0)
      this.#options.store.notify({ zone: this.#options.zone, changes: done, at: new Date() });
    return Promise.resolve({ applied, failed });
  }

  adjustEndpoints(endpoints: readonly Endpoint[]): AdjustResult {
    return { endpoints, diagnostics: [] };
  }
}
