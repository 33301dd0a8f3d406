/**
 * Kubernetes Events (events.k8s.io/v1) for users: `kubectl describe` and `kubectl events` show why
 * dnsop did or refused something. The same (object, reason, note) is emitted at most once per
 * window, so a condition that persists across resyncs does not flood the API server.
 */
import { randomBytes } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import { describeError } from './errors';
import { kubeRequest } from './kube-http';
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
}

export interface EventSink {
  emit(event: EventInput): void;
}

export interface EventRecorderOptions {
  readonly kubeConfig: KubeConfig;
  readonly logger: Logger;
  /** reportingInstance: the pod name. */
  readonly instance: string;
  readonly dedupeWindowMs?: number;
  readonly now?: () => number;
}

const CONTROLLER = 'dnsop.io/dnsop';
const MAX_REMEMBERED = 10_000;

/** MicroTime wants exactly six fractional digits. */
export function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class EventRecorder implements EventSink {
  readonly #options: EventRecorderOptions;
  readonly #lastSent = new Map<string, number>();

  constructor(options: EventRecorderOptions) {
    this.#options = options;
  }

  /** Fire and forget: an Event that cannot be written is logged, never fails a reconcile. */
  emit(event: EventInput): void {
    const now = (this.#options.now ?? Date.now)();
    const r = event.regarding;
    const key = `${r.kind}/${r.namespace}/${r.name}/${r.uid ?? ''}|${event.reason}|${event.note}`;
    const last = this.#lastSent.get(key);
    if (last !== undefined && now - last < (this.#options.dedupeWindowMs ?? 600_000)) return;
    this.#lastSent.set(key, now);
    if (this.#lastSent.size > MAX_REMEMBERED) {
      const oldest = this.#lastSent.keys().next().value;
      if (oldest !== undefined) this.#lastSent.delete(oldest);
    }
    void this.#write(event, new Date(now)).catch((err: unknown) => {
      this.#options.logger.warn(
        { err: describeError(err), reason: event.reason },
        'could not write Event',
      );
    });
  }

  async #write(event: EventInput, at: Date): Promise<void> {
    const r = event.regarding;
    const body = {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: {
        name: `${r.name}.${randomBytes(8).toString('hex')}`.slice(0, 253),
        namespace: r.namespace,
      },
      eventTime: microTime(at),
      reportingController: CONTROLLER,
      reportingInstance: this.#options.instance.slice(0, 128),
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
    };
    await kubeRequest(this.#options.kubeConfig, {
      method: 'POST',
      path: `/apis/events.k8s.io/v1/namespaces/${encodeURIComponent(r.namespace)}/events`,
      body,
    });
  }
}

/** Collects events in memory: for offline commands and unit tests. */
export class MemoryEventSink implements EventSink {
  readonly events: EventInput[] = [];
  emit(event: EventInput): void {
    this.events.push(event);
  }
}
