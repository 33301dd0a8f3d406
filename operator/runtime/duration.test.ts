import { DurationError, formatDuration, parseDuration } from './duration';

describe('parseDuration', () => {
  it.each([
    ['100ms', 100],
    ['60s', 60_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1500],
    ['0s', 0],
  ])('parses %s as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['abc', '', '10', '5 m', '-1s', '1d', 'ms'])('rejects %j with a clear error', (text) => {
    expect(() => parseDuration(text)).toThrow(DurationError);
    expect(() => parseDuration(text)).toThrow(/invalid duration/);
  });
});

describe('formatDuration', () => {
  it.each([
    [100, '100ms'],
    [60_000, '1m'],
    [5_000, '5s'],
    [7_200_000, '2h'],
    [0, '0s'],
  ])('formats %d ms as %s and parses back', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
    expect(parseDuration(formatDuration(ms))).toBe(ms);
  });
});
