/**
 * Kubernetes Events (events.k8s.io/v1) for users: `kubectl describe` and `kubectl events` show why
 * dnsop did or refused something.
 *
 * Aggregated as the Kubernetes event correlator does (DESIGN.md, Conditions): one Event per object
 * and reason (and per `aggregateBy` value, e.g. a probe target); a repeat raises that Event's
 * `series.count` instead of posting a new Event, and each Event is written at most once per
 * `minWriteIntervalMs` (repeats in between are counted and written together when the interval is
 * up). So a condition that persists across resyncs and relists costs one Event whose count grows,
 * never a stream of new ones. An Event's note is immutable in the API: a repeat with a different
 * note starts a new Event (still at most one write per interval).
 */
import { randomBytes } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import { describeError } from './errors';
import { isNotFound, kubeRequest, MERGE_PATCH } from './kube-http';
import type { Logger } from './logger';

export interface EventTarget {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid?: string;
}

export interface EventInput {
  readonly regarding: EventTarget;
  readonly type: 'Normal' | 'Warning';
  /** CamelCase, e.g. NotAllowedByListeners. */
  readonly reason: string;
  /** What dnsop did or failed to do, e.g. Sync, Evict. */
  readonly action: string;
  readonly note: string;
  /**
   * Aggregate per this value too (e.g. a probe target's address): repeats for the same object,
   * reason and value raise one Event's count; another value gets its own Event.
   */
  readonly aggregateBy?: string;
}

export interface EventSink {
  emit(event: EventInput): void;
}

/** The two writes an aggregated Event needs; the default talks to the API server. */
export interface EventWriter {
  /** Creates the Event (its name is in the body). */
  create(namespace: string, body: EventBody): Promise<void>;
  /** Raises the count of an existing Event; rejects with a 404 KubeApiError when it is gone. */
  patchSeries(namespace: string, name: string, series: EventSeries): Promise<void>;
}

export interface EventSeries {
  readonly count: number;
  readonly lastObservedTime: string;
}

export interface EventBody {
  readonly apiVersion: 'events.k8s.io/v1';
  readonly kind: 'Event';
  readonly metadata: { readonly name: string; readonly namespace: string };
  readonly eventTime: string;
  readonly series?: EventSeries;
  readonly reportingController: string;
  readonly reportingInstance: string;
  readonly action: string;
  readonly reason: string;
  readonly type: string;
  readonly note: string;
  readonly regarding: EventTarget;
}

export interface EventRecorderOptions {
  readonly kubeConfig: KubeConfig;
  readonly logger: Logger;
  /** reportingInstance: the pod name. */
  readonly instance: string;
  /** At most one write per aggregated Event in this period. Default 60 s. */
  readonly minWriteIntervalMs?: number;
  readonly now?: () => number;
  /** Replaces the API writes (unit tests). */
  readonly writer?: EventWriter;
}

const CONTROLLER = 'dnsop.io/dnsop';
const MAX_REMEMBERED = 10_000;
const DEFAULT_MIN_WRITE_INTERVAL_MS = 60_000;

/** MicroTime wants exactly six fractional digits. */
export function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** One aggregated Event: what was written, and what has been seen since. */
interface Aggregate {
  /** Name of the Event object in the API; undefined until created. */
  name: string | undefined;
  /** Note of the Event in the API. */
  writtenNote: string;
  /** series.count written (1 for an Event without series). */
  writtenCount: number;
  /** Occurrences seen for the current Event. */
  count: number;
  latest: EventInput;
  lastObserved: number;
  lastWriteAt: number;
  timer: NodeJS.Timeout | undefined;
  writing: boolean;
}

export class EventRecorder implements EventSink {
  readonly #o: EventRecorderOptions;
  readonly #writer: EventWriter;
  readonly #aggregates = new Map<string, Aggregate>();
  #closed = false;

  constructor(options: EventRecorderOptions) {
    this.#o = options;
    this.#writer = options.writer ?? apiEventWriter(options.kubeConfig);
  }

