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
