import { request } from 'node:https';

export interface HttpsGetOptions {
  /** PEM CA bundle the server certificate must chain to. */
  readonly ca: string;
  readonly bearerToken?: string;
  readonly timeoutMs?: number;
}

/** GET over TLS with a private CA; resolves the status code and body, rejects on network errors. */
export async function httpsGet(
  url: string,
  options: HttpsGetOptions,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (options.bearerToken !== undefined)
      headers['Authorization'] = `Bearer ${options.bearerToken}`;
    const req = request(
      url,
      { method: 'GET', ca: options.ca, headers, timeout: options.timeoutMs ?? 2_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}
