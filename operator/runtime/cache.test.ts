import { KubeConfig, type V1Pod } from '@kubernetes/client-node';
import {
  InformerCache,
  objectKey,
  RESOURCES,
  resourcePath,
  splitKey,
  type CacheEvent,
} from './cache';
import { silentLogger } from './logger';

function pod(name: string, labels: Record<string, string>, rv: string): V1Pod {
  return { metadata: { name, namespace: 'db', labels, resourceVersion: rv } };
}

function newCache(): InformerCache<V1Pod> {
  return new InformerCache<V1Pod>({
    kubeConfig: new KubeConfig(),
    resource: RESOURCES.pods,
    namespace: '',
    logger: silentLogger(),
    relistMs: 60_000,
  });
}

describe('InformerCache (store, indexes, events)', () => {
  it('keeps secondary indexes current as objects change labels and go away', () => {
    const cache = newCache();
    cache.addIndex('role', (p) => (p.metadata?.labels?.role ? [p.metadata.labels.role] : []));
    cache.upsert(pod('a', { role: 'primary' }, '1'));
    cache.upsert(pod('b', { role: 'replica' }, '1'));
    expect(cache.byIndex('role', 'primary').map((p) => p.metadata?.name)).toEqual(['a']);

    cache.upsert(pod('a', { role: 'replica' }, '2'));
    cache.upsert(pod('b', { role: 'primary' }, '2'));
    expect(cache.byIndex('role', 'primary').map((p) => p.metadata?.name)).toEqual(['b']);
    expect(cache.byIndex('role', 'replica').map((p) => p.metadata?.name)).toEqual(['a']);

    cache.remove(pod('b', {}, '3'));
    expect(cache.byIndex('role', 'primary')).toEqual([]);
    expect(cache.get('db', 'b')).toBeUndefined();
  });

  it('indexes objects that were there before the index was added', () => {
    const cache = newCache();
    cache.upsert(pod('a', { app: 'x' }, '1'));
    cache.addIndex('app', (p) => [p.metadata?.labels?.app ?? '']);
    expect(cache.byIndex('app', 'x')).toHaveLength(1);
  });

  it('emits add, update with the old version, and delete; ignores a same-version replay', () => {
    const cache = newCache();
    const events: Array<CacheEvent<V1Pod>> = [];
    cache.onEvent((e) => events.push(e));
    cache.upsert(pod('a', { v: '1' }, '1'));
    cache.upsert(pod('a', { v: '1' }, '1'));
    cache.upsert(pod('a', { v: '2' }, '2'));
    cache.remove(pod('a', {}, '2'));
    expect(events.map((e) => e.type)).toEqual(['add', 'update', 'delete']);
    expect(events[1]?.old?.metadata?.labels).toEqual({ v: '1' });
    expect(events[2]?.obj.metadata?.labels).toEqual({ v: '2' });
  });

  it('keeps working when a handler throws', () => {
    const cache = newCache();
    const seen: string[] = [];
    cache.onEvent(() => {
      throw new Error('bad handler');
    });
    cache.onEvent((e) => seen.push(e.type));
    cache.upsert(pod('a', {}, '1'));
    expect(seen).toEqual(['add']);
  });
});

describe('keys and paths', () => {
  it.each([
    [RESOURCES.pods, undefined, '/api/v1/pods'],
    [RESOURCES.pods, 'db', '/api/v1/namespaces/db/pods'],
    [RESOURCES.namespaces, 'db', '/api/v1/namespaces'],
    [RESOURCES.httproutes, 'shop', '/apis/gateway.networking.k8s.io/v1/namespaces/shop/httproutes'],
    [RESOURCES.dnspolicies, undefined, '/apis/dnsop.io/v1alpha1/dnspolicies'],
  ])('%o in %s -> %s', (r, ns, path) => {
    expect(resourcePath(r, ns)).toBe(path);
  });

  it('round-trips namespaced and cluster-scoped keys', () => {
    expect(objectKey({ metadata: { namespace: 'a', name: 'b' } })).toBe('a/b');
    expect(objectKey({ metadata: { name: 'ns1' } })).toBe('ns1');
    expect(splitKey('a/b')).toEqual({ namespace: 'a', name: 'b' });
    expect(splitKey('ns1')).toEqual({ namespace: '', name: 'ns1' });
  });
});
