import { PermanentError } from './errors';
import { silentLogger } from './logger';
import { WorkQueue, type ReconcileFn } from './workqueue';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

async function until(check: () => boolean, timeoutMs = 2000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 2));
  }
}

function queue(reconcile: ReconcileFn, extra: Partial<{ concurrency: number }> = {}): WorkQueue {
  return new WorkQueue({
    name: 'test',
    reconcile,
    logger: silentLogger(),
    baseDelayMs: 1,
    maxDelayMs: 20,
    ...extra,
  });
}

describe('WorkQueue', () => {
  it('coalesces duplicate adds of a waiting key into one reconcile', async () => {
    const calls: string[] = [];
    const q = queue((key) => {
      calls.push(key);
      return Promise.resolve();
    });
    q.add('a');
    q.add('a');
    q.add('b');
    q.add('a');
    q.start();
    await until(() => calls.length >= 2);
    await q.shutdown();
    expect(calls.sort()).toEqual(['a', 'b']);
  });

  it('never runs one key twice at once, and reruns it once if it changed while running', async () => {
    let running = 0;
    let maxRunning = 0;
    let calls = 0;
    const gate = deferred();
    const q = queue(async () => {
      calls++;
      running++;
      maxRunning = Math.max(maxRunning, running);
      if (calls === 1) await gate.promise;
      running--;
    });
    q.start();
    q.add('k');
    await until(() => calls === 1);
    q.add('k');
    q.add('k');
    q.add('k');
    gate.resolve();
    await until(() => calls === 2);
    await new Promise((r) => setTimeout(r, 20));
    await q.shutdown();
    expect(maxRunning).toBe(1);
    expect(calls).toBe(2);
  });

  it('bounds concurrency across keys', async () => {
    let running = 0;
    let maxRunning = 0;
    let done = 0;
    const q = queue(
      async () => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await new Promise((r) => setTimeout(r, 5));
        running--;
        done++;
      },
      { concurrency: 3 },
    );
    q.start();
    for (let i = 0; i < 20; i++) q.add(`k${i}`);
    await until(() => done === 20);
    await q.shutdown();
    expect(maxRunning).toBe(3);
  });

  it('retries a failing key with growing backoff until it succeeds, then forgets the failures', async () => {
    const times: number[] = [];
    const q = queue(() => {
      times.push(performance.now());
      return times.length < 5 ? Promise.reject(new Error('boom')) : Promise.resolve();
    });
    q.start();
    q.add('k');
    await until(() => times.length === 5);
    await new Promise((r) => setTimeout(r, 5));
    expect(q.failures('k')).toBe(0);
    await q.shutdown();
    expect(times).toHaveLength(5);
  });

  it('does not retry a PermanentError until the key is added again', async () => {
    let calls = 0;
    const q = queue(() => {
      calls++;
      return Promise.reject(new PermanentError('BadSpec', 'bad'));
    });
    q.start();
    q.add('k');
    await until(() => calls === 1);
    await new Promise((r) => setTimeout(r, 60));
    expect(calls).toBe(1);
    q.add('k');
    await until(() => calls === 2);
    await q.shutdown();
  });

  it('addAfter keeps the earliest time, so a burst of delayed adds runs once', async () => {
    let calls = 0;
    const q = queue(() => {
      calls++;
      return Promise.resolve();
    });
    q.start();
    for (let i = 0; i < 50; i++) q.addAfter('k', 30);
    await until(() => calls === 1);
    await new Promise((r) => setTimeout(r, 60));
    await q.shutdown();
    expect(calls).toBe(1);
  });

  it('honours requeueAfterMs for periodic resync', async () => {
    let calls = 0;
    const q = queue(() => {
      calls++;
      return Promise.resolve({ requeueAfterMs: 5 });
    });
    q.start();
    q.add('k');
    await until(() => calls >= 3);
    await q.shutdown();
  });

  it('shutdown waits for the reconcile in flight and takes no new work', async () => {
    const gate = deferred();
    let finished = false;
    let calls = 0;
    const q = queue(async () => {
      calls++;
      await gate.promise;
      finished = true;
    });
    q.start();
    q.add('k');
    await until(() => calls === 1);
    const stopping = q.shutdown();
    q.add('other');
    gate.resolve();
    await stopping;
    expect(finished).toBe(true);
    expect(calls).toBe(1);
  });
});
