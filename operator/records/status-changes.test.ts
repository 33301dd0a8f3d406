/**
 * Record changes in DNSPolicy status: a dry run lists the changes themselves (adoptions first,
 * capped), and applied adoptions stay listed after the switch. Pure functions first, then the
 * controller with the in-memory provider.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Endpoint } from './endpoint';
import { NO_CHANGES } from './endpoint';
import { InMemoryDnsStore } from './providers/inmemory';
import { ownershipRecord } from './registry';
import { adoptionHistory, listChanges, MAX_STATUS_CHANGES } from './status-changes';
import {
  eventually,
  startControllerHarness,
  type ControllerHarness,
} from '../../test/support/records-controller-harness';
import { namespace, policy, service } from '../../test/support/records-fixtures';

const a = (name: string, ip: string, source?: string): Endpoint => ({
  name,
  type: 'A',
  targets: [ip],
  ttl: 300,
  ...(source ? { source } : {}),
});

describe('listChanges', () => {
  it('lists adoptions, creates, updates (with the targets held now) and deletes; never a TXT', () => {
    const created = a('new.example.com', '192.0.2.1', 'Service/shop/new');
    const listed = listChanges(
      {
        create: [created, ownershipRecord(created, 'shop/public')],
        updateOld: [a('moved.example.com', '192.0.2.2')],
        updateNew: [a('moved.example.com', '192.0.2.3', 'Service/shop/moved')],
        delete: [a('gone.example.com', '192.0.2.4')],
      },
      [
        {
          record: a('app.example.com', '192.0.2.5', 'Service/shop/app'),
          current: a('app.example.com', '192.0.2.5'),
          from: 'external-dns owner default',
        },
      ],
    );
    expect(listed).toEqual([
      {
        action: 'Adopt',
        name: 'app.example.com',
        type: 'A',
        targets: ['192.0.2.5'],
        ttl: 300,
        from: 'external-dns owner default',
      },
      { action: 'Create', name: 'new.example.com', type: 'A', targets: ['192.0.2.1'], ttl: 300 },
      {
        action: 'Update',
        name: 'moved.example.com',
        type: 'A',
        targets: ['192.0.2.3'],
        ttl: 300,
        previousTargets: ['192.0.2.2'],
      },
      { action: 'Delete', name: 'gone.example.com', type: 'A', targets: ['192.0.2.4'], ttl: 300 },
    ]);
  });

  it('keeps earlier adoptions, newest first, drops the ones whose batch failed, caps the list', () => {
    const now = new Date('2026-11-22T10:00:00Z');
    const earlier = {
      name: 'old.example.com',
      type: 'A',
      from: 'external-dns owner default',
      time: 't0',
    };
    const adopted = ['x', 'y'].map((n) => ({
      record: a(`${n}.example.com`, '192.0.2.9'),
      current: a(`${n}.example.com`, '192.0.2.9'),
      from: 'external-dns owner default',
    }));
    const history = adoptionHistory([earlier], adopted, new Set(['y.example.com/A']), now);
    expect(history.map((h) => h.name)).toEqual(['x.example.com', 'old.example.com']);
    expect(history[0]?.time).toBe(now.toISOString());
    const many = Array.from({ length: 80 }, (_, i) => ({ ...earlier, name: `n${i}.example.com` }));
    expect(adoptionHistory(many, [], new Set(), now)).toHaveLength(MAX_STATUS_CHANGES);
    expect(listChanges(NO_CHANGES)).toEqual([]);
  });
});

describe('DNSPolicy status through the controller', () => {
  let h: ControllerHarness;
  afterEach(async () => h.stop());

  const extValue =
    '"heritage=external-dns,external-dns/owner=default,external-dns/resource=service/shop/app"';

  function seeded(): InMemoryDnsStore {
    const store = new InMemoryDnsStore();
    store.put('z', a('app.example.com', '203.0.113.7'));
    store.put('z', { name: 'a-app.example.com', type: 'TXT', targets: [extValue], ttl: 300 });
    return store;
  }

  it('dryRun lists every pending change, adoption included, and changes nothing', async () => {
    const store = seeded();
    const before = JSON.stringify(store.records('z'));
    h = await startControllerHarness({ inMemoryStore: store, trustedNamespaces: 'shop' });
    h.apply(namespace('shop'));
    h.apply(
      service('app', {
        hostname: 'app.example.com',
        type: 'LoadBalancer',
        ingress: [{ ip: '203.0.113.7' }],
      }),
    );
    h.apply(
      service('web', {
        hostname: 'web.example.com',
        type: 'LoadBalancer',
        ingress: [{ ip: '203.0.113.9' }],
      }),
    );
    h.apply(
      policy('public', {
        provider: { inMemory: { zone: 'z' } },
        dryRun: true,
        adopt: { externalDNS: { ownerId: 'default' } },
      }),
    );
    await eventually(() => {
      const status = h.status('shop', 'public');
      expect(status?.plannedChanges).toEqual([
        expect.objectContaining({
          action: 'Adopt',
          name: 'app.example.com',
          from: 'external-dns owner default',
        }),
        expect.objectContaining({
          action: 'Create',
          name: 'web.example.com',
          targets: ['203.0.113.9'],
        }),
      ]);
      expect(status?.conditions?.find((c) => c.type === 'Synced')?.message).toBe(
        'dryRun: 2 record changes planned, none applied; see status.plannedChanges',
      );
    });
    expect(JSON.stringify(store.records('z'))).toBe(before);

    // Leaving dry run applies them: the adoption is listed in status and stays listed.
    const live = h.policy('shop', 'public')!;
    h.apply({
      ...live,
      metadata: { ...live.metadata, generation: 2 },
      spec: { ...live.spec, dryRun: false },
    } as KubernetesObject);
    await eventually(() => {
      const status = h.status('shop', 'public');
      expect(status?.plannedChanges).toBeUndefined();
      expect(status?.adoptions).toEqual([
        expect.objectContaining({
          name: 'app.example.com',
          type: 'A',
          from: 'external-dns owner default',
        }),
      ]);
    });
    expect(store.records('z').map((r) => r.name)).toEqual([
      '_dnsop-a.app.example.com',
      '_dnsop-a.web.example.com',
      'app.example.com',
      'web.example.com',
    ]);
  });
});
