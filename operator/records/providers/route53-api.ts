/**
 * The narrow port in front of the AWS SDK: the three Route 53 calls the provider makes. The real
 * adapter wraps a Route53Client; unit tests implement the port with an in-memory fake.
 */
import {
  ChangeResourceRecordSetsCommand,
  ListHostedZonesCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import type {
  ChangeResourceRecordSetsCommandInput,
  ChangeResourceRecordSetsCommandOutput,
  ListHostedZonesCommandInput,
  ListHostedZonesCommandOutput,
  ListResourceRecordSetsCommandInput,
  ListResourceRecordSetsCommandOutput,
} from '@aws-sdk/client-route-53';
import { httpStatusOf } from '../../runtime/errors';

type Output<T> = Omit<T, '$metadata'>;

export interface Route53Api {
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
 * The real adapter. The SDK's own retries are turned off (maxAttempts 1): throttling and
 * PriorRequestNotComplete are retried by the provider with the project's bounded backoff, so
 * there is one retry policy to reason about and test.
 */
export function route53ApiFromSdk(options: Route53ClientOptions): Route53Api {
  const client = new Route53Client({
    region: options.region,
    maxAttempts: 1,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
  return {
    listHostedZones: (input, signal) =>
      client.send(new ListHostedZonesCommand(input), { abortSignal: signal }),
    listResourceRecordSets: (input, signal) =>
      client.send(new ListResourceRecordSetsCommand(input), { abortSignal: signal }),
    changeResourceRecordSets: (input, signal) =>
      client.send(new ChangeResourceRecordSetsCommand(input), { abortSignal: signal }),
  };
}

/** How the provider reacts to a failed call. */
export type Route53FailureKind =
  /** Throttling, PriorRequestNotComplete: retry with backoff. */
  | 'throttled'
  /** 5xx or no response at all: retry with backoff. */
  | 'unavailable'
  /** InvalidChangeBatch / InvalidInput: the batch itself was refused; retry its groups alone. */
  | 'rejected'
  /** Credentials or permissions: the user must fix something. */
  | 'auth'
  | 'notFound'
  | 'other';

const THROTTLING = new Set([
  'Throttling',
  'ThrottlingException',
  'PriorRequestNotComplete',
  'RequestLimitExceeded',
  'TooManyRequestsException',
]);
const AUTH = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'UnrecognizedClientException',
  'ExpiredToken',
  'CredentialsProviderError',
]);

export function classifyRoute53Error(err: unknown): Route53FailureKind {
  const name = err instanceof Error ? err.name : '';
  const status = httpStatusOf(err);
  if (THROTTLING.has(name) || status === 429) return 'throttled';
  if (AUTH.has(name) || status === 403) return 'auth';
  if (name === 'NoSuchHostedZone') return 'notFound';
  if (name === 'InvalidChangeBatch' || name === 'InvalidInput') return 'rejected';
  if (status !== undefined && status >= 500) return 'unavailable';
  if (status === undefined && name !== 'AbortError') return 'unavailable';
  if (status === 400) return 'rejected';
  return 'other';
}

export function isRetryableRoute53Error(err: unknown): boolean {
  const kind = classifyRoute53Error(err);
  return kind === 'throttled' || kind === 'unavailable';
}
