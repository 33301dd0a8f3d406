/**
 * A small raw Kubernetes API client for the requests where the generated clients get in the way:
 * exact content types (merge patch), MicroTime fields (events), preconditions (leases, status).
 * Auth, CA and client certs come from the KubeConfig, like every other client here.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

export const MERGE_PATCH = 'application/merge-patch+json';
export const JSON_PATCH = 'application/json-patch+json';

export interface KubeRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path under the server URL, e.g. /apis/coordination.k8s.io/v1/namespaces/x/leases/y */
  readonly path: string;
  readonly body?: unknown;
  readonly contentType?: string;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /** Accept header; default application/json. */
  readonly accept?: string;
}

/** A non-2xx answer from the API server, with its Status reason and message. */
export class KubeApiError extends Error {
  override readonly name = 'KubeApiError';
  readonly code: number;
  readonly reason: string;
  readonly body: unknown;
  constructor(code: number, reason: string, message: string, body: unknown) {
    super(message);
    this.code = code;
    this.reason = reason;
    this.body = body;
  }
}

/**
 * One kept-alive agent per KubeConfig and TLS identity, for requests and watches alike:
 * KubeConfig.applyToHTTPSOptions builds a new agent per call, so every request paid a TCP and TLS
 * handshake (most of an idle operator's CPU, and milliseconds on each status write), and a watch
 * the server ended was followed by a new handshake. The agent has no socket limit; pooled idle
 * sockets do not keep the process alive. A cluster behind a proxy keeps the library's proxy agent.
 */
const agents = new WeakMap<KubeConfig, { identity: string; agent: http.Agent }>();

/** CA, certificate or key material as text (strings, Buffers, arrays of them, {pem} objects). */
function tlsText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('latin1');
  if (Array.isArray(value)) return value.map(tlsText).join('\n');
  if (typeof value === 'object' && 'pem' in value) return tlsText(value.pem);
  return JSON.stringify(value) ?? '';
}

function keptAliveAgent(kc: KubeConfig, options: https.RequestOptions, tls: boolean): http.Agent {
  const { ca, cert, key, pfx, passphrase, servername, rejectUnauthorized } = options;
  const identity = [ca, cert, key, pfx, passphrase, servername, String(rejectUnauthorized)]
    .map(tlsText)
    .join('\u0000');
  const known = agents.get(kc);
  if (known?.identity === identity) return known.agent;
  const agent = tls
    ? new https.Agent({
        keepAlive: true,
        ...Object.fromEntries(
          Object.entries({ ca, cert, key, pfx, passphrase, servername, rejectUnauthorized }).filter(
            ([, v]) => v !== undefined,
          ),
        ),
      })
    : new http.Agent({ keepAlive: true });
  known?.agent.destroy();
  agents.set(kc, { identity, agent });
  return agent;
}

/**
 * URL and request options (auth, CA, client certificate, the kept-alive agent) for a request or
 * watch to the API server.
 */
async function requestOptions(
  kc: KubeConfig,
  method: KubeRequest['method'],
  path: string,
  accept: string | undefined,
): Promise<{ url: URL; options: https.RequestOptions }> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  const url = new URL(path, cluster.server);
  const options: https.RequestOptions = {
    method,
    headers: { Accept: accept ?? 'application/json' },
  };
  await kc.applyToHTTPSOptions(options);
  if (!cluster.proxyUrl) options.agent = keptAliveAgent(kc, options, url.protocol === 'https:');
  return { url, options };
}

/**
 * The query of a reflector's watch from `resourceVersion`, as client-go's: bookmarks, and a
 * server-side timeout of 5-10 min at random, so that a silently dead connection is replaced and
 * many watches do not reconnect together. Returns the timeout too (for the idle deadline).
 */
export function watchQuery(
  resourceVersion: string | undefined,
  options: { readonly fieldSelector?: string; readonly random?: () => number } = {},
): { readonly query: string; readonly timeoutSeconds: number } {
  const timeoutSeconds = Math.round(300 + (options.random ?? Math.random)() * 300);
  const query = new URLSearchParams({
    watch: 'true',
    ...(options.fieldSelector !== undefined ? { fieldSelector: options.fieldSelector } : {}),
    allowWatchBookmarks: 'true',
    timeoutSeconds: String(timeoutSeconds),
  });
  if (resourceVersion !== undefined) query.set('resourceVersion', resourceVersion);
  return { query: query.toString(), timeoutSeconds };
}

/** The error for a non-2xx answer, with the Status reason and message when the body has them. */
function apiError(method: string, path: string, code: number, text: string): KubeApiError {
  let parsed: unknown = text;
  try {
    parsed = text.length > 0 ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text for the error message
  }
  const status = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as {
    reason?: string;
    message?: string;
  };
  return new KubeApiError(
    code,
    status.reason ?? 'Unknown',
    `${method} ${path}: ${code} ${status.message ?? text.slice(0, 300)}`,
    parsed,
  );
}