  /** Fire and forget: an Event that cannot be written is logged, never fails a reconcile. */
  emit(event: EventInput): void {
    if (this.#closed) return;
    const now = this.#now();
    const key = aggregationKey(event);
    const agg = this.#aggregates.get(key);
    if (agg === undefined) {
      this.#remember(key, {
        name: undefined,
        writtenNote: event.note,
        writtenCount: 0,
        count: 1,
        latest: event,
        lastObserved: now,
        lastWriteAt: now,
        timer: undefined,
        writing: false,
      });
      this.#flush(key);
      return;
    }
    // Most recently used last, so eviction drops the oldest.
    this.#aggregates.delete(key);
    this.#aggregates.set(key, agg);
    if (event.note !== agg.latest.note) {
      // A new note is a new Event (notes are immutable); back to the written note, its count goes on.
      agg.count = event.note === agg.writtenNote ? agg.writtenCount : 0;
    }
    agg.count++;
    agg.latest = event;
    agg.lastObserved = now;
    this.#schedule(key, agg, now);
  }

  /** Stops writing: pending counts are dropped, timers cleared. */
  close(): void {
    this.#closed = true;
    for (const agg of this.#aggregates.values()) clearTimeout(agg.timer);
    this.#aggregates.clear();
  }

  #now(): number {
    return (this.#o.now ?? Date.now)();
  }

  #interval(): number {
    return this.#o.minWriteIntervalMs ?? DEFAULT_MIN_WRITE_INTERVAL_MS;
  }

  #remember(key: string, agg: Aggregate): void {
    this.#aggregates.set(key, agg);
    if (this.#aggregates.size > MAX_REMEMBERED) {
      const [oldestKey, oldest] = this.#aggregates.entries().next().value as [string, Aggregate];
      clearTimeout(oldest.timer);
      this.#aggregates.delete(oldestKey);
    }
  }

  #schedule(key: string, agg: Aggregate, now: number): void {
    if (agg.timer !== undefined || agg.writing) return;
    const due = agg.lastWriteAt + this.#interval() - now;
    if (due <= 0) {
      this.#flush(key);
      return;
    }
    agg.timer = setTimeout(() => {
      agg.timer = undefined;
      this.#flush(key);
    }, due);
    agg.timer.unref();
  }

  /** Writes what the aggregate has seen since its last write, if anything. */
  #flush(key: string): void {
    const agg = this.#aggregates.get(key);
    if (agg === undefined || this.#closed || agg.writing) return;
    const sameEvent = agg.name !== undefined && agg.latest.note === agg.writtenNote;
    if (sameEvent && agg.count === agg.writtenCount) return;
    const now = this.#now();
    agg.writing = true;
    agg.lastWriteAt = now;
    const count = agg.count;
    const write = sameEvent
      ? this.#patch(agg, count)
      : this.#create(agg, count).then((name) => {
          agg.name = name;
          agg.writtenNote = agg.latest.note;
        });
    void write
      .then(() => {
        agg.writtenCount = count;
      })
      .catch((err: unknown) => {
        agg.writtenCount = count;
        this.#o.logger.warn(
          { err: describeError(err), reason: agg.latest.reason },
          'could not write Event',
        );
      })
      .finally(() => {
        agg.writing = false;
        // Occurrences that arrived during the write go out after the next interval.
        if (agg.count !== agg.writtenCount) this.#schedule(key, agg, this.#now());
      });
  }

  async #patch(agg: Aggregate, count: number): Promise<void> {
    const ns = agg.latest.regarding.namespace;
    try {
      await this.#writer.patchSeries(ns, agg.name!, {
        count,
        lastObservedTime: microTime(new Date(agg.lastObserved)),
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      // Expired (the API server's event TTL) or deleted: start again.
      agg.name = await this.#create(agg, count);
    }
  }

  async #create(agg: Aggregate, count: number): Promise<string> {
    const event = agg.latest;
    const r = event.regarding;
    const name = `${r.name}.${randomBytes(8).toString('hex')}`.slice(0, 253);
    const observed = new Date(agg.lastObserved);
    await this.#writer.create(r.namespace, {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name, namespace: r.namespace },
      eventTime: microTime(observed),
      // The API wants a series only from the second occurrence on.
      ...(count > 1 ? { series: { count, lastObservedTime: microTime(observed) } } : {}),
      reportingController: CONTROLLER,
      reportingInstance: this.#o.instance.slice(0, 128),
      action: event.action,
      reason: event.reason,
      type: event.type,
      note: event.note.slice(0, 1024),
      regarding: {
        apiVersion: r.apiVersion,
        kind: r.kind,
        namespace: r.namespace,
        name: r.name,
        ...(r.uid ? { uid: r.uid } : {}),
      },
    });
    return name;
  }
}

function aggregationKey(event: EventInput): string {
  const r = event.regarding;
  return [r.kind, r.namespace, r.name, r.uid ?? '', event.reason, event.aggregateBy ?? ''].join(
    '\u0000',
  );
}

function eventsPath(namespace: string): string {
  return `/apis/events.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/events`;
}

/** Events written with the operator's own credentials. */
export function apiEventWriter(kubeConfig: KubeConfig): EventWriter {
  return {
    create: async (namespace, body) => {
      await kubeRequest(kubeConfig, { method: 'POST', path: eventsPath(namespace), body });
    },
    patchSeries: async (namespace, name, series) => {
      await kubeRequest(kubeConfig, {
        method: 'PATCH',
        path: `${eventsPath(namespace)}/${encodeURIComponent(name)}`,
        contentType: MERGE_PATCH,
        body: { series },
      });
    },
  };
}

/** Collects events in memory: for offline commands and unit tests. */
export class MemoryEventSink implements EventSink {
  readonly events: EventInput[] = [];
  emit(event: EventInput): void {
    this.events.push(event);
  }
}
