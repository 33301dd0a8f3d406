import type { KubernetesObject } from '@kubernetes/client-node';
import { needsReconcile } from './controller';

const base: KubernetesObject & { status: unknown } = {
  metadata: {
    name: 'p',
    namespace: 'shop',
    uid: 'u1',
    generation: 2,
    labels: { a: '1' },
    finalizers: ['dnsop.io/records'],
  },
  status: { records: 1 },
};

const update = (metadata: Record<string, unknown>): boolean =>
  needsReconcile({
    type: 'update',
    old: base,
    obj: { ...base, metadata: { ...base.metadata, ...metadata } },
  });

describe('needsReconcile (the one "spec changed" rule)', () => {
  it('is false when only status and resourceVersion changed (our own status write)', () => {
    expect(update({ resourceVersion: '9' })).toBe(false);
  });

  it.each([
    ['a spec change (generation)', { generation: 3 }],
    ['a label change', { labels: { a: '2' } }],
    ['an annotation change', { annotations: { 'dnsop.io/skip-cleanup': 'true' } }],
    ['a finalizer change', { finalizers: [] }],
    ['deletion', { deletionTimestamp: '2026-11-22T10:00:00Z' }],
    ['a re-created object (new uid)', { uid: 'u2' }],
  ])('is true for %s', (_name, change) => {
    expect(update(change)).toBe(true);
  });

  it('is true for adds and deletes', () => {
    expect(needsReconcile({ type: 'add', obj: base })).toBe(true);
    expect(needsReconcile({ type: 'delete', obj: base })).toBe(true);
  });
});
