/**
 * The narrow port in front of Google Cloud DNS: the five REST calls the provider makes. The real
 * adapter drives `@google-cloud/dns`; its own retries are turned off so the provider's bounded
 * backoff, through the account's rate limiter, is the one retry policy.
 */
import { util as googleCommon } from '@google-cloud/common';
import { DNS } from '@google-cloud/dns';
import { httpStatusOf } from '../../runtime/errors';
import type { FailureKind, ProviderFault } from './errors';

export interface CloudDnsRrset {
  readonly name: string;
  readonly type: string;
  readonly ttl?: number;
  readonly rrdatas?: readonly string[];
}

export interface CloudDnsZone {
  readonly name: string;
  readonly dnsName: string;
  readonly visibility?: string;
}

export interface CloudDnsChange {
  readonly id: string;
  readonly status: string;
}

export interface Page<T> {
  readonly items: readonly T[];
  readonly nextPageToken?: string;
}

export interface CloudDnsApi {
  listManagedZones(pageToken?: string): Promise<Page<CloudDnsZone>>;
  getManagedZone(zone: string): Promise<CloudDnsZone>;
  listRecordSets(
    zone: string,
    pageToken?: string,
    maxResults?: number,
  ): Promise<Page<CloudDnsRrset>>;
  createChange(
    zone: string,
    change: {
      readonly additions: readonly CloudDnsRrset[];
      readonly deletions: readonly CloudDnsRrset[];
    },
  ): Promise<CloudDnsChange>;
  getChange(zone: string, id: string): Promise<CloudDnsChange>;
}

/** No answer within this time is a failed attempt ("unavailable"), retried by the provider. */
const REQUEST_TIMEOUT_MS = 60_000;

type DnsOptions = NonNullable<ConstructorParameters<typeof DNS>[0]>;

export interface CloudDnsClientOptions {
  readonly project: string;
  /** API base override for tests, e.g. http://127.0.0.1:8080 (the client adds /dns/v1). */
  readonly endpoint?: string;
  /** A parsed service-account key (credentials.json); omitted with no authClient: ADC. */
  readonly credentials?: DnsOptions['credentials'];
  /** A ready auth client (tests: an OAuth2Client holding a fixed access token). */
  readonly authClient?: DnsOptions['authClient'];
}

interface RawList {
  managedZones?: CloudDnsZone[];
  rrsets?: CloudDnsRrset[];
  nextPageToken?: string;
}

/** The paginator's (err, items, nextQuery, apiResponse) callback arrives as an array. */
function rawResponse(result: unknown): RawList {
  const parts: readonly unknown[] = Array.isArray(result) ? result : [];
  const last = parts[parts.length - 1];
  return typeof last === 'object' && last !== null ? last : {};
}

