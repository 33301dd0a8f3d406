import { matchesLabelSelector, matchesMapSelector } from './labels';

describe('matchesLabelSelector', () => {
  const labels = { app: 'web', tier: 'front' };
  it.each([
    ['omitted selects everything', undefined, true],
    ['{} selects everything', {}, true],
    ['matchLabels equal', { matchLabels: { app: 'web' } }, true],
    ['matchLabels differ', { matchLabels: { app: 'db' } }, false],
    ['In', { matchExpressions: [{ key: 'app', operator: 'In', values: ['db', 'web'] }] }, true],
    [
      'In missing key',
      { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] },
      false,
    ],
    ['NotIn', { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['web'] }] }, false],
    [
      'NotIn missing key matches',
      { matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] },
      true,
    ],
    ['Exists', { matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, true],
    ['DoesNotExist', { matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }, false],
    [
      'unknown operator selects nothing',
      { matchExpressions: [{ key: 'app', operator: 'Near' }] },
      false,
    ],
  ])('%s', (_name, selector, expected) => {
    expect(matchesLabelSelector(selector, labels)).toBe(expected);
  });
});

describe('matchesMapSelector (Service.spec.selector)', () => {
  it.each([
    [{ role: 'primary' }, { role: 'primary', app: 'pg' }, true],
    [{ role: 'primary', app: 'pg' }, { role: 'primary' }, false],
    [{}, { role: 'primary' }, false],
    [undefined, { role: 'primary' }, false],
  ])('%j selects %j: %s', (selector, labels, expected) => {
    expect(matchesMapSelector(selector, labels)).toBe(expected);
  });
});
