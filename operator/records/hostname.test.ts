import { DomainFilter, hostnameProblem } from './hostname';

describe('hostnameProblem', () => {
  it.each([
    ['app.example.com'],
    ['*.example.com'],
    ['a-b.c1.example.com'],
    [`${'a'.repeat(63)}.example.com`],
  ])('accepts %s', (name) => {
    expect(hostnameProblem(name)).toBeUndefined();
  });

  it.each([
    ['', /empty/],
    ['-app.example.com', /RFC 1123/],
    ['app_.example.com', /RFC 1123/],
    ['App.example.com', /RFC 1123/],
    ['a..example.com', /empty label/],
    ['foo.*.example.com', /first label/],
    [`${'a'.repeat(64)}.example.com`, /64 characters/],
    [`${'abcdefghi.'.repeat(25)}example.com`, /261 characters; at most 253/],
    ['_dnsop-a.app.example.com', /RFC 1123/],
  ])('rejects %j', (name, problem) => {
    expect(hostnameProblem(name)).toMatch(problem);
  });

  it('rejects a wildcard when wildcards are not allowed', () => {
    expect(hostnameProblem('*.example.com', { allowWildcard: false })).toMatch(/first label/);
  });

  it('accepts registry metadata labels only when asked', () => {
    expect(
      hostnameProblem('_dnsop-a.app.example.com', { allowMetadataLabels: true }),
    ).toBeUndefined();
  });
});

describe('DomainFilter', () => {
  const filter = new DomainFilter(['example.com', 'Example.org.'], ['internal.example.com']);
  it.each([
    ['example.com', true],
    ['app.example.com', true],
    ['app.example.org', true],
    ['badexample.com', false],
    ['internal.example.com', false],
    ['db.internal.example.com', false],
    ['example.net', false],
  ])('%s managed: %s', (name, managed) => {
    expect(filter.matches(name)).toBe(managed);
  });
});
