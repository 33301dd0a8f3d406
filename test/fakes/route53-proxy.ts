/**
 * A loopback HTTP proxy in front of a Route 53 endpoint (moto): records every request so tests
 * can check what the provider actually sent (batch sizes, AliasTarget or not), can answer the
 * next N matching requests with a Route 53 error (Throttling, PriorRequestNotComplete,
 * InvalidChangeBatch) instead of forwarding them, can refuse an access key as AWS would refuse a
 * bad one (moto itself accepts any credentials), and can play Route 53 where moto does not: with
 * `enforceLimits`, a ChangeResourceRecordSets request over Route 53's per-request limits (1,000
 * ResourceRecord elements, 32,000 characters of Value, UPSERT counted twice) is refused the way
 * Route 53 refuses it, so a batching bug fails a test instead of passing against moto.
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
  /** When the request arrived (performance.now(), ms). */
  readonly at: number;
  /** Time the upstream (moto) took to answer, ms. */
  upstreamMs?: number;
  /** performance.now() when the upstream's answer arrived (e.g. a change accepted). */
  answeredAt?: number;
  /** The access key id the request was signed with (SigV4 Credential=...). */
  readonly accessKeyId?: string;
}

export interface ChangeBatchStats {
  readonly changes: number;
  /** Changes weighted as Route 53 counts them (UPSERT twice). */
  readonly weightedChanges: number;
  /** ResourceRecord elements, UPSERT counted twice. */
  readonly weightedRecords: number;
  /** Characters of all <Value> elements, UPSERT counted twice. */
  readonly valueChars: number;
  readonly names: readonly string[];
  readonly hasAliasTarget: boolean;
}

/** Route 53's published ChangeResourceRecordSets limits, as the proxy enforces them. */
export const ROUTE53_REQUEST_LIMITS = Object.freeze({ records: 1000, valueChars: 32_000 });

