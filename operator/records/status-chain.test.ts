import { RESOURCES } from '../runtime/cache';
import { silentLogger } from '../runtime/logger';
import type { ObjectRef } from '../runtime/status';
import { StatusChain, type Schedule, type StatusStep } from './status-chain';

interface Obj {
  metadata: { name: string };
  status?: { log: string[] };
}

const ref = (name: string): ObjectRef => ({
  resource: RESOURCES.dnspolicies,
  namespace: 'ns',
  name,
});

/**
 * An API server of objects whose status is a list of entries; each update waits at a gate until
 * released (in order), then applies what `compute` returns. `fail` makes the next updates throw.
 */
function fakeWriter(): {
  writer: ConstructorParameters<typeof StatusChain>[0]['writer'];
  objects: Map<string, Obj>;
  /** Updates asked for so far, by object name. */
  calls: string[];
  pending: () => number;
  release: () => Promise<void>;
  fail: (times: number) => void;
  signals: AbortSignal[];
} {
  const objects = new Map<string, Obj>();
  const calls: string[] = [];
  const gates: (() => void)[] = [];
  const signals: AbortSignal[] = [];
  let failures = 0;
  return {
    objects,
    calls,
    signals,
    pending: () => gates.length,
    release: async () => {
      gates.shift()?.();
      await new Promise((r) => setImmediate(r));
    },
    fail: (times) => (failures = times),
    writer: {
      update: async <T>(
        r: ObjectRef,
        compute: (live: T) => unknown,
        signal?: AbortSignal,
      ): Promise<T | undefined> => {
        calls.push(r.name);
        if (signal) signals.push(signal);
        await new Promise<void>((open) => gates.push(open));
        signal?.throwIfAborted();
        if (failures > 0) {
          failures--;
          throw new Error('connection reset');
        }
        const live = objects.get(r.name) ?? { metadata: { name: r.name } };
        const next = compute(live as T) as Obj['status'];
        if (next === undefined) return undefined;
        const updated = { ...live, status: next };
        objects.set(r.name, updated);
        return updated as T;
      },
    },
  };
}

/** A step appending `entry` to the status (nothing when the last entry already is it). */
const append = (entry: string, written?: () => void): StatusStep<Obj> => ({
  compute: (live) => {
    const log = live.status?.log ?? [];
    return log.at(-1) === entry ? undefined : { log: [...log, entry] };
  },
  ...(written ? { written } : {}),
});

/** Timers run by hand: `fire()` runs the due ones in order. */
function manualTimers(): { schedule: Schedule; delays: number[]; fire: () => void } {
  const due: { fn: () => void; cancelled: boolean }[] = [];
  const delays: number[] = [];
  return {
    delays,
    schedule: (fn, ms) => {
      const timer = { fn, cancelled: false };
      due.push(timer);
      delays.push(ms);
      return () => (timer.cancelled = true);
    },
    fire: () => due.splice(0).forEach((t) => t.cancelled || t.fn()),
  };
}

/** A chain over a fake API server, its timers run by hand and its errors' retry delays listed. */
function chainWithTimers(backoff?: { baseMs: number; maxMs: number; random: () => number }): {
  api: ReturnType<typeof fakeWriter>;
  timers: ReturnType<typeof manualTimers>;
  errors: (number | undefined)[];
  chain: StatusChain;
} {
  const api = fakeWriter();
  const timers = manualTimers();
  const errors: (number | undefined)[] = [];
  const chain = new StatusChain({
    writer: api.writer,
    logger: silentLogger(),
    schedule: timers.schedule,
    ...(backoff ? { backoff } : {}),
    onError: (_key, _err, retryInMs) => errors.push(retryInMs),
  });
  return { api, timers, errors, chain };
}

