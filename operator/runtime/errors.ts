/**
 * Two kinds of failure drive every reconciler's behaviour:
 * - TransientError: worth retrying with backoff (network, throttling, conflicts, 5xx);
 * - PermanentError: the user must change something (bad spec, missing secret); reported as a
 *   condition and an Event, retried only at the next resync or spec change.
 * Both always carry the underlying cause.
 */
export class TransientError extends Error {
  override readonly name = 'TransientError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export class PermanentError extends Error {
  override readonly name = 'PermanentError';
  /** A CamelCase reason suitable for a condition or an Event. */
  readonly reason: string;
  constructor(reason: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.reason = reason;
  }
}

export function isPermanent(err: unknown): err is PermanentError {
  return err instanceof PermanentError;
}

/** The message of any thrown value, including the chain of causes, for status and logs. */
export function describeError(err: unknown): string {
  const parts: string[] = [];
  let current: unknown = err;
  for (let depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
    if (current instanceof Error) {
      parts.push(current.message);
      current = current.cause;
    } else {
      parts.push(typeof current === 'string' ? current : JSON.stringify(current));
      break;
    }
  }
  // A wrapper usually quotes its cause ("route53 ListHostedZones: <cause>"): say each thing once.
  const said: string[] = [];
  for (const part of parts) {
    if (part.length > 0 && !said.some((s) => s.includes(part))) said.push(part);
  }
  return said.join(': ');
}

/** HTTP status code of a Kubernetes client (1.x ApiException) or cloud SDK error, if any. */
export function httpStatusOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as {
    code?: unknown;
    statusCode?: unknown;
    $metadata?: { httpStatusCode?: unknown };
  };
  for (const candidate of [e.code, e.statusCode, e.$metadata?.httpStatusCode]) {
    if (typeof candidate === 'number' && candidate >= 100 && candidate < 600) return candidate;
  }
  return undefined;
}
