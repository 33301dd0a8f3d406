import { KubeConfig } from '@kubernetes/client-node';
import {
  EventRecorder,
  microTime,
  type EventBody,
  type EventInput,
  type EventWriter,
} from './events';
import { KubeApiError } from './kube-http';
import { silentLogger } from './logger';

describe('microTime', () => {
  it('formats with exactly six fractional digits, as the API server parses MicroTime', () => {
    expect(microTime(new Date('2026-11-22T10:00:00.123Z'))).toBe('2026-11-22T10:00:00.123000Z');
    expect(microTime(new Date('2026-11-22T10:00:00Z'))).toBe('2026-11-22T10:00:00.000000Z');
  });
});

interface Written {
  readonly op: 'create' | 'patch';
  readonly name: string;
  readonly note?: string;
  readonly count: number;
}

function fakeWriter(): EventWriter & { writes: Written[]; gone: Set<string> } {
  const writes: Written[] = [];
  const gone = new Set<string>();
  return {
    writes,
    gone,
    create: (_ns: string, body: EventBody) => {
      writes.push({
        op: 'create',
        name: body.metadata.name,
        note: body.note,
        count: body.series?.count ?? 1,
      });
      return Promise.resolve();
    },
    patchSeries: (_ns, name, series) => {
      if (gone.has(name)) return Promise.reject(new KubeApiError(404, 'NotFound', 'gone', {}));
      writes.push({ op: 'patch', name, count: series.count });
      return Promise.resolve();
    },
  };
}

const event = (over: Partial<EventInput> = {}): EventInput => ({
  regarding: { apiVersion: 'dnsop.io/v1alpha1', kind: 'DNSPolicy', namespace: 'shop', name: 'p' },
  type: 'Warning',
  reason: 'DeleteGuard',
  action: 'Sync',
  note: 'refusing to delete 4 of 6 owned records',
  ...over,
});

describe('EventRecorder aggregation', () => {
  let writer: ReturnType<typeof fakeWriter>;
  let recorder: EventRecorder;

  beforeEach(() => {
    jest.useFakeTimers();
    writer = fakeWriter();
    recorder = new EventRecorder({
      kubeConfig: new KubeConfig(),
      logger: silentLogger(),
      instance: 'test',
      writer,
    });
  });

  afterEach(() => {
    recorder.close();
    jest.useRealTimers();
  });

  /** Lets the fake writer's promises settle. */
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };

  it('posts one Event, then raises its count at most once a minute however often it repeats', async () => {
    recorder.emit(event());
    await settle();
    for (let i = 0; i < 10; i++) {
      recorder.emit(event()); // e.g. a resync or a relist every few seconds
      jest.advanceTimersByTime(5_000);
      await settle();
    }
    // 50 s in: still the one create; the repeats wait for the interval.
    expect(writer.writes).toEqual([expect.objectContaining({ op: 'create', count: 1 })]);
    jest.advanceTimersByTime(10_000);
    await settle();
    const name = writer.writes[0]!.name;
    expect(writer.writes.slice(1)).toEqual([{ op: 'patch', name, count: 11 }]);
    // Nothing new: nothing written.
    jest.advanceTimersByTime(120_000);
    await settle();
    expect(writer.writes).toHaveLength(2);
  });

  it('keeps one Event per object and reason, and per aggregateBy value', async () => {
    recorder.emit(event({ aggregateBy: '10.0.0.1' }));
    recorder.emit(event({ aggregateBy: '10.0.0.2' }));
    recorder.emit(event({ reason: 'ProviderError' }));
    recorder.emit(event({ regarding: { ...event().regarding, name: 'q' } }));
    recorder.emit(event({ aggregateBy: '10.0.0.1' }));
    await settle();
    expect(writer.writes.map((w) => w.op)).toEqual(['create', 'create', 'create', 'create']);
  });

  it('starts a new Event when the note changes (notes are immutable), one write per interval', async () => {
    recorder.emit(event({ note: 'a' }));
    await settle();
    recorder.emit(event({ note: 'b' }));
    await settle();
    expect(writer.writes).toHaveLength(1);
    jest.advanceTimersByTime(60_000);
    await settle();
    expect(writer.writes[1]).toMatchObject({ op: 'create', note: 'b', count: 1 });
  });

  it('creates the Event again when the API server has expired it', async () => {
    recorder.emit(event());
    await settle();
    writer.gone.add(writer.writes[0]!.name);
    recorder.emit(event());
    jest.advanceTimersByTime(60_000);
    await settle();
    expect(writer.writes[1]).toMatchObject({ op: 'create', count: 2 });
  });

  it('writes nothing after close', async () => {
    recorder.close();
    recorder.emit(event());
    await settle();
    expect(writer.writes).toEqual([]);
  });
});
