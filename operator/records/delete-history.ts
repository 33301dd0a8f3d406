/**
 * The delete guard's memory: how many owned records a policy deleted over the last hour, kept in
 * its status (`status.recentDeletes`) so a restart or a failover to another replica does not
 * forget it. Pure: the reconciler passes `now` in and writes back what these return.
 */
export interface DeleteEntry {
  /** RFC 3339 time of the sync that deleted the records. */
  readonly time: string;
  /** Records (not ownership TXT) deleted by that sync. */
  readonly count: number;
}

/** The guard counts deletions over this rolling window. */
export const DELETE_WINDOW_MS = 3_600_000;
/** At most this many entries are kept (the CRD's maxItems); older ones are merged. */
export const MAX_DELETE_ENTRIES = 60;

const timeOf = (e: DeleteEntry): number => Date.parse(e.time);

/** Entries still inside the window ending at `now`, oldest first, each (time, count) once. */
export function deletesInWindow(
  histories: readonly (readonly DeleteEntry[] | undefined)[],
  now: Date,
): DeleteEntry[] {
  const since = now.getTime() - DELETE_WINDOW_MS;
  const unique = new Map<string, DeleteEntry>();
  for (const history of histories) {
    for (const e of history ?? []) {
      if (Number.isFinite(timeOf(e)) && timeOf(e) > since && e.count > 0)
        unique.set(`${e.time}|${e.count}`, { time: e.time, count: e.count });
    }
  }
  return [...unique.values()].sort((a, b) => timeOf(a) - timeOf(b));
}

/** Records deleted within the window. */
export function deletedCount(entries: readonly DeleteEntry[]): number {
  return entries.reduce((n, e) => n + e.count, 0);
}

/**
 * The history after a sync deleted `count` records at `now`. When full, the two oldest entries
 * merge into one at the later time: the merged deletions then count a little longer, never less.
 */
export function withDeletes(
  entries: readonly DeleteEntry[],
  count: number,
  now: Date,
): DeleteEntry[] {
  const out = count > 0 ? [...entries, { time: now.toISOString(), count }] : [...entries];
  while (out.length > MAX_DELETE_ENTRIES) {
    const [a, b] = out.splice(0, 2) as [DeleteEntry, DeleteEntry];
    out.unshift({ time: b.time, count: a.count + b.count });
  }
  return out;
}

/** When the oldest counted deletion leaves the window (the guard may then allow more). */
export function windowFreesAt(entries: readonly DeleteEntry[]): Date | undefined {
  const oldest = entries[0];
  return oldest === undefined ? undefined : new Date(timeOf(oldest) + DELETE_WINDOW_MS);
}