export async function kubeRequest<T = unknown>(kc: KubeConfig, req: KubeRequest): Promise<T> {
  const { url, options } = await requestOptions(kc, req.method, req.path, req.accept);
  const payload = req.body === undefined ? undefined : JSON.stringify(req.body);
  if (payload !== undefined) {
    options.headers = {
      ...options.headers,
      'Content-Type': req.contentType ?? 'application/json',
      'Content-Length': Buffer.byteLength(payload),
    };
  }
  const transport = url.protocol === 'https:' ? https : http;
  const timeoutMs = req.timeoutMs ?? 30_000;
  // A deadline for the whole request, connecting included (a socket timeout starts only once
  // connected, so a black-holed API server would otherwise hold a request for minutes).
  const deadline = AbortSignal.timeout(timeoutMs);
  const signal = req.signal ? AbortSignal.any([req.signal, deadline]) : deadline;
  return new Promise<T>((resolve, reject) => {
    const fail = (err: Error): void => {
      reject(
        deadline.aborted && !req.signal?.aborted
          ? new Error(`${req.method} ${req.path}: no answer within ${timeoutMs} ms`, { cause: err })
          : err,
      );
    };
    const request = transport.request(url, { ...options, signal }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', fail);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const code = res.statusCode ?? 0;
        if (code < 200 || code >= 300) {
          reject(apiError(req.method, req.path, code, text));
          return;
        }
        try {
          resolve((text.length > 0 ? JSON.parse(text) : undefined) as T);
        } catch {
          resolve(text as T);
        }
      });
    });
    request.on('error', fail);
    if (payload !== undefined) request.write(payload);
    request.end();
  });
}

export interface WatchEvent {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';
  readonly object: { metadata?: { resourceVersion?: string } } & Record<string, unknown>;
}

export interface KubeWatch {
  /** Path of the watch, query included (watch=true, resourceVersion, timeoutSeconds, ...). */
  readonly path: string;
  readonly accept?: string;
  readonly signal: AbortSignal;
  /** The stream is ended (as if the server had ended it) when nothing arrived for this long. */
  readonly idleTimeoutMs: number;
  /** Called once the server has accepted the watch (200). */
  readonly onOpen?: () => void;
}

/**
 * One watch request: calls `onEvent` for each event until the server ends the stream (resolves)
 * or it fails (rejects: a KubeApiError for a non-200 answer or an ERROR event, e.g. 410 Gone).
 * Aborting the signal destroys the connection at once.
 */
export async function kubeWatch(
  kc: KubeConfig,
  watch: KubeWatch,
  onEvent: (event: WatchEvent) => void,
): Promise<void> {
  const { url, options } = await requestOptions(kc, 'GET', watch.path, watch.accept);
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise<void>((resolve, reject) => {
    const request = transport.request(url, { ...options, signal: watch.signal }, (res) => {
      const code = res.statusCode ?? 0;
      if (code !== 200) {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () =>
          reject(apiError('GET', watch.path, code, Buffer.concat(chunks).toString('utf8'))),
        );
        return;
      }
      watch.onOpen?.();
      let buffered = '';
      const fail = (err: Error): void => {
        request.destroy();
        reject(err);
      };
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffered += chunk;
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          if (line.length === 0) continue;
          let event: { type?: string; object?: Record<string, unknown> };
          try {
            event = JSON.parse(line) as typeof event;
          } catch (err) {
            fail(new Error(`GET ${watch.path}: watch event is not JSON`, { cause: err }));
            return;
          }
          if (event.type === 'ERROR') {
            const status = (event.object ?? {}) as {
              code?: number;
              reason?: string;
              message?: string;
            };
            fail(
              new KubeApiError(
                status.code ?? 500,
                status.reason ?? 'Unknown',
                `GET ${watch.path}: ${status.code ?? ''} ${status.message ?? 'watch error'}`,
                status,
              ),
            );
            return;
          }
          onEvent(event as WatchEvent);
        }
      });
      res.on('error', reject);
      res.on('aborted', () => reject(new Error(`GET ${watch.path}: watch connection lost`)));
      res.on('end', () => resolve());
    });
    request.setTimeout(watch.idleTimeoutMs, () => {
      // A quiet stream is not an error: the caller resumes from the last resourceVersion, and a
      // connection that silently died fails there.
      request.destroy();
      resolve();
    });
    request.on('socket', (socket) => socket.setKeepAlive(true, 30_000));
    request.on('error', reject);
    request.end();
  });
}

export function isGone(err: unknown): boolean {
  return err instanceof KubeApiError && err.code === 410;
}

export function isNotFound(err: unknown): boolean {
  return err instanceof KubeApiError && err.code === 404;
}

export function isConflict(err: unknown): boolean {
  return err instanceof KubeApiError && err.code === 409;
}
