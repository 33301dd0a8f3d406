/**
 * Watches exactly the Secrets that DNSPolicies name, so a created, fixed or rotated credentials
 * Secret is used within seconds instead of at the next resync (or, for a policy being deleted,
 * never: seen in the field as a policy stuck Terminating until an operator restart).
 *
 * One watch per referenced Secret (field selector metadata.name), not an informer over every
 * Secret in the cluster: the operator never holds other Secrets' data in memory, and needs only
 * `get` and `watch` on secrets, never `list` (a watch restricted to one name is also what a Role
 * with resourceNames allows, for when Secret reads are limited to listed namespaces).
 *
 * What it reports is a Secret's resourceVersion: `null` when it does not exist, undefined while
 * not known yet. The reconciler compares it with the version its cached provider was built from.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { backoffDelay } from '../runtime/backoff';
import { describeError } from '../runtime/errors';
import { isGone, isNotFound, kubeRequest, kubeWatch, watchQuery } from '../runtime/kube-http';
import type { Logger } from '../runtime/logger';

/** A Secret's resourceVersion; null: it does not exist. */
export type SecretVersion = string | null;

export interface SecretWatchEvent {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  /** resourceVersion of the object (or of the bookmark); the Status code for ERROR. */
  readonly resourceVersion?: string;
  readonly code?: number;
}

/** The two calls the watcher makes; the default is the API server, tests pass a fake. */
export interface SecretWatchApi {
  /** The Secret's resourceVersion, or null when it does not exist. */
  version(namespace: string, name: string, signal: AbortSignal): Promise<SecretVersion>;
  /** Streams events until the server ends the watch (resolve) or it fails (reject). */
  watch(
    namespace: string,
    name: string,
    resourceVersion: string | undefined,
    onEvent: (e: SecretWatchEvent) => void,
    signal: AbortSignal,
  ): Promise<void>;
}

export interface SecretWatcherOptions {
  readonly logger: Logger;
  readonly api: SecretWatchApi;
  /** Called when a watched Secret's version becomes known or changes ("namespace/name"). */
  readonly onChange: (secret: string, version: SecretVersion) => void;
  readonly maxBackoffMs?: number;
}

interface Entry {
  readonly namespace: string;
  readonly name: string;
  readonly readers: Set<string>;
  readonly abort: AbortController;
  version: SecretVersion | undefined;
}

export class SecretWatcher {
  readonly #o: SecretWatcherOptions;
  readonly #log: Logger;
  /** "namespace/name" of a Secret -> its watch. */
  readonly #entries = new Map<string, Entry>();
  /** Reader (a policy key) -> the Secrets it reads. */
  readonly #readers = new Map<string, readonly string[]>();
  #started = false;

  constructor(options: SecretWatcherOptions) {
    this.#o = options;
    this.#log = options.logger.child({ component: 'secret-watch' });
  }

