import {
  DELETE_WINDOW_MS,
  MAX_DELETE_ENTRIES,
  deletedCount,
  deletesInWindow,
  windowFreesAt,
  withDeletes,
  type DeleteEntry,
} from './delete-history';

const NOW = new Date('2026-11-22T10:00:00Z');
const ago = (ms: number): string => new Date(NOW.getTime() - ms).toISOString();

describe('delete history (the rolling hour of the delete guard)', () => {
  it('keeps only the last hour, each entry once across status and memory, oldest first', () => {
    const status: DeleteEntry[] = [
      { time: ago(DELETE_WINDOW_MS + 1), count: 5 },
      { time: ago(10_000), count: 1 },
    ];
    const memory: DeleteEntry[] = [
      { time: ago(10_000), count: 1 },
      { time: ago(1_000), count: 2 },
    ];
    const entries = deletesInWindow([status, memory, undefined], NOW);
    expect(entries).toEqual([
      { time: ago(10_000), count: 1 },
      { time: ago(1_000), count: 2 },
    ]);
    expect(deletedCount(entries)).toBe(3);
    expect(windowFreesAt(entries)).toEqual(new Date(NOW.getTime() - 10_000 + DELETE_WINDOW_MS));
  });

  it('ignores malformed and empty entries', () => {
    expect(
      deletesInWindow(
        [
          [
            { time: 'nonsense', count: 3 },
            { time: ago(1), count: 0 },
          ],
        ],
        NOW,
      ),
    ).toEqual([]);
  });

  it('adds a sync that deleted records and merges the oldest when full, never losing a count', () => {
    let entries: DeleteEntry[] = [];
    for (let i = 0; i < MAX_DELETE_ENTRIES + 5; i++)
      entries = withDeletes(entries, 1, new Date(NOW.getTime() + i));
    expect(entries).toHaveLength(MAX_DELETE_ENTRIES);
    expect(deletedCount(entries)).toBe(MAX_DELETE_ENTRIES + 5);
    expect(withDeletes(entries, 0, NOW)).toEqual(entries);
  });
});
