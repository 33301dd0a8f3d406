import {
  generationObserved,
  getCondition,
  kstatusConditions,
  sameConditions,
  setCondition,
  setConditions,
} from './conditions';

const t0 = new Date('2026-01-01T00:00:00Z');
const t1 = new Date('2026-01-01T00:05:00Z');

describe('conditions', () => {
  it('adds a condition with the observed generation and transition time', () => {
    const out = setCondition(
      undefined,
      { type: 'Ready', status: 'True', reason: 'Synced', message: 'ok' },
      3,
      t0,
    );
    expect(out).toEqual([
      {
        type: 'Ready',
        status: 'True',
        reason: 'Synced',
        message: 'ok',
        lastTransitionTime: t0,
        observedGeneration: 3,
      },
    ]);
  });

  it('keeps lastTransitionTime when only the reason or message changes', () => {
    const a = setCondition(
      [],
      { type: 'Ready', status: 'False', reason: 'A', message: 'a' },
      1,
      t0,
    );
    const b = setCondition(a, { type: 'Ready', status: 'False', reason: 'B', message: 'b' }, 2, t1);
    expect(getCondition(b, 'Ready')).toMatchObject({
      reason: 'B',
      lastTransitionTime: t0,
      observedGeneration: 2,
    });
  });

  it('moves lastTransitionTime when the status flips', () => {
    const a = setCondition([], { type: 'Ready', status: 'False', reason: 'A', message: '' }, 1, t0);
    const b = setCondition(a, { type: 'Ready', status: 'True', reason: 'A', message: '' }, 1, t1);
    expect(getCondition(b, 'Ready')?.lastTransitionTime).toEqual(t1);
  });

  it('never mutates its input and keeps the order of other conditions', () => {
    const input = setConditions(
      [],
      [
        { type: 'Ready', status: 'True', reason: 'R', message: '' },
        { type: 'Synced', status: 'True', reason: 'S', message: '' },
      ],
      1,
      t0,
    );
    const frozen = JSON.stringify(input);
    const out = setCondition(
      input,
      { type: 'Ready', status: 'False', reason: 'X', message: '' },
      2,
      t1,
    );
    expect(JSON.stringify(input)).toBe(frozen);
    expect(out.map((c) => c.type)).toEqual(['Ready', 'Synced']);
  });

  it('sameConditions ignores timestamps but not status, reason or message', () => {
    const a = setCondition([], { type: 'Ready', status: 'True', reason: 'R', message: 'm' }, 1, t0);
    const b = setCondition([], { type: 'Ready', status: 'True', reason: 'R', message: 'm' }, 1, t1);
    const c = setCondition(
      [],
      { type: 'Ready', status: 'True', reason: 'R', message: 'other' },
      1,
      t1,
    );
    expect(sameConditions(a, b)).toBe(true);
    expect(sameConditions(a, c)).toBe(false);
  });
});

describe('kstatus conditions', () => {
  const statuses = (state: 'Ready' | 'Reconciling' | 'Stalled'): Record<string, string> =>
    Object.fromEntries(
      kstatusConditions({ state, reason: 'R', message: 'm' }).map((c) => [c.type, c.status]),
    );

  it.each([
    ['Ready', { Ready: 'True', Reconciling: 'False', Stalled: 'False' }],
    ['Reconciling', { Ready: 'False', Reconciling: 'True', Stalled: 'False' }],
    ['Stalled', { Ready: 'False', Reconciling: 'False', Stalled: 'True' }],
  ] as const)('%s -> %j (never Reconciling and Stalled at once)', (state, expected) => {
    expect(statuses(state)).toEqual(expected);
  });

  it('every condition carries the reason and message', () => {
    for (const c of kstatusConditions({ state: 'Stalled', reason: 'DeleteGuard', message: 'why' }))
      expect([c.reason, c.message]).toEqual(['DeleteGuard', 'why']);
  });

  it('generationObserved compares status.observedGeneration with metadata.generation', () => {
    expect(
      generationObserved({ metadata: { generation: 2 }, status: { observedGeneration: 2 } }),
    ).toBe(true);
    expect(
      generationObserved({ metadata: { generation: 2 }, status: { observedGeneration: 1 } }),
    ).toBe(false);
    // The CRD's status default: a policy nobody has reconciled yet.
    expect(
      generationObserved({ metadata: { generation: 1 }, status: { observedGeneration: 0 } }),
    ).toBe(false);
    expect(generationObserved({ metadata: { generation: 1 } })).toBe(false);
    expect(generationObserved({ metadata: {} })).toBe(true);
  });
});
