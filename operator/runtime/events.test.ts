import { microTime } from './events';

describe('microTime', () => {
  it('formats with exactly six fractional digits, as the API server parses MicroTime', () => {
    expect(microTime(new Date('2026-11-22T10:00:00.123Z'))).toBe('2026-11-22T10:00:00.123000Z');
    expect(microTime(new Date('2026-11-22T10:00:00Z'))).toBe('2026-11-22T10:00:00.000000Z');
  });
});
