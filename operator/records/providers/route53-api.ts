/**
 * The narrow port in front of the AWS SDK: the four Route 53 calls the provider makes. The real
 * adapter wraps a Route53Client; unit tests implement the port with an in-memory fake.
 */
import {
  ChangeResourceRecordSetsCommand,
  GetHostedZoneCommand,
  ListHostedZonesCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import type {
  ChangeResourceRecordSetsCommandInput,
  ChangeResourceRecordSetsCommandOutput,
  GetHostedZoneCommandOutput,
  ListHostedZonesCommandInput,
  ListHostedZonesCommandOutput,
  ListResourceRecordSetsCommandInput,
  ListResourceRecordSetsCommandOutput,
} from '@aws-sdk/client-route-53';
import { httpStatusOf } from '../../runtime/errors';
import type { FailureKind, ProviderFault } from './errors';
import { KeptPages, type KeptPage } from './kept-pages';

type Output<T> = Omit<T, '$metadata'>;

export interface Route53Api {
  getHostedZone(id: string, signal?: AbortSignal): Promise<Output<GetHostedZoneCommandOutput>>;
  listHostedZones(
    input: ListHostedZonesCommandInput,
    signal?: AbortSignal,
  ): Promise<Output<ListHostedZonesCommandOutput>>;
  listResourceRecordSets(
    input: ListResourceRecordSetsCommandInput,
    signal?: AbortSignal,
  ): Promise<Output<ListResourceRecordSetsCommandOutput>>;
  changeResourceRecordSets(
    input: ChangeResourceRecordSetsCommandInput,
    signal?: AbortSignal,
  ): Promise<Output<ChangeResourceRecordSetsCommandOutput>>;
}

export interface AwsStaticCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface Route53ClientOptions {
  readonly region: string;
  /** Emulator or VPC endpoint override, e.g. http://127.0.0.1:5000. */
  readonly endpoint?: string;
  /** Omitted: the SDK's default chain (env, IRSA web identity, pod identity, IMDS). */
  readonly credentials?: AwsStaticCredentials;
  /** Where listing pages are kept (reuseUnchangedListings): the account's. Default: the client's own. */
  readonly pages?: KeptPages;
}

/**
 * No answer within this time is a failed attempt ("unavailable"), retried by the provider. Far
 * above any Route 53 answer (moto takes up to ~40 s per batch into a 10,000-record zone).
 */
const REQUEST_TIMEOUT_MS = 120_000;
const CONNECT_TIMEOUT_MS = 5_000;

/**
 * The real adapter. The SDK's own retries are turned off (maxAttempts 1): throttling and
 * PriorRequestNotComplete are retried by the provider with the project's bounded backoff and
 * through the account's rate limiter, so one request here is one request on the wire.
 */
export function route53ApiFromSdk(options: Route53ClientOptions): Route53Api {
  const client = new Route53Client({
    region: options.region,
    maxAttempts: 1,
    requestHandler: {
      requestTimeout: REQUEST_TIMEOUT_MS,
      // Without this the SDK only logs a warning and keeps waiting.
      throwOnRequestTimeout: true,
      connectionTimeout: CONNECT_TIMEOUT_MS,
    },
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
  reuseUnchangedListings(client, options.pages ?? new KeptPages());
  return {
    getHostedZone: (id, signal) =>
      client.send(new GetHostedZoneCommand({ Id: id }), { abortSignal: signal }),
    listHostedZones: (input, signal) =>
      client.send(new ListHostedZonesCommand(input), { abortSignal: signal }),
    listResourceRecordSets: (input, signal) =>
      client.send(new ListResourceRecordSetsCommand(input), { abortSignal: signal }),
    changeResourceRecordSets: (input, signal) =>
      client.send(new ChangeResourceRecordSetsCommand(input), { abortSignal: signal }),
  };
}

/** Thrown by the inner middleware when a page's bytes are the kept ones; caught by the outer. */
class UnchangedPage extends Error {
  constructor(
    readonly kept: KeptPage,
    readonly response: unknown,
  ) {
    super('the listing page is the one kept');
  }
}

/**
 * Hands out the last parsed answer of a ListResourceRecordSets page whose response body is
 * byte-identical to the one kept for the same request (zone, start record, page size), without
 * parsing it again. An idle operator lists each zone once per spec.interval to see drift, and the
 * SDK's XML parsing was half the CPU of each listing request (a 200-record page from moto: 10-14
 * ms parsed, 4-5 ms handed out again; ADR 0011). Comparing the bytes costs microseconds; a page
 * that changed in any byte is parsed as before. What bytes parse to does not depend on the
 * request, so the request only picks which kept page to compare with. The pages are kept per
 * account (kept-pages.ts). Two middlewares around the SDK's deserializer: the inner one reads the
 * raw body and compares it, the outer one keeps what was parsed. Callers never modify an answer
 * (route53.ts copies the record sets out), so one object can be handed out again.
 */
export function reuseUnchangedListings(client: Route53Client, kept: KeptPages): void {
  /** Response -> the listing page it brought, for the outer middleware to keep once parsed. */
  const read = new WeakMap<object, { readonly request: string; readonly body: Buffer }>();
  client.middlewareStack.add(
    (next) => async (args) => {
      try {
        const result = await next(args);
        const page = read.get(result.response as object);
        if (page !== undefined) kept.set(page.request, { body: page.body, output: result.output });
        return result;
      } catch (err) {
        if (!(err instanceof UnchangedPage)) throw err;
        return { response: err.response, output: err.kept.output as never };
      }
    },
    { step: 'deserialize', priority: 'high' },
  );
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      const response = result.response as { statusCode?: number; body?: unknown };
      if (context.commandName !== 'ListResourceRecordSetsCommand' || response.statusCode !== 200)
        return result;
      const { path, query } = args.request as { path: string; query: unknown };
      const request = `${path} ${JSON.stringify(query)}`;
      const chunks: Buffer[] = [];
      for await (const chunk of response.body as AsyncIterable<Buffer>) chunks.push(chunk);
      const body = Buffer.concat(chunks);
      const last = kept.get(request);
      if (last !== undefined && last.body.equals(body)) throw new UnchangedPage(last, response);
      read.set(response, { request, body });
      // The SDK's body collector takes bytes as they are (a Uint8Array is not read as a stream).
      response.body = new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
      return result;
    },
    { step: 'deserialize', priority: 'low' },
  );
}

const THROTTLING: ReadonlySet<string> = new Set([
  'Throttling',
  'ThrottlingException',
  'PriorRequestNotComplete',
  'RequestLimitExceeded',
  'TooManyRequestsException',
]);
const AUTH: ReadonlySet<string> = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'UnrecognizedClientException',
  'ExpiredToken',
  'ExpiredTokenException',
  'IncompleteSignature',
  'MissingAuthenticationToken',
  'CredentialsProviderError',
]);
const NOT_FOUND: ReadonlySet<string> = new Set(['NoSuchHostedZone', 'HostedZoneNotFound']);
const INVALID: ReadonlySet<string> = new Set(['InvalidInput', 'InvalidArgument', 'MalformedInput']);
/** InvalidChangeBatch messages that mean our view of the zone is stale, not that the change is wrong. */
const CONFLICT = /already exists|but it was not found|values provided do not match/i;

