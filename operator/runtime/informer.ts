/**
 * The list + watch loop behind every informer cache (the informer contract, STYLE.md):
 * - list (paged), then watch from the list's resourceVersion. Every list is authoritative: the
 *   cache replaces its contents with it, so objects deleted while no watch was running (a watch
 *   gap) come out as deletions;
 * - a watch that ends (server timeout, quiet stream) resumes from the last resourceVersion seen;
 *   410 Gone relists;
 * - every other failure (connection refused or reset, timeouts, 401, 403, 429, 5xx) is retried
 *   forever with capped backoff: the loop never gives up and never exits the process;
 * - a 404 on the list means the API is not served (CRD not installed): reported, and listed
 *   again every `notServedRetryMs` (or sooner through `restart()`);
 * - a periodic relist (`relistMs`) catches anything a silently broken watch missed; it is routine
 *   (debug log), never reported as a failure;
 * - `stop()` aborts the request in flight at once: no watch outlives its cache.
 * The watch stream itself is client-node-free (node:http), so that aborts, timeouts and keep-alive
 * are ours; auth, CA and client certificates come from the KubeConfig as everywhere else.
 */
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { backoffDelay, sleep } from './backoff';
import { describeError } from './errors';
import {
  isGone,
  isNotFound,
  KubeApiError,
  kubeRequest,
  kubeWatch,
  watchQuery,
  type WatchEvent,
} from './kube-http';
import type { Logger } from './logger';

export interface ListWatchHandlers {
  /** A complete list: the cache's new contents. */
  onList(items: KubernetesObject[]): void;
  onEvent(type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KubernetesObject): void;
  /** The list answered 404: the API is not served. */
  onNotServed(): void;
}

export interface ListWatchOptions {
  readonly kubeConfig: KubeConfig;
  /** Collection path, e.g. /apis/gateway.networking.k8s.io/v1/httproutes */
  readonly path: string;
  /** What the cache is called in logs and messages, e.g. "httproutes.gateway.networking.k8s.io". */
  readonly resource: string;
  readonly logger: Logger;
  readonly handlers: ListWatchHandlers;
  readonly relistMs: number;
  readonly notServedRetryMs: number;
  readonly pageSize?: number;
  /** Accept headers (e.g. metadata-only); default JSON. */
  readonly accept?: { readonly list: string; readonly watch: string };
  /** Failures after the first are logged at most this often (warn). Default 60 s. */
  readonly failureLogEveryMs?: number;
  readonly random?: () => number;
}

const BACKOFF = { baseMs: 500, maxMs: 15_000 };
/** A watch that ends sooner than this is treated as a failure for backoff (no busy loop). */
const MIN_HEALTHY_WATCH_MS = 1_000;
/** No byte for this long (bookmarks come every minute): reconnect from the last resourceVersion. */
const WATCH_IDLE_MS = 150_000;

/** Why a watch attempt or list failed, leading with what to do. */
export function explainFailure(err: unknown, resource: string): string {
  if (err instanceof KubeApiError) {
    if (err.code === 401) {
      return `the API server rejected the credentials (401 Unauthorized); check the kubeconfig or the ServiceAccount token: ${err.message}`;
    }
    if (err.code === 403) {
      return `not allowed to list/watch ${resource} (403 Forbidden); check the ClusterRole (deploy/rbac.yaml): ${err.message}`;
    }
  }
  return describeError(err);
}

export class ListWatch {
  readonly #o: ListWatchOptions;
  readonly #log: Logger;
  #abort: AbortController | undefined;
  #loop: Promise<void> | undefined;
  #interrupt: AbortController | undefined;
  #relistDue = false;
  /** The last resourceVersion seen (list or watch), to resume a watch after a failure. */
  #lastRv: string | undefined;
  #relistTimer: NodeJS.Timeout | undefined;
  #failures = 0;
  #failingSince = 0;
  #lastWarn = 0;

  constructor(options: ListWatchOptions) {
    this.#o = options;
    this.#log = options.logger;
  }

  get running(): boolean {
    return this.#loop !== undefined;
  }

