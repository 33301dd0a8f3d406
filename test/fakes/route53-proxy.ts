/**
 * A loopback HTTP proxy in front of a Route 53 endpoint (moto): records every request so tests
 * can check what the provider actually sent (batch sizes, AliasTarget or not), and can answer
 * the next N matching requests with a Route 53 error (Throttling, PriorRequestNotComplete)
 * instead of forwarding them, and can refuse an access key as AWS would refuse a bad one (moto
 * itself accepts any credentials).
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

export interface ProxiedRequest {
  readonly method: string;
  /** Path and query, e.g. /2013-04-01/hostedzone/Z1/rrset. */
  readonly path: string;
  readonly body: string;
  /** HTTP status returned to the client. */
  status: number;
  /** True when the proxy answered with an injected error instead of forwarding. */
  readonly injected: boolean;
  /** Time the upstream (moto) took to answer, ms. */
  upstreamMs?: number;
  /** The access key id the request was signed with (SigV4 Credential=...). */
  readonly accessKeyId?: string;
}

export interface ChangeBatchStats {
  readonly changes: number;
  /** Changes weighted as Route 53 counts them (UPSERT twice). */
  readonly weightedChanges: number;
  /** Characters of all <Value> elements, UPSERT counted twice. */
  readonly valueChars: number;
  readonly names: readonly string[];
  readonly hasAliasTarget: boolean;
}

type Matcher = (method: string, path: string, body: string) => boolean;

/** ChangeResourceRecordSets: POST /2013-04-01/hostedzone/{Id}/rrset (trailing slash optional). */
export const isChangeBatch: Matcher = (method, path) =>
  method === 'POST' && /^\/2013-04-01\/hostedzone\/[^/]+\/rrset\/?(\?|$)/.test(path);

/** ListResourceRecordSets: GET /2013-04-01/hostedzone/{Id}/rrset. */
export const isListRecordSets: Matcher = (method, path) =>
  method === 'GET' && /^\/2013-04-01\/hostedzone\/[^/]+\/rrset\/?(\?|$)/.test(path);

export class Route53Proxy {
  readonly requests: ProxiedRequest[] = [];
  readonly #server: Server;
  readonly #upstream: string;
  #faults: { match: Matcher; code: string; message: string; remaining: number }[] = [];
  readonly #deniedKeys = new Set<string>();

  private constructor(server: Server, upstream: string) {
    this.#server = server;
    this.#upstream = upstream.replace(/\/$/, '');
  }

  static async start(upstream: string): Promise<Route53Proxy> {
    const server = createServer();
    const proxy = new Route53Proxy(server, upstream);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      void proxy.#handle(req, res);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return proxy;
  }

  get endpoint(): string {
    const { port } = this.#server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  /**
   * Answers the next `times` requests that `match` (method, path, body) with HTTP 400 and the
   * given Route 53 error code instead of forwarding them.
   */
  failNext(
    times: number,
    code = 'Throttling',
    match: Matcher = isChangeBatch,
    message = 'Rate exceeded',
  ): void {
    this.#faults.push({ match, code, message, remaining: times });
  }

  /** Answers every request signed with this access key id 403 InvalidClientTokenId, as AWS does. */
  denyAccessKey(accessKeyId: string): void {
    this.#deniedKeys.add(accessKeyId);
  }

  /** The ChangeResourceRecordSets requests forwarded upstream and accepted. */
  acceptedChangeBatches(): ChangeBatchStats[] {
    return this.requests
      .filter((r) => isChangeBatch(r.method, r.path, r.body) && !r.injected && r.status === 200)
      .map((r) => changeBatchStats(r.body));
  }

  count(match: Matcher): number {
    return this.requests.filter((r) => match(r.method, r.path, r.body)).length;
  }

  reset(): void {
    this.requests.length = 0;
    this.#faults = [];
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const text = body.toString('utf8');
    const accessKeyId = /Credential=([^/,\s]+)\//.exec(req.headers.authorization ?? '')?.[1];
    const key = accessKeyId !== undefined ? { accessKeyId } : {};
    const fault =
      accessKeyId !== undefined && this.#deniedKeys.has(accessKeyId)
        ? {
            code: 'InvalidClientTokenId',
            message: 'The security token included in the request is invalid.',
            status: 403,
          }
        : this.#faults.find((f) => f.remaining > 0 && f.match(method, path, text));
    if (fault) {
      if ('remaining' in fault) fault.remaining -= 1;
      const status = 'status' in fault ? fault.status : 400;
      this.requests.push({ method, path, body: text, status, injected: true, ...key });
      res.writeHead(status, { 'content-type': 'text/xml' });
      res.end(
        `<?xml version="1.0"?>\n<ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/">` +
          `<Error><Type>Sender</Type><Code>${fault.code}</Code><Message>${fault.message}</Message></Error>` +
          `<RequestId>injected-${this.requests.length}</RequestId></ErrorResponse>`,
      );
      return;
    }
    const record: ProxiedRequest = { method, path, body: text, status: 0, injected: false, ...key };
    this.requests.push(record);
    try {
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) {
        if (v === undefined || k === 'host' || k === 'connection' || k === 'content-length')
          continue;
        headers.set(k, Array.isArray(v) ? v.join(', ') : v);
      }
      const started = performance.now();
      const upstream = await fetch(`${this.#upstream}${path}`, {
        method,
        headers,
        ...(body.length > 0 ? { body } : {}),
      });
      const payload = Buffer.from(await upstream.arrayBuffer());
      record.upstreamMs = performance.now() - started;
      record.status = upstream.status;
      const outHeaders: Record<string, string> = {};
      upstream.headers.forEach((v, k) => {
        if (
          k !== 'content-length' &&
          k !== 'transfer-encoding' &&
          k !== 'connection' &&
          k !== 'content-encoding'
        ) {
          outHeaders[k] = v;
        }
      });
      res.writeHead(upstream.status, outHeaders);
      res.end(payload);
    } catch (err) {
      record.status = 502;
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(String(err));
    }
  }
}

/** Reads the counts Route 53 applies its limits to out of a ChangeResourceRecordSets XML body. */
export function changeBatchStats(xml: string): ChangeBatchStats {
  const changes = [...xml.matchAll(/<Change>([\s\S]*?)<\/Change>/g)].map((m) => m[1] ?? '');
  let weightedChanges = 0;
  let valueChars = 0;
  const names: string[] = [];
  for (const change of changes) {
    const weight = /<Action>UPSERT<\/Action>/.test(change) ? 2 : 1;
    weightedChanges += weight;
    for (const v of change.matchAll(/<Value>([\s\S]*?)<\/Value>/g))
      valueChars += weight * unxml(v[1] ?? '').length;
    const name = /<Name>([\s\S]*?)<\/Name>/.exec(change)?.[1];
    if (name !== undefined) names.push(unxml(name));
  }
  return {
    changes: changes.length,
    weightedChanges,
    valueChars,
    names,
    hasAliasTarget: /<AliasTarget>/.test(xml),
  };
}

function unxml(s: string): string {
  return s
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}
