import { ReadinessChecker } from './readiness';

describe('ReadinessChecker', () => {
  it("asks each pod at its own ready endpoint, else at the checker's default", async () => {
    const asked: string[] = [];
    const checker = new ReadinessChecker({
      port: 8181,
      path: '/ready',
      timeoutMs: 100,
      periodMs: 60_000,
      check: (url) => {
        asked.push(url);
        return Promise.resolve(true);
      },
    });
    checker.setTargets([
      { key: 'a', address: '10.0.0.1', port: 8282, path: '/health-ready' },
      { key: 'b', address: 'fd00::2' },
    ]);
    checker.start();
    await new Promise((r) => setImmediate(r));
    checker.stop();
    expect(asked.sort()).toEqual([
      'http://10.0.0.1:8282/health-ready',
      'http://[fd00::2]:8181/ready',
    ]);
    expect(checker.get('a')).toBe(true);
  });

  it('a changed endpoint is checked afresh', async () => {
    const asked: string[] = [];
    const checker = new ReadinessChecker({
      port: 8181,
      path: '/ready',
      timeoutMs: 100,
      periodMs: 60_000,
      check: (url) => {
        asked.push(url);
        return Promise.resolve(false);
      },
    });
    checker.start();
    checker.setTargets([{ key: 'a', address: '10.0.0.1', port: 8181, path: '/ready' }]);
    await new Promise((r) => setImmediate(r));
    checker.setTargets([{ key: 'a', address: '10.0.0.1', port: 9000, path: '/ready' }]);
    await new Promise((r) => setImmediate(r));
    checker.stop();
    expect(asked).toEqual(['http://10.0.0.1:8181/ready', 'http://10.0.0.1:9000/ready']);
  });
});
