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

export async function kubeRequest<T = unknown>(kc: KubeConfig, req: KubeRequest): Promise<T> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  const url = new URL(req.path, cluster.server);
  const options: https.RequestOptions = {
    method: req.method,
    headers: { Accept: 'application/json' },
  };
  await kc.applyToHTTPSOptions(options);
  const payload = req.body === undefined ? undefined : JSON.stringify(req.body);
  if (payload !== undefined) {
    options.headers = {
      ...options.headers,
      'Content-Type': req.contentType ?? 'application/json',
      'Content-Length': Buffer.byteLength(payload),
    };
  }
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise<T>((resolve, reject) => {
    const request = transport.request(url, { ...options, signal: req.signal }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = text;
        try {
          parsed = text.length > 0 ? JSON.parse(text) : undefined;
        } catch {
          // not JSON: keep the text for the error message
        }
        const code = res.statusCode ?? 0;
        if (code >= 200 && code < 300) {
          resolve(parsed as T);
          return;
        }
        const status = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as {
          reason?: string;
          message?: string;
        };
        reject(
          new KubeApiError(
            code,
            status.reason ?? 'Unknown',
            `${req.method} ${req.path}: ${code} ${status.message ?? text.slice(0, 300)}`,
            parsed,
          ),
        );
      });
    });
    request.setTimeout(req.timeoutMs ?? 30_000, () => {
      request.destroy(new Error(`${req.method} ${req.path}: timed out`));
    });
    request.on('error', reject);
    if (payload !== undefined) request.write(payload);
    request.end();
  });
}

export function isNotFound(err: unknown): boolean {
  return err instanceof KubeApiError && err.code === 404;
}

export function isConflict(err: unknown): boolean {
  return err instanceof KubeApiError && err.code === 409;
}
