/**
 * What a cloud API answered to a listing, shared by every provider of one cloud account (one
 * per account, from CloudAccounts; ADR 0010). Fifty policies sharing one hosted zone otherwise
 * list it fifty times a minute, each answer parsed and held on its own.
 *
 * - Single flight: callers asking for the same listing (operation + zone) while it runs share
 *   the one request. It is cancelled only when every caller waiting for it has given up.
 * - Max age: an answer younger than `maxAgeMs` (default 30 s) is reused, so a zone is listed at
 *   most about twice a minute per account however many policies refresh it. A change made outside
 *   this process is therefore seen at most `maxAgeMs` later than a policy's own interval says.
 * - Invalidation: a change this process applies to a zone (or one whose outcome is unknown)
 *   drops the zone's answers, done or in flight, so no one reuses a listing from before it.
 * - Failures are not kept: the next caller lists again.
 * - An answer that reads as the last one did is the last one (the same objects): the providers'
 *   zone caches then see at a glance (by identity) that a periodic listing changed nothing,
 *   instead of each comparing hundreds of record sets (issue 14).
 */
import { isDeepStrictEqual } from 'node:util';
import { untilAborted } from './calls';

/** How long a listing is reused by other providers of the account. */
export const DEFAULT_LISTING_MAX_AGE_MS = 30_000;

export interface SharedListingsOptions {
  readonly maxAgeMs?: number;
  readonly now?: () => number;
}

interface Entry {
  readonly zone: string;
  readonly controller: AbortController;
  readonly promise: Promise<unknown>;
  /** Callers still waiting for the request (one without a signal never gives up). */
  waiting: number;
  settledAt?: number;
}

export class SharedListings {
  readonly #entries = new Map<string, Entry>();
  /** key -> the last answer, kept past its max age to be handed out again while it reads the same. */
  readonly #last = new Map<string, unknown>();
  readonly #maxAgeMs: number;
  readonly #now: () => number;

  constructor(options: SharedListingsOptions = {}) {
    this.#maxAgeMs = options.maxAgeMs ?? DEFAULT_LISTING_MAX_AGE_MS;
    this.#now = options.now ?? Date.now;
  }

  /**
   * The answer to `operation` on `zone` ('' for account-wide listings): a fresh shared one, the
   * one in flight, or a new request made by `load` with a signal of its own.
   */
  read<T>(
    operation: string,
    zone: string,
    load: (signal: AbortSignal) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    this.#dropExpired();
    const key = `${operation}\u0000${zone}`;
    let entry = this.#entries.get(key);
    if (entry === undefined) entry = this.#start(key, zone, load);
    if (entry.settledAt !== undefined) return entry.promise as Promise<T>;
    return this.#join(key, entry, signal) as Promise<T>;
  }

  /** The zone changed (or may have): its answers are no longer reused. */
  invalidate(zone: string): void {
    for (const [key, entry] of this.#entries) if (entry.zone === zone) this.#entries.delete(key);
  }

  /** How many answers are held or in flight (tests and diagnostics). */
  get size(): number {
    return this.#entries.size;
  }

  #start<T>(key: string, zone: string, load: (signal: AbortSignal) => Promise<T>): Entry {
    const controller = new AbortController();
    const entry: Entry = {
      zone,
      controller,
      waiting: 0,
      promise: load(controller.signal).then(
        (value) => {
          if (this.#entries.get(key) === entry) entry.settledAt = this.#now();
          const last = this.#last.get(key);
          if (last !== undefined && isDeepStrictEqual(last, value)) return last as T;
          this.#last.set(key, value);
          return value;
        },
        (err: unknown) => {
          if (this.#entries.get(key) === entry) this.#entries.delete(key);
          throw err;
        },
      ),
    };
    // Every caller awaits it; this only keeps a request nobody waits for any more from being
    // reported as an unhandled rejection.
    entry.promise.catch(() => undefined);
    this.#entries.set(key, entry);
    return entry;
  }

  async #join(key: string, entry: Entry, signal: AbortSignal | undefined): Promise<unknown> {
    entry.waiting += 1;
    try {
      return await untilAborted(entry.promise, signal);
    } finally {
      entry.waiting -= 1;
      if (signal?.aborted === true && entry.waiting === 0 && entry.settledAt === undefined) {
        if (this.#entries.get(key) === entry) this.#entries.delete(key);
        entry.controller.abort(signal.reason);
      }
    }
  }

  #dropExpired(): void {
    const now = this.#now();
    for (const [key, entry] of this.#entries) {
      if (entry.settledAt !== undefined && now - entry.settledAt >= this.#maxAgeMs) {
        this.#entries.delete(key);
      }
    }
  }
}
