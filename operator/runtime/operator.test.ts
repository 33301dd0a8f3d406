import { isStatusOnlyUpdate } from './operator';

const base = {
  metadata: {
    name: 'p',
    namespace: 'shop',
    generation: 2,
    labels: { a: '1' },
    finalizers: ['dnsop.io/records'],
  },
  status: { records: 1 },
};

describe('isStatusOnlyUpdate', () => {
  it('is true when only status and resourceVersion changed (our own status write)', () => {
    const next = {
      ...base,
      metadata: { ...base.metadata, resourceVersion: '9' },
      status: { records: 2 },
    };
    expect(isStatusOnlyUpdate(base, next)).toBe(true);
  });

  it.each([
    ['a spec change (generation)', { generation: 3 }],
    ['a label change', { labels: { a: '2' } }],
    ['an annotation change', { annotations: { x: 'y' } }],
    ['a finalizer change', { finalizers: [] }],
    ['deletion', { deletionTimestamp: '2026-11-22T10:00:00Z' }],
  ])('is false for %s', (_name, change) => {
    const next = { ...base, metadata: { ...base.metadata, ...change } };
    expect(isStatusOnlyUpdate(base, next as never)).toBe(false);
  });
});