  start(): void {
    this.#started = true;
    for (const [key, entry] of this.#entries) this.#run(key, entry);
  }

  stop(): void {
    this.#started = false;
    for (const entry of this.#entries.values()) entry.abort.abort();
    this.#entries.clear();
    this.#readers.clear();
  }

  /** Sets the Secrets ("namespace/name") one reader uses; watches start and stop to match. */
  track(reader: string, secrets: readonly string[]): void {
    const before = this.#readers.get(reader) ?? [];
    if (before.length === secrets.length && before.every((s, i) => s === secrets[i])) return;
    for (const key of before) {
      const entry = this.#entries.get(key);
      entry?.readers.delete(reader);
      if (entry !== undefined && entry.readers.size === 0) {
        entry.abort.abort();
        this.#entries.delete(key);
      }
    }
    if (secrets.length === 0) this.#readers.delete(reader);
    else this.#readers.set(reader, [...secrets]);
    for (const key of secrets) {
      let entry = this.#entries.get(key);
      if (entry === undefined) {
        const slash = key.indexOf('/');
        entry = {
          namespace: key.slice(0, slash),
          name: key.slice(slash + 1),
          readers: new Set(),
          abort: new AbortController(),
          version: undefined,
        };
        this.#entries.set(key, entry);
        if (this.#started) this.#run(key, entry);
      }
      entry.readers.add(reader);
    }
  }

  /** The Secret's last seen resourceVersion; null if it does not exist; undefined if not known. */
  version(secret: string): SecretVersion | undefined {
    return this.#entries.get(secret)?.version;
  }

  /** The readers of a Secret. */
  readers(secret: string): string[] {
    return [...(this.#entries.get(secret)?.readers ?? [])];
  }

  /** Number of Secrets watched (one watch each). */
  get size(): number {
    return this.#entries.size;
  }

  #run(key: string, entry: Entry): void {
    void this.#loop(key, entry).catch((err: unknown) => {
      if (!entry.abort.signal.aborted)
        this.#log.error({ secret: key, err: describeError(err) }, 'secret watch stopped');
    });
  }

  #learn(key: string, entry: Entry, version: SecretVersion): void {
    if (entry.version === version || entry.abort.signal.aborted) return;
    entry.version = version;
    this.#o.onChange(key, version);
  }

  /** GET for the current state, then watch from it; on any end, again (with backoff on failure). */
  async #loop(key: string, entry: Entry): Promise<void> {
    const { signal } = entry.abort;
    let from: string | undefined;
    let failures = 0;
    while (!signal.aborted) {
      try {
        if (from === undefined) {
          const version = await this.#o.api.version(entry.namespace, entry.name, signal);
          this.#learn(key, entry, version);
          // Absent: watch from "now" with no version, so a Secret created meanwhile arrives as ADDED.
          from = version ?? undefined;
        }
        let expired = false;
        await this.#o.api.watch(
          entry.namespace,
          entry.name,
          from,
          (e) => {
            failures = 0;
            if (e.type === 'ERROR') {
              expired = e.code === 410;
              return;
            }
            if (e.resourceVersion !== undefined) from = e.resourceVersion;
            if (e.type === 'ADDED' || e.type === 'MODIFIED')
              this.#learn(key, entry, e.resourceVersion ?? null);
            else if (e.type === 'DELETED') this.#learn(key, entry, null);
          },
          signal,
        );
        if (expired) from = undefined;
      } catch (err) {
        if (signal.aborted) return;
        from = undefined;
        const delay = backoffDelay(failures++, {
          baseMs: 500,
          maxMs: this.#o.maxBackoffMs ?? 30_000,
        });
        this.#log.warn(
          { secret: key, err: describeError(err), retryInMs: delay },
          'secret watch failed; retrying',
        );
        await abortableSleep(delay, signal);
      }
    }
  }
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    timer.unref();
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** The API server behind SecretWatchApi: GET one Secret, watch one name. */
export function kubeSecretWatchApi(kubeConfig: KubeConfig): SecretWatchApi {
  const path = (namespace: string): string =>
    `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets`;
  return {
    async version(namespace, name, signal) {
      try {
        const secret = await kubeRequest<{ metadata?: { resourceVersion?: string } }>(kubeConfig, {
          method: 'GET',
          path: `${path(namespace)}/${encodeURIComponent(name)}`,
          signal,
        });
        return secret.metadata?.resourceVersion ?? '';
      } catch (err) {
        if (isNotFound(err)) return null;
        throw err;
      }
    },
    async watch(namespace, name, resourceVersion, onEvent, signal) {
      // Fifty policies' Secrets reconnect ~one every 9 s, each over a kept-alive connection.
      const { query, timeoutSeconds } = watchQuery(resourceVersion, {
        fieldSelector: `metadata.name=${name}`,
      });
      try {
        await kubeWatch(
          kubeConfig,
          {
            path: `${path(namespace)}?${query}`,
            signal,
            // A quiet Secret sends nothing: past the server's own deadline the connection is dead.
            idleTimeoutMs: (timeoutSeconds + 30) * 1000,
          },
          (event) => {
            const version = event.object.metadata?.resourceVersion;
            onEvent({
              type: event.type,
              ...(version !== undefined ? { resourceVersion: version } : {}),
            });
          },
        );
      } catch (err) {
        if (signal.aborted) return;
        // An expired resourceVersion is not a failure: the loop reads the Secret again.
        if (isGone(err)) onEvent({ type: 'ERROR', code: 410 });
        else throw err;
      }
    },
  };
}
