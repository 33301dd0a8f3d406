import { computePolicyStatus, MAX_STATUS_DIAGNOSTICS, statusDiagnostics } from './policy-status';
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

describe('computePolicyStatus', () => {
  it.each([
    [
      { kind: 'Applied' as const, applied: 2, failedRecords: 0, failures: [] },
      'True',
      'True',
      'Synced',
    ],
    [{ kind: 'DryRun' as const }, 'True', 'False', 'DryRun'],
    [
      { kind: 'ProviderError' as const, reason: 'AccessDenied', message: 'no' },
      'False',
      'False',
      'AccessDenied',
    ],
    [
      { kind: 'Applied' as const, applied: 0, failedRecords: 1, failures: ['a/A: rejected'] },
      'False',
      'False',
      'ProviderRejected',
    ],
  ])('%j -> Ready=%s Synced=%s (%s)', (outcome, ready, synced, reason) => {
    const status = computePolicyStatus(
      { policy: policy('p'), diagnostics: [], plan: emptyPlan, outcome, now },
      undefined,
    );
    expect(status.conditions?.find((c) => c.type === 'Ready')?.status).toBe(ready);
    expect(status.conditions?.find((c) => c.type === 'Synced')).toEqual(
      expect.objectContaining({ status: synced, reason }),
    );
    expect(status.observedGeneration).toBe(1);
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
      },
      undefined,
    );
    expect(status.conditions?.find((c) => c.type === 'SourcesResolved')?.message).toContain(
      '1 StatusLagging',
    );
  });
});
