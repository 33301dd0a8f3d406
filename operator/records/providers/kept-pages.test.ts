import { KeptPages } from './kept-pages';

const page = (bytes: number, output: unknown = {}) => ({ body: Buffer.alloc(bytes), output });

describe('KeptPages', () => {
  it('keeps pages up to its bytes, dropping the least recently used first', () => {
    const pages = new KeptPages(300);
    pages.set('a', page(100));
    pages.set('b', page(100));
    pages.set('c', page(100));
    expect(pages.get('a')).toBeDefined(); // a is now the most recently used
    pages.set('d', page(100));
    expect([pages.get('a'), pages.get('b'), pages.get('c'), pages.get('d')].map(Boolean)).toEqual([
      true,
      false,
      true,
      true,
    ]);
    expect(pages.bytes).toBe(300);
  });

  it('replaces the page of a request, counting its bytes once', () => {
    const pages = new KeptPages(300);
    const newer = page(250, { newer: true });
    pages.set('a', page(200));
    pages.set('a', newer);
    expect(pages.get('a')).toBe(newer);
    expect(pages.bytes).toBe(250);
  });

  it('keeps no page larger than all it may hold; one that fills it, alone', () => {
    const pages = new KeptPages(300);
    pages.set('a', page(100));
    pages.set('b', page(301));
    expect([pages.get('a'), pages.get('b')].map(Boolean)).toEqual([true, false]);
    expect(pages.bytes).toBe(100);
    pages.set('c', page(300));
    expect([pages.get('a'), pages.get('c')].map(Boolean)).toEqual([false, true]);
    expect(pages.bytes).toBe(300);
  });
});