const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('StatusChain', () => {
  it('writes at once, one write per key at a time; others keys do not wait', async () => {
    const api = fakeWriter();
    const chain = new StatusChain({ writer: api.writer, logger: silentLogger() });
    chain.enqueue('ns/a', ref('a'), append('1'));
    chain.enqueue('ns/a', ref('a'), append('2'));
    chain.enqueue('ns/b', ref('b'), append('x'));
    expect(api.calls).toEqual(['a', 'b']);
    expect(chain.busy('ns/a')).toBe(true);
    await api.release(); // a: 1
    expect(api.objects.get('a')?.status?.log).toEqual(['1']);
    expect(api.calls).toEqual(['a', 'b', 'a']);
    await api.release(); // b: x
    await api.release(); // a: 2
    expect(api.objects.get('a')?.status?.log).toEqual(['1', '2']);
    expect(api.objects.get('b')?.status?.log).toEqual(['x']);
    expect(chain.busy('ns/a')).toBe(false);
    expect(chain.busy('ns/b')).toBe(false);
  });

  it('turns the writes waiting behind one under way into one, each step seeing the one before', async () => {
    const api = fakeWriter();
    const chain = new StatusChain({ writer: api.writer, logger: silentLogger() });
    const written: string[] = [];
    for (const entry of ['1', '2', '3', '3', '4'])
      chain.enqueue(
        'ns/a',
        ref('a'),
        append(entry, () => written.push(entry)),
      );
    await api.release();
    await api.release();
    expect(api.calls).toEqual(['a', 'a']);
    // Nothing lost: '2' and '3' are in the history although '4' came last; the second '3' saw
    // the first and wrote nothing of its own.
    expect(api.objects.get('a')?.status?.log).toEqual(['1', '2', '3', '4']);
    expect(written).toEqual(['1', '2', '3', '3', '4']);
  });

  it('holds a write asked for with a hold: what comes meanwhile joins it; a write not held sends it at once', async () => {
    const { api, timers, chain } = chainWithTimers();
    chain.enqueue('ns/a', ref('a'), append('1'), 100);
    chain.enqueue('ns/a', ref('a'), append('2'), 100);
    expect(api.calls).toEqual([]);
    expect(chain.busy('ns/a')).toBe(true);
    // One timer for the first step's hold; the second joins it.
    expect(timers.delays).toEqual([100]);
    timers.fire();
    await api.release();
    expect(api.calls).toEqual(['a']);
    expect(api.objects.get('a')?.status?.log).toEqual(['1', '2']);
    expect(chain.busy('ns/a')).toBe(false);
    // A held step, then one asking for no hold: both go at once, and the hold's timer is void.
    chain.enqueue('ns/a', ref('a'), append('3'), 100);
    chain.enqueue('ns/a', ref('a'), append('4'));
    expect(api.calls).toEqual(['a', 'a']);
    await api.release();
    timers.fire();
    await settle();
    expect(api.calls).toEqual(['a', 'a']);
    expect(api.objects.get('a')?.status?.log).toEqual(['1', '2', '3', '4']);
    expect(chain.busy('ns/a')).toBe(false);
  });

  it('a held step asked for while a write is under way waits its hold after that write', async () => {
    const { api, timers, chain } = chainWithTimers();
    chain.enqueue('ns/a', ref('a'), append('1'));
    chain.enqueue('ns/a', ref('a'), append('2'), 100);
    expect(timers.delays).toEqual([]);
    await api.release();
    expect(api.calls).toEqual(['a']);
    expect(timers.delays).toEqual([100]);
    timers.fire();
    await api.release();
    expect(api.calls).toEqual(['a', 'a']);
    expect(api.objects.get('a')?.status?.log).toEqual(['1', '2']);
  });

  it('retries a failed write with backoff, with the steps asked for since, and says so', async () => {
    const { api, timers, errors, chain } = chainWithTimers({
      baseMs: 100,
      maxMs: 1_000,
      random: () => 1,
    });
    api.fail(2);
    chain.enqueue('ns/a', ref('a'), append('1'));
    await api.release();
    expect(errors).toEqual([100]);
    // Asked for while the retry waits: goes with it, not before it.
    chain.enqueue('ns/a', ref('a'), append('2'));
    expect(api.calls).toEqual(['a']);
    timers.fire();
    await api.release();
    expect(errors).toEqual([100, 200]);
    timers.fire();
    await api.release();
    expect(api.calls).toEqual(['a', 'a', 'a']);
    expect(api.objects.get('a')?.status?.log).toEqual(['1', '2']);
    expect(chain.busy('ns/a')).toBe(false);
    // A success resets the backoff.
    api.fail(1);
    chain.enqueue('ns/a', ref('a'), append('3'));
    await api.release();
    expect(errors).toEqual([100, 200, 100]);
    timers.fire();
    await api.release();
    expect(api.objects.get('a')?.status?.log).toEqual(['1', '2', '3']);
  });

  it('drain writes what waits (a retry and a hold at once) and returns when it is written', async () => {
    const { api, chain } = chainWithTimers();
    api.fail(1);
    chain.enqueue('ns/a', ref('a'), append('1'));
    await api.release(); // failed: waits for its retry
    chain.enqueue('ns/b', ref('b'), append('x'));
    chain.enqueue('ns/b', ref('b'), append('y'));
    chain.enqueue('ns/c', ref('c'), append('held'), 60_000);
    let drained = false;
    const draining = chain.drain(10_000).then(() => (drained = true));
    await settle();
    expect(api.calls).toEqual(['a', 'b', 'a', 'c']);
    // Asked for with a hold while draining: written at once too.
    chain.enqueue('ns/d', ref('d'), append('late'), 60_000);
    expect(api.calls).toEqual(['a', 'b', 'a', 'c', 'd']);
    for (let i = 0; i < 5; i++) await api.release();
    await draining;
    expect(drained).toBe(true);
    expect(api.objects.get('a')?.status?.log).toEqual(['1']);
    expect(api.objects.get('b')?.status?.log).toEqual(['x', 'y']);
    expect(api.objects.get('c')?.status?.log).toEqual(['held']);
    expect(api.objects.get('d')?.status?.log).toEqual(['late']);
  });

  it('drain drops what is not written by the deadline: aborted, not retried, chain usable again', async () => {
    const { api, timers, errors, chain } = chainWithTimers();
    chain.enqueue('ns/a', ref('a'), append('1'));
    chain.enqueue('ns/a', ref('a'), append('2'));
    const draining = chain.drain(1_000);
    await settle();
    timers.fire(); // the deadline
    await draining;
    expect(api.signals[0]?.aborted).toBe(true);
    // Started again before the aborted write answered: the new write comes after it.
    chain.start();
    chain.enqueue('ns/a', ref('a'), append('3'));
    expect(api.calls).toEqual(['a']);
    await api.release(); // the aborted write answers late: dropped, not retried
    expect(errors).toEqual([undefined]);
    expect(api.calls).toEqual(['a', 'a']);
    expect(api.signals[1]?.aborted).toBe(false);
    await api.release();
    expect(api.objects.get('a')?.status?.log).toEqual(['3']);
    expect(chain.busy('ns/a')).toBe(false);
  });

  it('forget drops what waits for a key; the write under way finishes', async () => {
    const api = fakeWriter();
    const chain = new StatusChain({ writer: api.writer, logger: silentLogger() });
    chain.enqueue('ns/a', ref('a'), append('1'));
    chain.enqueue('ns/a', ref('a'), append('2'));
    chain.forget('ns/a');
    await api.release();
    await settle();
    expect(api.calls).toEqual(['a']);
    expect(api.objects.get('a')?.status?.log).toEqual(['1']);
    expect(chain.busy('ns/a')).toBe(false);
  });

  it('forget drops a held write: its hold ends with nothing written', async () => {
    const { api, timers, chain } = chainWithTimers();
    chain.enqueue('ns/a', ref('a'), append('1'), 100);
    chain.forget('ns/a');
    expect(chain.busy('ns/a')).toBe(false);
    timers.fire();
    await settle();
    expect(api.calls).toEqual([]);
  });
});