interface SdkErrorShape {
  readonly name?: unknown;
  readonly message?: unknown;
  /** Node's errno code on transport errors (ECONNREFUSED, ...). */
  readonly code?: unknown;
  /** Route 53's InvalidChangeBatch body: <InvalidChangeBatch><Messages><Message>... */
  readonly Messages?: { readonly Message?: unknown };
}

/**
 * Route 53's own code and message for whatever the SDK threw.
 *
 * Route 53 answers most errors as <ErrorResponse><Error><Code>..., but InvalidChangeBatch as its
 * own document, <InvalidChangeBatch><Messages><Message>...</Message></Messages>. The SDK's
 * REST-XML error parser (loadRestXmlErrorCode in @aws-sdk/core) only looks for Error.Code or
 * Code, so such an error reaches us as name "Unknown", message "UnknownError", with the real
 * messages in `Messages`; an error with an empty or non-XML body (a proxy's 503, a bare 403)
 * looks the same. Both are recovered here from what the SDK kept.
 */
export function route53Fault(err: unknown): ProviderFault {
  const e = (typeof err === 'object' && err !== null ? err : {}) as SdkErrorShape;
  const status = httpStatusOf(err);
  const name = typeof e.name === 'string' ? e.name : '';
  let message = typeof e.message === 'string' ? e.message : String(err);
  let code = name;
  const messages = e.Messages?.Message;
  if (messages !== undefined) {
    code = 'InvalidChangeBatch';
    message = (Array.isArray(messages) ? messages : [messages]).map(String).join('; ');
  } else if (status === undefined) {
    // No answer: the transport's errno (ECONNRESET, ...) says more than the SDK's class name.
    if (typeof e.code === 'string') code = e.code;
    else if (code === '' || code === 'Error') code = 'NetworkError';
  } else if (code === '' || code === 'Unknown' || code === 'UnknownError' || code === 'Error') {
    code = `HTTP${status}`;
    if (message === '' || message === 'UnknownError')
      message = `HTTP ${status} without a Route 53 error in the body`;
  }
  if (name === 'AbortError') return { kind: 'aborted', code: 'Aborted', message };
  return { kind: route53FailureKind(code, message, status), code, message };
}

function route53FailureKind(
  code: string,
  message: string,
  status: number | undefined,
): FailureKind {
  if (THROTTLING.has(code) || status === 429) return 'throttled';
  if (AUTH.has(code) || status === 401 || status === 403) return 'auth';
  if (NOT_FOUND.has(code)) return 'notFound';
  if (code === 'InvalidChangeBatch') return CONFLICT.test(message) ? 'conflict' : 'invalid';
  if (INVALID.has(code)) return 'invalid';
  if (status === undefined || status >= 500) return 'unavailable';
  if (status === 404) return 'notFound';
  return 'invalid';
}
