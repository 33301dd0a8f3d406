import { API_RETURN_HOLD_MS, resyncAfterHoldMs } from './objects';

describe('resyncAfterHoldMs: one more resync of every policy when an API-return hold ends', () => {
  const now = 1_000_000;

  it('none for a cache that turns synced at start-up (nothing is held)', () => {
    expect(resyncAfterHoldMs('synced', undefined, now)).toBeUndefined();
  });

  it('when the hold of an API served again ends, a second later', () => {
    expect(resyncAfterHoldMs('synced', now, now)).toBe(API_RETURN_HOLD_MS + 1_000);
    expect(resyncAfterHoldMs('synced', now - 20_000, now)).toBe(API_RETURN_HOLD_MS - 19_000);
  });

  it('none once the hold is over, and none for a cache that is not synced', () => {
    expect(resyncAfterHoldMs('synced', now - API_RETURN_HOLD_MS, now)).toBeUndefined();
    expect(resyncAfterHoldMs('notServed', now, now)).toBeUndefined();
  });
});
