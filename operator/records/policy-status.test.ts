import type { V1Condition } from '@kubernetes/client-node';
import {
  computePolicyStatus,
  MAX_STATUS_DIAGNOSTICS,
  progressStatus,
  recovered,
  sameStatusContent,
  statusDiagnostics,
  type SyncOutcome,
} from './policy-status';
import { planChanges } from './plan';
import { DomainFilter } from './hostname';
import { policy } from '../../test/support/records-fixtures';

const now = new Date('2026-01-01T00:00:00Z');
const emptyPlan = planChanges({
  desired: [],
  current: [],
  ownerId: 'o',
  policy: 'Sync',
  domains: new DomainFilter(['example.com']),
  cachesSynced: true,
  maxDeletePercent: 50,
});

const guarded = (reason: 'DeleteGuard' | 'CachesNotSynced'): typeof emptyPlan => ({
  ...emptyPlan,
  guard: { reason, message: 'refused' },
});

describe('computePolicyStatus', () => {
  type Row = [string, SyncOutcome, typeof emptyPlan, string, string, string, string];
  it.each<Row>([
    // outcome, plan, Ready, Reconciling, Stalled, Synced reason
    [
      'synced',
      { kind: 'Applied', applied: 2, failedRecords: 0, failures: [] },
      emptyPlan,
      'True',
      'False',
      'False',
      'Synced',
    ],
    ['dry run', { kind: 'DryRun' }, emptyPlan, 'True', 'False', 'False', 'DryRun'],
    [
      'permanent error',
      { kind: 'Failed', reason: 'HostedZoneNotFound', message: 'no', retrying: false },
      emptyPlan,
      'False',
      'False',
      'True',
      'HostedZoneNotFound',
    ],
    [
      'transient error',
      { kind: 'Failed', reason: 'Throttled', message: 'slow down', retrying: true },
      emptyPlan,
      'False',
      'True',
      'False',
      'Throttled',
    ],
    [
      'rejected, retrying',
      {
        kind: 'Applied',
        applied: 0,
        failedRecords: 1,
        failures: ['a/A: rejected'],
        retrying: true,
      },
      emptyPlan,
      'False',
      'True',
      'False',
      'ProviderRejected',
    ],
    [
      'rejected again',
      { kind: 'Applied', applied: 0, failedRecords: 1, failures: ['a/A: rejected'] },
      emptyPlan,
      'False',
      'False',
      'True',
      'ProviderRejected',
    ],
    [
      'delete guard',
      { kind: 'Guarded' },
      guarded('DeleteGuard'),
      'False',
      'False',
      'True',
      'DeleteGuard',
    ],
    [
      'caches loading',
      { kind: 'Guarded' },
      guarded('CachesNotSynced'),
      'False',
      'True',
      'False',
      'CachesNotSynced',
    ],
  ])(
    '%s -> Ready=%s Reconciling=%s Stalled=%s',
    (_name, outcome, plan, ready, reconciling, stalled, reason) => {
      const status = computePolicyStatus(
        {
          policy: policy('p'),
          diagnostics: [],
          plan,
          outcome,
          now,
          generation: 1,
          recentDeletes: [],
        },
        undefined,
      );
      const cond = (type: string): string | undefined =>
        status.conditions?.find((c) => c.type === type)?.status;
      expect([cond('Ready'), cond('Reconciling'), cond('Stalled')]).toEqual([
        ready,
        reconciling,
        stalled,
      ]);
      expect(status.conditions?.find((c) => c.type === 'Synced')?.reason).toBe(reason);
      expect(status.conditions?.find((c) => c.type === 'Ready')?.reason).toBe(reason);
      expect(status.observedGeneration).toBe(1);
    },
  );

  it('reports the generation the sync worked from, not a newer live one', () => {
    const status = computePolicyStatus(
      {
        policy: { ...policy('p'), metadata: { ...policy('p').metadata, generation: 3 } },
        diagnostics: [],
        outcome: { kind: 'DryRun' },
        now,
        generation: 2,
        recentDeletes: [],
      },
      undefined,
    );
    expect(status.observedGeneration).toBe(2);
    expect(status.conditions?.every((c) => c.observedGeneration === 2)).toBe(true);
  });

  it('keeps the delete history it is given and compares it as content', () => {
    const input = {
      policy: policy('p'),
      diagnostics: [],
      outcome: { kind: 'DryRun' } as const,
      now,
      generation: 1,
    };
    const without = computePolicyStatus({ ...input, recentDeletes: [] }, undefined);
    const entries = [{ time: now.toISOString(), count: 2 }];
    const withDeletes = computePolicyStatus({ ...input, recentDeletes: entries }, undefined);
    expect(withDeletes.recentDeletes).toEqual(entries);
    expect(without.recentDeletes).toBeUndefined();
    expect(sameStatusContent(without, withDeletes)).toBe(false);
  });

  it('progressStatus marks a new generation Reconciling and keeps the rest', () => {
    const before = computePolicyStatus(
      {
        policy: policy('p'),
        diagnostics: [],
        outcome: { kind: 'Applied', applied: 1, failedRecords: 0, failures: [] },
        plan: emptyPlan,
        now,
        generation: 1,
        recentDeletes: [],
      },
      undefined,
    );
    const after = progressStatus(
      before,
      { state: 'Reconciling', reason: 'Progressing', message: 'syncing generation 2' },
      2,
      now,
    );
    expect(after.observedGeneration).toBe(2);
    expect(after.records).toBe(before.records);
    expect(after.conditions?.find((c) => c.type === 'Reconciling')?.status).toBe('True');
    expect(after.conditions?.find((c) => c.type === 'Synced')).toEqual(
      before.conditions?.find((c) => c.type === 'Synced'),
    );
    expect(recovered(after.conditions, before.conditions)).toBeUndefined();
  });

  it('recovered: Synced False after a failure -> True, and only that', () => {
    const synced = (status: 'True' | 'False', reason = 'HostedZoneNotFound'): V1Condition[] => [
      { type: 'Synced', status, reason, message: 'x', lastTransitionTime: now },
    ];
    expect(recovered(synced('False'), synced('True'))?.reason).toBe('HostedZoneNotFound');
    expect(recovered(synced('True'), synced('True'))).toBeUndefined();
    expect(recovered(undefined, synced('True'))).toBeUndefined();
    expect(recovered(synced('False', 'CachesNotSynced'), synced('True'))).toBeUndefined();
    expect(recovered(synced('False', 'DryRun'), synced('True'))).toBeUndefined();
  });

  it('caps diagnostics at 50 and removes duplicates', () => {
    const many = Array.from({ length: 80 }, (_, i) => ({
      object: `Service/shop/s${i % 60}`,
      reason: 'InvalidHostname',
      message: 'x',
    }));
    expect(statusDiagnostics(many)).toHaveLength(MAX_STATUS_DIAGNOSTICS);
    expect(new Set(statusDiagnostics(many).map((d) => d.object)).size).toBe(MAX_STATUS_DIAGNOSTICS);
  });

  it('lists the newest diagnostics first and keeps the order of known ones', () => {
    const d = (name: string): { object: string; reason: string; message: string } => ({
      object: `HTTPRoute/shop/${name}`,
      reason: 'NotAllowedByListeners',
      message: 'm',
    });
    const first = statusDiagnostics([d('b'), d('a')]);
    expect(first.map((x) => x.object)).toEqual(['HTTPRoute/shop/a', 'HTTPRoute/shop/b']);
    // c appears later: it goes first; a and b keep their order; a resolved one disappears.
    const second = statusDiagnostics([d('a'), d('c'), d('b')], first);
    expect(second.map((x) => x.object)).toEqual([
      'HTTPRoute/shop/c',
      'HTTPRoute/shop/a',
      'HTTPRoute/shop/b',
    ]);
    const third = statusDiagnostics([d('b'), d('c')], second);
    expect(third.map((x) => x.object)).toEqual(['HTTPRoute/shop/c', 'HTTPRoute/shop/b']);
    // The same set again changes nothing, so no status write.
    expect(statusDiagnostics([d('c'), d('b')], third)).toEqual(third);
  });

  it('says SourcesResolved=False with a count per reason', () => {
    const status = computePolicyStatus(
      {
        policy: policy('p'),
        diagnostics: [{ object: 'HTTPRoute/shop/a', reason: 'StatusLagging', message: 'm' }],
        plan: emptyPlan,
        outcome: { kind: 'DryRun' },
        now,
        generation: 1,
        recentDeletes: [],
      },
      undefined,
    );
    expect(status.conditions?.find((c) => c.type === 'SourcesResolved')?.message).toContain(
      '1 StatusLagging',
    );
  });
});