  start(): void {
    if (this.#loop !== undefined) return;
    const abort = new AbortController();
    this.#abort = abort;
    this.#loop = this.#run(abort.signal).catch((err: unknown) => {
      // #run handles every failure itself; reaching here is a bug, never a reason to exit.
      this.#log.error({ err: describeError(err) }, 'list/watch loop ended unexpectedly');
    });
    this.#scheduleRelist();
  }

  /** Aborts whatever is in flight and resolves once the loop has ended. */
  async stop(): Promise<void> {
    clearTimeout(this.#relistTimer);
    this.#relistTimer = undefined;
    this.#abort?.abort();
    const loop = this.#loop;
    this.#loop = undefined;
    await loop;
  }

  /** Lists again now, cutting a watch or a wait (the periodic relist; an API that appeared). */
  relist(): void {
    this.#relistDue = true;
    this.#interrupt?.abort();
  }

  #scheduleRelist(): void {
    clearTimeout(this.#relistTimer);
    const jitter = 0.9 + (this.#o.random ?? Math.random)() * 0.2;
    this.#relistTimer = setTimeout(() => {
      this.#log.debug('periodic relist');
      this.relist();
      this.#scheduleRelist();
    }, this.#o.relistMs * jitter);
    this.#relistTimer.unref();
  }

  async #run(signal: AbortSignal): Promise<void> {
    let rv: string | undefined;
    while (!signal.aborted) {
      const interrupt = new AbortController();
      this.#interrupt = interrupt;
      const attempt = AbortSignal.any([signal, interrupt.signal]);
      let listing = false;
      try {
        if (rv === undefined || this.#relistDue) {
          this.#relistDue = false;
          listing = true;
          rv = await this.#list(attempt);
          this.#recovered();
          listing = false;
        }
        const started = Date.now();
        rv = await this.#watch(rv, attempt);
        if (Date.now() - started < MIN_HEALTHY_WATCH_MS) {
          await pause(backoffDelay(this.#failures++, BACKOFF), attempt);
        }
      } catch (err) {
        if (attempt.aborted) continue; // stopped, or a relist cut the watch
        rv = await this.#handleFailure(err, listing, attempt);
      }
    }
  }

  /** Decides what a failure means; resolves (after any wait) with the resourceVersion to use. */
  async #handleFailure(
    err: unknown,
    listing: boolean,
    attempt: AbortSignal,
  ): Promise<string | undefined> {
    if (isGone(err)) {
      // The resourceVersion is too old (a long watch gap): the relist diff finds deletions.
      this.#log.debug({ err: describeError(err) }, 'resourceVersion expired; relisting');
      if (this.#failures > 0) await pause(backoffDelay(this.#failures++, BACKOFF), attempt);
      return undefined;
    }
    if (isNotFound(err)) {
      // A watch 404 is settled by the list: it decides whether the API is still served.
      if (!listing) return undefined;
      this.#failures = 0;
      this.#o.handlers.onNotServed();
      await pause(this.#o.notServedRetryMs, attempt);
      return undefined;
    }
    const delay = backoffDelay(this.#failures, BACKOFF);
    this.#failed(err, listing, delay);
    await pause(delay, attempt);
    // Resume the watch where it was; a list that failed is simply tried again.
    return listing ? undefined : this.#lastRv;
  }

  #failed(err: unknown, listing: boolean, retryInMs: number): void {
    const now = Date.now();
    if (this.#failures === 0) this.#failingSince = now;
    this.#failures++;
    const fields = {
      err: explainFailure(err, this.#o.resource),
      op: listing ? 'list' : 'watch',
      attempt: this.#failures,
      retryInMs,
    };
    if (this.#failures === 1 || now - this.#lastWarn >= (this.#o.failureLogEveryMs ?? 60_000)) {
      this.#lastWarn = now;
      this.#log.warn(fields, 'cannot reach the API server for this cache; retrying');
    } else {
      this.#log.debug(fields, 'still failing; retrying');
    }
  }

  #recovered(): void {
    if (this.#failures > 0 && this.#failingSince > 0) {
      this.#log.info(
        { failures: this.#failures, afterMs: Date.now() - this.#failingSince },
        'cache reconnected',
      );
    }
    this.#failures = 0;
    this.#failingSince = 0;
  }

  async #list(signal: AbortSignal): Promise<string | undefined> {
    const items: KubernetesObject[] = [];
    let token: string | undefined;
    let rv: string | undefined;
    const limit = this.#o.pageSize ?? 500;
    do {
      const query = new URLSearchParams({ limit: String(limit) });
      if (token !== undefined) query.set('continue', token);
      const page = await kubeRequest<{
        metadata?: { resourceVersion?: string; continue?: string };
        items?: KubernetesObject[];
      }>(this.#o.kubeConfig, {
        method: 'GET',
        path: `${this.#o.path}?${query.toString()}`,
        signal,
        ...(this.#o.accept ? { accept: this.#o.accept.list } : {}),
      });
      // The first page's resourceVersion is the snapshot every page belongs to.
      rv ??= page.metadata?.resourceVersion;
      items.push(...(page.items ?? []));
      token = page.metadata?.continue || undefined;
    } while (token !== undefined);
    if (signal.aborted) throw new Error('aborted');
    this.#o.handlers.onList(items);
    this.#lastRv = rv;
    return rv;
  }

  /** One watch from `rv`; resolves with the last resourceVersion seen when the stream ends. */
  async #watch(rv: string | undefined, signal: AbortSignal): Promise<string | undefined> {
    const { query } = watchQuery(rv, this.#o.random ? { random: this.#o.random } : {});
    await kubeWatch(
      this.#o.kubeConfig,
      {
        path: `${this.#o.path}?${query}`,
        signal,
        idleTimeoutMs: WATCH_IDLE_MS,
        onOpen: () => this.#recovered(),
        ...(this.#o.accept ? { accept: this.#o.accept.watch } : {}),
      },
      (event: WatchEvent) => {
        this.#lastRv = event.object.metadata?.resourceVersion ?? this.#lastRv;
        if (event.type !== 'BOOKMARK') {
          this.#o.handlers.onEvent(event.type, event.object);
        }
      },
    );
    return this.#lastRv;
  }
}

/** Waits `ms`, or less when the signal aborts; never rejects. */
async function pause(ms: number, signal: AbortSignal): Promise<void> {
  await sleep(ms, signal).catch(() => undefined);
}
