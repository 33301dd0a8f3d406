/**
 * The narrow port in front of Google Cloud DNS: the five REST calls the provider makes. The real
 * adapter drives `@google-cloud/dns`; its own retries are turned off so the provider's bounded
 * backoff is the one retry policy.
 */
import { DNS } from '@google-cloud/dns';
import { httpStatusOf } from '../../runtime/errors';

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
  // One retry policy: the provider's (bounded, jittered). The library's own would stack on it.
  dns.interceptors.push({
    request: (reqOpts) =>
      Object.assign(reqOpts, { maxRetries: 0 }) as typeof reqOpts & { uri: string },
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

export type CloudDnsFailureKind =
  | 'throttled'
  | 'unavailable'
  /** 409 alreadyExists / 412 conditionNotMet / 404 on a deletion: the zone moved under us. */
  | 'conflict'
  /** 400 / 413: the change itself is invalid or too large. */
  | 'rejected'
  | 'auth'
  | 'notFound'
  | 'other';

export function cloudDnsReasonOf(err: unknown): string | undefined {
  const errors = (err as { errors?: { reason?: unknown }[] } | null)?.errors;
  const reason = Array.isArray(errors) ? errors[0]?.reason : undefined;
  return typeof reason === 'string' ? reason : undefined;
}

export function classifyCloudDnsError(err: unknown): CloudDnsFailureKind {
  const status = httpStatusOf(err);
  const reason = cloudDnsReasonOf(err);
  if (status === 429 || reason === 'rateLimitExceeded' || reason === 'userRateLimitExceeded')
    return 'throttled';
  if (status === undefined)
    return err instanceof Error && err.name === 'AbortError' ? 'other' : 'unavailable';
  if (status >= 500) return 'unavailable';
  if (status === 409 || status === 412) return 'conflict';
  if (status === 401 || status === 403) return 'auth';
  if (status === 404) return 'notFound';
  if (status === 400 || status === 413) return 'rejected';
  return 'other';
}

export function isRetryableCloudDnsError(err: unknown): boolean {
  const kind = classifyCloudDnsError(err);
  return kind === 'throttled' || kind === 'unavailable';
}