/** How an injected error is written: Route 53's usual ErrorResponse, or its InvalidChangeBatch document. */
export type ErrorFormat = 'ErrorResponse' | 'InvalidChangeBatch';

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
  #faults: {
    match: Matcher;
    code: string;
    message: string;
    remaining: number;
    format: ErrorFormat;
  }[] = [];
  /** Refuse change batches over Route 53's limits, as Route 53 does (moto does not check all). */
  enforceLimits = false;
  /**
   * Throttle as Route 53 does: requests of one access key (one account) beyond this rate are
   * answered Throttling. Undefined: no throttling (moto never throttles).
   */
  throttleAbove: { readonly requests: number; readonly perMs: number } | undefined;
  readonly #sentByKey = new Map<string, number[]>();
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
    format: ErrorFormat = 'ErrorResponse',
  ): void {
    this.#faults.push({ match, code, message, remaining: times, format });
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

  /** ChangeResourceRecordSets requests that were not accepted: refused by the proxy or upstream. */
  refusedChangeBatches(): ProxiedRequest[] {
    return this.requests.filter((r) => isChangeBatch(r.method, r.path, r.body) && r.status !== 200);
  }

  count(match: Matcher): number {
    return this.requests.filter((r) => match(r.method, r.path, r.body)).length;
  }

  reset(): void {
    this.requests.length = 0;
    this.#faults = [];
    this.enforceLimits = false;
    this.throttleAbove = undefined;
    this.#sentByKey.clear();
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** The error to answer instead of forwarding, if any: a denied key, a fault, a batch too big. */
  #refusal(
    accessKeyId: string | undefined,
    method: string,
    path: string,
    text: string,
  ): { code: string; message: string; status: number; format: ErrorFormat } | undefined {
    if (accessKeyId !== undefined && this.#deniedKeys.has(accessKeyId)) {
      return {
        code: 'InvalidClientTokenId',
        message: 'The security token included in the request is invalid.',
        status: 403,
        format: 'ErrorResponse',
      };
    }
    const fault = this.#faults.find((f) => f.remaining > 0 && f.match(method, path, text));
    if (fault) {
      fault.remaining -= 1;
      return { ...fault, status: 400 };
    }
    if (this.#overRate(accessKeyId ?? '')) {
      return { code: 'Throttling', message: 'Rate exceeded', status: 400, format: 'ErrorResponse' };
    }
    const tooBig =
      this.enforceLimits && isChangeBatch(method, path, text) ? limitBreach(text) : undefined;
    return tooBig === undefined
      ? undefined
      : { code: 'InvalidChangeBatch', message: tooBig, status: 400, format: 'InvalidChangeBatch' };
  }

  /** Counts a request against its account's rate; true when Route 53 would throttle it. */
  #overRate(accessKeyId: string): boolean {
    const limit = this.throttleAbove;
    if (limit === undefined) return false;
    const now = performance.now();
    const recent = (this.#sentByKey.get(accessKeyId) ?? []).filter((t) => now - t < limit.perMs);
    const over = recent.length >= limit.requests;
    if (!over) recent.push(now);
    this.#sentByKey.set(accessKeyId, recent);
    return over;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = performance.now();
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const text = body.toString('utf8');
    const accessKeyId = /Credential=([^/,\s]+)\//.exec(req.headers.authorization ?? '')?.[1];
    const key = accessKeyId !== undefined ? { accessKeyId } : {};
    const refusal = this.#refusal(accessKeyId, method, path, text);
    if (refusal) {
      this.requests.push({
        method,
        path,
        body: text,
        status: refusal.status,
        injected: true,
        at,
        ...key,
      });
      res.writeHead(refusal.status, { 'content-type': 'text/xml' });
      res.end(errorDocument(refusal, `injected-${this.requests.length}`));
      return;
    }
    const record: ProxiedRequest = {
      method,
      path,
      body: text,
      status: 0,
      injected: false,
      at,
      ...key,
    };
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
      record.answeredAt = performance.now();
      record.upstreamMs = record.answeredAt - started;
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
  let weightedRecords = 0;
  let valueChars = 0;
  const names: string[] = [];
  for (const change of changes) {
    const weight = /<Action>UPSERT<\/Action>/.test(change) ? 2 : 1;
    weightedChanges += weight;
    weightedRecords += weight * [...change.matchAll(/<ResourceRecord>/g)].length;
    for (const v of change.matchAll(/<Value>([\s\S]*?)<\/Value>/g))
      valueChars += weight * unxml(v[1] ?? '').length;
    const name = /<Name>([\s\S]*?)<\/Name>/.exec(change)?.[1];
    if (name !== undefined) names.push(unxml(name));
  }
  return {
    changes: changes.length,
    weightedChanges,
    weightedRecords,
    valueChars,
    names,
    hasAliasTarget: /<AliasTarget>/.test(xml),
  };
}

/** Why Route 53 would refuse this change batch for its size, or undefined. */
function limitBreach(xml: string): string | undefined {
  const stats = changeBatchStats(xml);
  if (stats.weightedRecords > ROUTE53_REQUEST_LIMITS.records)
    return `Number of records limit of ${ROUTE53_REQUEST_LIMITS.records} exceeded (${stats.weightedRecords}, UPSERT counted twice)`;
  if (stats.valueChars > ROUTE53_REQUEST_LIMITS.valueChars)
    return `Maximum value length of ${ROUTE53_REQUEST_LIMITS.valueChars} characters exceeded (${stats.valueChars}, UPSERT counted twice)`;
  return undefined;
}

/** An error body as Route 53 writes it: InvalidChangeBatch is its own document, not an ErrorResponse. */
function errorDocument(
  error: { code: string; message: string; format: ErrorFormat },
  requestId: string,
): string {
  const ns = 'https://route53.amazonaws.com/doc/2013-04-01/';
  if (error.format === 'InvalidChangeBatch') {
    return (
      `<?xml version="1.0"?>\n<InvalidChangeBatch xmlns="${ns}"><Messages>` +
      `<Message>${xmlText(error.message)}</Message></Messages>` +
      `<RequestId>${requestId}</RequestId></InvalidChangeBatch>`
    );
  }
  return (
    `<?xml version="1.0"?>\n<ErrorResponse xmlns="${ns}">` +
    `<Error><Type>Sender</Type><Code>${error.code}</Code><Message>${xmlText(error.message)}</Message></Error>` +
    `<RequestId>${requestId}</RequestId></ErrorResponse>`
  );
}

function xmlText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function unxml(s: string): string {
  return s
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}
