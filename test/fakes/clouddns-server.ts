/**
 * A loopback fake of the Google Cloud DNS v1 REST API, the parts dnsop uses, following Google's
 * API reference:
 *   GET  /dns/v1/projects/{p}/managedZones[?dnsName&maxResults&pageToken]
 *   GET  /dns/v1/projects/{p}/managedZones/{zone}
 *   GET  /dns/v1/projects/{p}/managedZones/{zone}/rrsets[?name&type&maxResults&pageToken]
 *   POST /dns/v1/projects/{p}/managedZones/{zone}/changes          {additions, deletions}
 *   GET  /dns/v1/projects/{p}/managedZones/{zone}/changes/{id}
 * Rules kept: bearer-token auth (401), a change is atomic (all or nothing), a deletion must match
 * the existing rrset exactly (412 conditionNotMet) and must exist (404 notFound), an addition of
 * an existing name/type is 409 alreadyExists, CNAME cannot share a name (400), per-change limits
 * (additions, deletions, rrdata bytes: 413 quotaExceeded), changes go pending -> done, errors in
 * Google's JSON envelope {"error": {code, message, errors: [{domain, reason, message}], status}}.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeRrset {
  kind?: string;
  name: string;
  type: string;
  ttl?: number;
  rrdatas?: string[];
}

export interface FakeZone {
  kind: 'dns#managedZone';
  name: string;
  dnsName: string;
  id: string;
  description: string;
  visibility: 'public' | 'private';
  nameServers: string[];
  creationTime: string;
}

interface FakeChange {
  kind: 'dns#change';
  id: string;
  status: 'pending' | 'done';
  startTime: string;
  additions: FakeRrset[];
  deletions: FakeRrset[];
  /** Polls left before the change reports done. */
  pollsLeft: number;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly body: unknown;
  status: number;
}

export interface FakeCloudDnsLimits {
  readonly additions: number;
  readonly deletions: number;
  readonly rrdataBytes: number;
}

class HttpError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ALREADY_EXISTS',
  412: 'FAILED_PRECONDITION',
  413: 'RESOURCE_EXHAUSTED',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};

const fqdn = (name: string): string => (name.endsWith('.') ? name : `${name}.`).toLowerCase();
const rrKey = (r: { name: string; type: string }): string => `${fqdn(r.name)}|${r.type}`;

