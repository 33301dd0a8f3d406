/**
 * Go-style durations ("100ms", "60s", "5m", "1h30m") as used by the CRDs and CLI flags.
 * Parsed once at the edge into milliseconds; everything inside works with numbers.
 */

/** The pattern the CRDs use for duration fields; kept here so schema and parser agree. */
export const DURATION_PATTERN = '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$';

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const WHOLE = new RegExp(DURATION_PATTERN);
const PART = /([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/g;

export class DurationError extends Error {
  override readonly name = 'DurationError';
}

/** Parses a duration string into milliseconds; throws DurationError with the offending text. */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  if (!WHOLE.test(trimmed)) {
    throw new DurationError(
      `invalid duration "${text}": expected a number with a unit ms, s, m or h (e.g. 100ms, 60s, 5m)`,
    );
  }
  let total = 0;
  for (const match of trimmed.matchAll(PART)) {
    const [, value, unit] = match;
    total += Number(value) * (UNIT_MS[unit ?? ''] ?? 0);
  }
  return total;
}

/** Formats milliseconds back to the shortest exact Go-style string. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