export function cloudDnsApiFromClient(options: CloudDnsClientOptions): CloudDnsApi {
  const dns = new DNS({
    projectId: options.project,
    ...(options.credentials ? { credentials: options.credentials } : {}),
    ...(options.authClient ? { authClient: options.authClient } : {}),
  });
  if (options.endpoint) dns.baseUrl = `${options.endpoint.replace(/\/$/, '')}/dns/v1`;
  // One retry policy, the provider's (bounded, jittered, through the account's rate limiter).
  // The library retries 5xx/429 three times, and failures without a response three times more
  // (retry-request's noResponseRetries) whatever the request says; its `autoRetry` option is not
  // passed on by the DNS constructor. So the authenticated-request function is rebuilt, around
  // the same auth client, with retries off: one call here is one request on the wire.
  dns.makeAuthenticatedRequest = googleCommon.makeAuthenticatedRequestFactory({
    authClient: dns.makeAuthenticatedRequest.authClient,
    projectId: options.project,
    projectIdRequired: true,
    autoRetry: false,
    maxRetries: 0,
  });
  dns.interceptors.push({
    request: (reqOpts) =>
      Object.assign(reqOpts, { timeout: REQUEST_TIMEOUT_MS }) as typeof reqOpts & { uri: string },
  });
  const toRecord = (
    zone: string,
    r: CloudDnsRrset,
  ): ReturnType<ReturnType<DNS['zone']>['record']> =>
    dns
      .zone(zone)
      .record(r.type, { name: r.name, ttl: r.ttl ?? 300, data: [...(r.rrdatas ?? [])] });
  return {
    async listManagedZones(pageToken) {
      const raw = rawResponse(
        await dns.getZones({
          autoPaginate: false,
          maxResults: 1000,
          ...(pageToken ? { pageToken } : {}),
        }),
      );
      return {
        items: raw.managedZones ?? [],
        ...(raw.nextPageToken ? { nextPageToken: raw.nextPageToken } : {}),
      };
    },
    async getManagedZone(zone) {
      const response: readonly unknown[] = await dns.zone(zone).getMetadata();
      return response[0] as CloudDnsZone;
    },
    async listRecordSets(zone, pageToken, maxResults = 1000) {
      const raw = rawResponse(
        await dns
          .zone(zone)
          .getRecords({ autoPaginate: false, maxResults, ...(pageToken ? { pageToken } : {}) }),
      );
      return {
        items: raw.rrsets ?? [],
        ...(raw.nextPageToken ? { nextPageToken: raw.nextPageToken } : {}),
      };
    },
    async createChange(zone, change) {
      const response: readonly unknown[] = await dns.zone(zone).createChange({
        add: change.additions.map((r) => toRecord(zone, r)),
        delete: change.deletions.map((r) => toRecord(zone, r)),
      });
      return response[1] as CloudDnsChange;
    },
    async getChange(zone, id) {
      const response: readonly unknown[] = await dns.zone(zone).change(id).getMetadata();
      return response[0] as CloudDnsChange;
    },
  };
}

interface GoogleErrorShape {
  readonly name?: unknown;
  readonly message?: unknown;
  /** HTTP status (ApiError) or Node's errno code (a transport error). */
  readonly code?: unknown;
  readonly errors?: readonly { readonly reason?: unknown }[];
}

const THROTTLED_REASONS: ReadonlySet<string> = new Set([
  'rateLimitExceeded',
  'userRateLimitExceeded',
]);

/**
 * Cloud DNS's own reason (notFound, alreadyExists, rateLimitExceeded, ...) and message for
 * whatever the client threw; a transport error keeps its errno code.
 */
export function cloudDnsFault(err: unknown): ProviderFault {
  const e = (typeof err === 'object' && err !== null ? err : {}) as GoogleErrorShape;
  const status = httpStatusOf(err);
  const first: { readonly reason?: unknown } | undefined = Array.isArray(e.errors)
    ? (e.errors as GoogleErrorShape['errors'])?.[0]
    : undefined;
  const reason = first?.reason;
  const name = typeof e.name === 'string' ? e.name : 'Error';
  const code =
    typeof reason === 'string'
      ? reason
      : status !== undefined
        ? `HTTP${status}`
        : typeof e.code === 'string'
          ? e.code
          : name;
  const message = typeof e.message === 'string' ? e.message : String(err);
  return { kind: cloudDnsFailureKind(code, name, message, status), code, message };
}

function cloudDnsFailureKind(
  code: string,
  name: string,
  message: string,
  status: number | undefined,
): FailureKind {
  if (name === 'AbortError') return 'aborted';
  if (status === 429 || THROTTLED_REASONS.has(code)) return 'throttled';
  if (status === undefined || status >= 500) return 'unavailable';
  // 409 alreadyExists, 412 conditionNotMet, and 404 for an rrset a deletion names: the zone
  // moved under us. A 404 for the zone itself names 'parameters.managedZone'.
  if (status === 409 || status === 412) return 'conflict';
  if (status === 404) return /entity\.change/.test(message) ? 'conflict' : 'notFound';
  if (status === 401 || status === 403) return 'auth';
  return 'invalid';
}