export class FakeCloudDns {
  readonly token: string;
  readonly project: string;
  readonly requests: RecordedRequest[] = [];
  limits: FakeCloudDnsLimits = { additions: 1000, deletions: 1000, rrdataBytes: 100_000 };
  /** How many GETs of a change answer "pending" before it is "done". */
  pollsUntilDone = 1;
  readonly #server: Server;
  readonly #zones = new Map<string, { zone: FakeZone; rrsets: Map<string, FakeRrset> }>();
  readonly #changes = new Map<string, FakeChange[]>();
  #faults: {
    /** An HTTP status to answer, or 'drop': close the connection without an answer. */
    status: number | 'drop';
    reason: string;
    remaining: number;
    match: (m: string, p: string) => boolean;
  }[] = [];
  #nextId = 1;

  private constructor(server: Server, token: string, project: string) {
    this.#server = server;
    this.token = token;
    this.project = project;
  }

  static async start(options: { token?: string; project?: string } = {}): Promise<FakeCloudDns> {
    const server = createServer();
    const fake = new FakeCloudDns(
      server,
      options.token ?? 'test-token',
      options.project ?? 'dnsop-test',
    );
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      void fake.#handle(req, res);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return fake;
  }

  /** Base URL to give the client as its endpoint, e.g. http://127.0.0.1:PORT. */
  get endpoint(): string {
    const { port } = this.#server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  addZone(name: string, dnsName: string, visibility: 'public' | 'private' = 'public'): void {
    const zone: FakeZone = {
      kind: 'dns#managedZone',
      name,
      dnsName: fqdn(dnsName),
      id: String(this.#nextId++),
      description: '',
      visibility,
      nameServers: ['ns-cloud-a1.googledomains.com.'],
      creationTime: new Date().toISOString(),
    };
    const rrsets = new Map<string, FakeRrset>();
    for (const r of [
      {
        name: zone.dnsName,
        type: 'SOA',
        ttl: 21600,
        rrdatas: [
          `ns-cloud-a1.googledomains.com. cloud-dns-hostmaster.google.com. 1 21600 3600 259200 300`,
        ],
      },
      { name: zone.dnsName, type: 'NS', ttl: 21600, rrdatas: zone.nameServers },
    ]) {
      rrsets.set(rrKey(r), { kind: 'dns#resourceRecordSet', ...r });
    }
    this.#zones.set(name, { zone, rrsets });
    this.#changes.set(name, []);
  }

  /** Seeds an rrset directly, as another tool or a person would. */
  put(zone: string, rrset: FakeRrset): void {
    const z = this.#zone(zone);
    const stored = { kind: 'dns#resourceRecordSet', ...rrset, name: fqdn(rrset.name) };
    z.rrsets.set(rrKey(stored), stored);
  }

  rrsets(zone: string): FakeRrset[] {
    return [...this.#zone(zone).rrsets.values()];
  }

  /** Change bodies the fake accepted, in order. */
  acceptedChanges(zone: string): readonly FakeChange[] {
    return this.#changes.get(zone) ?? [];
  }

  count(method: string, pathPattern: RegExp): number {
    return this.requests.filter((r) => r.method === method && pathPattern.test(r.path)).length;
  }

  /** The next `times` requests that match fail with the status and reason. */
  failNext(
    times: number,
    status: number,
    reason: string,
    match: (method: string, path: string) => boolean = () => true,
  ): void {
    this.#faults.push({ status, reason, remaining: times, match });
  }

  /** The next `times` matching requests get no answer at all: the connection is closed. */
  dropNext(times: number, match: (method: string, path: string) => boolean = () => true): void {
    this.#faults.push({ status: 'drop', reason: 'drop', remaining: times, match });
  }

  reset(): void {
    this.requests.length = 0;
    this.#faults = [];
    this.#zones.clear();
    this.#changes.clear();
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://fake');
    const record: RecordedRequest = {
      method,
      path: url.pathname,
      body: raw ? (JSON.parse(raw) as unknown) : undefined,
      status: 0,
    };
    this.requests.push(record);
    try {
      if (req.headers.authorization !== `Bearer ${this.token}`) {
        throw new HttpError(
          401,
          'authError',
          'Request had invalid authentication credentials. Expected OAuth 2 access token.',
        );
      }
      const fault = this.#faults.find((f) => f.remaining > 0 && f.match(method, url.pathname));
      if (fault) {
        fault.remaining -= 1;
        if (fault.status === 'drop') {
          res.socket?.destroy();
          return;
        }
        throw new HttpError(fault.status, fault.reason, `Injected ${fault.reason}`);
      }
      const body = this.#route(method, url, record.body);
      record.status = 200;
      res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' });
      res.end(JSON.stringify(body));
    } catch (err) {
      const e = err instanceof HttpError ? err : new HttpError(500, 'backendError', String(err));
      record.status = e.code;
      res.writeHead(e.code, { 'content-type': 'application/json; charset=UTF-8' });
      res.end(
        JSON.stringify({
          error: {
            code: e.code,
            message: e.message,
            errors: [{ message: e.message, domain: 'global', reason: e.reason }],
            status: STATUS_NAMES[e.code] ?? 'UNKNOWN',
          },
        }),
      );
    }
  }

  #route(method: string, url: URL, body: unknown): unknown {
    const m =
      /^\/dns\/v1\/projects\/([^/]+)\/managedZones(?:\/([^/]+))?(?:\/(rrsets|changes))?(?:\/([^/]+))?\/?$/.exec(
        url.pathname,
      );
    if (!m) throw new HttpError(404, 'notFound', `Not found: ${url.pathname}`);
    const [, project, zone, collection, id] = m;
    if (project !== this.project) {
      throw new HttpError(
        404,
        'notFound',
        `The 'parameters.project' resource named '${project}' does not exist.`,
      );
    }
    const q = url.searchParams;
    if (zone === undefined && method === 'GET') return this.#listZones(q);
    if (zone === undefined) throw new HttpError(400, 'invalid', 'Unsupported');
    const z = this.#zone(zone);
    if (collection === undefined && method === 'GET') return z.zone;
    if (collection === 'rrsets' && method === 'GET') return this.#listRrsets(zone, q);
    if (collection === 'changes' && method === 'POST' && id === undefined)
      return this.#createChange(zone, body);
    if (collection === 'changes' && method === 'GET' && id !== undefined)
      return this.#getChange(zone, id);
    throw new HttpError(400, 'invalid', `Unsupported ${method} ${url.pathname}`);
  }

  #listZones(q: URLSearchParams): unknown {
    const dnsName = q.get('dnsName');
    const all = [...this.#zones.values()]
      .map((z) => z.zone)
      .filter((z) => dnsName === null || z.dnsName === fqdn(dnsName));
    const { items, next } = page(all, q);
    return {
      kind: 'dns#managedZonesListResponse',
      managedZones: items,
      ...(next ? { nextPageToken: next } : {}),
    };
  }

  #listRrsets(zone: string, q: URLSearchParams): unknown {
    const name = q.get('name');
    const type = q.get('type');
    if (type !== null && name === null)
      throw new HttpError(400, 'required', 'name is required when type is set');
    const all = [...this.#zone(zone).rrsets.values()]
      .filter((r) => (name === null || r.name === fqdn(name)) && (type === null || r.type === type))
      .sort((a, b) => rrKey(a).localeCompare(rrKey(b)));
    const { items, next } = page(all, q);
    return {
      kind: 'dns#resourceRecordSetsListResponse',
      rrsets: items,
      ...(next ? { nextPageToken: next } : {}),
    };
  }

  #createChange(zone: string, body: unknown): unknown {
    const change = (body ?? {}) as { additions?: FakeRrset[]; deletions?: FakeRrset[] };
    const additions = change.additions ?? [];
    const deletions = change.deletions ?? [];
    if (additions.length === 0 && deletions.length === 0) {
      throw new HttpError(
        400,
        'required',
        "The 'entity.change' resource must have additions or deletions.",
      );
    }
    if (additions.length > this.limits.additions || deletions.length > this.limits.deletions) {
      throw new HttpError(
        413,
        'quotaExceeded',
        `A change may hold ${this.limits.additions} additions and ${this.limits.deletions} deletions.`,
      );
    }
    const bytes = [...additions, ...deletions].reduce(
      (n, r) => n + (r.rrdatas ?? []).reduce((m, d) => m + Buffer.byteLength(d), 0),
      0,
    );
    if (bytes > this.limits.rrdataBytes) {
      throw new HttpError(
        413,
        'quotaExceeded',
        `Resource record data per change exceeds ${this.limits.rrdataBytes} bytes.`,
      );
    }
    const z = this.#zone(zone);
    const next = new Map(z.rrsets);
    deletions.forEach((d, i) => {
      const existing = next.get(rrKey(d));
      if (!existing) {
        throw new HttpError(
          404,
          'notFound',
          `The 'entity.change.deletions[${i}]' resource named '${fqdn(d.name)} (${d.type})' does not exist.`,
        );
      }
      if (!sameRrset(existing, d)) {
        throw new HttpError(
          412,
          'conditionNotMet',
          `Precondition not met for 'entity.change.deletions[${i}]'`,
        );
      }
      next.delete(rrKey(d));
    });
    additions.forEach((a, i) => {
      const name = fqdn(a.name);
      if (name !== z.zone.dnsName && !name.endsWith(`.${z.zone.dnsName}`)) {
        throw new HttpError(
          400,
          'invalid',
          `The 'entity.change.additions[${i}].name' resource named '${name}' is not within the zone ${z.zone.dnsName}.`,
        );
      }
      if (!a.rrdatas || a.rrdatas.length === 0 || a.ttl === undefined) {
        throw new HttpError(
          400,
          'required',
          `The 'entity.change.additions[${i}]' rrset needs ttl and rrdatas.`,
        );
      }
      if (next.has(rrKey(a))) {
        throw new HttpError(
          409,
          'alreadyExists',
          `The resource 'entity.change.additions[${i}]' named '${name} (${a.type})' already exists`,
        );
      }
      const others = [...next.values()].filter((r) => r.name === name);
      if ((a.type === 'CNAME' && others.length > 0) || others.some((r) => r.type === 'CNAME')) {
        throw new HttpError(
          400,
          'cnameResourceRecordSetConflict',
          `The resource 'entity.change.additions[${i}]' named '${name} (${a.type})' conflicts with a CNAME at that name.`,
        );
      }
      next.set(rrKey(a), {
        kind: 'dns#resourceRecordSet',
        name,
        type: a.type,
        ttl: a.ttl,
        rrdatas: [...a.rrdatas],
      });
    });
    z.rrsets.clear();
    for (const [k, v] of next) z.rrsets.set(k, v);
    const created: FakeChange = {
      kind: 'dns#change',
      id: String(this.#nextId++),
      status: this.pollsUntilDone > 0 ? 'pending' : 'done',
      startTime: new Date().toISOString(),
      additions,
      deletions,
      pollsLeft: this.pollsUntilDone,
    };
    this.#changes.get(zone)!.push(created);
    return view(created);
  }

  #getChange(zone: string, id: string): unknown {
    const change = this.#changes.get(zone)?.find((c) => c.id === id);
    if (!change)
      throw new HttpError(
        404,
        'notFound',
        `The 'parameters.changeId' resource named '${id}' does not exist.`,
      );
    if (change.pollsLeft > 0) change.pollsLeft -= 1;
    if (change.pollsLeft === 0) change.status = 'done';
    return view(change);
  }

  #zone(name: string): { zone: FakeZone; rrsets: Map<string, FakeRrset> } {
    const z = this.#zones.get(name);
    if (!z)
      throw new HttpError(
        404,
        'notFound',
        `The 'parameters.managedZone' resource named '${name}' does not exist.`,
      );
    return z;
  }
}

function view(change: FakeChange): unknown {
  const { pollsLeft: _pollsLeft, ...rest } = change;
  return rest;
}

function sameRrset(a: FakeRrset, b: FakeRrset): boolean {
  return (
    fqdn(a.name) === fqdn(b.name) &&
    a.type === b.type &&
    a.ttl === b.ttl &&
    JSON.stringify([...(a.rrdatas ?? [])].sort()) === JSON.stringify([...(b.rrdatas ?? [])].sort())
  );
}

/** maxResults / pageToken paging with an opaque token. */
function page<T>(all: readonly T[], q: URLSearchParams): { items: T[]; next?: string } {
  const max = Math.min(Number(q.get('maxResults') ?? '1000') || 1000, 1000);
  const token = q.get('pageToken');
  const start = token ? Number(Buffer.from(token, 'base64url').toString('utf8')) : 0;
  if (!Number.isInteger(start) || start < 0)
    throw new HttpError(400, 'invalid', 'Invalid pageToken');
  const items = all.slice(start, start + max);
  const nextStart = start + max;
  return nextStart < all.length
    ? { items, next: Buffer.from(String(nextStart), 'utf8').toString('base64url') }
    : { items };
}
