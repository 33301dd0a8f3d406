/**
 * What every cloud provider's credential resolution gets: the policy's namespace (the only one
 * its Secret may come from), whether that namespace is trusted (ambient credentials allowed),
 * and a reader for Secrets.
 */
import { PermanentError } from '../../runtime/errors';

/** Reads a Secret's data, values already decoded to strings; undefined when it does not exist. */
export type SecretReader = (
  namespace: string,
  name: string,
) => Promise<Readonly<Record<string, string>> | undefined>;

export interface CredentialContext {
  /** The DNSPolicy's namespace: the only one its Secret may come from. */
  readonly namespace: string;
  /** Whether the namespace is in --trusted-namespaces. */
  readonly trusted: boolean;
  readonly readSecret: SecretReader;
}

/** Either the data of the policy's credentials Secret, or leave to use ambient credentials. */
export type CredentialSource =
  | {
      readonly kind: 'secret';
      readonly name: string;
      readonly data: Readonly<Record<string, string>>;
    }
  | { readonly kind: 'ambient' };

/**
 * The rules every provider shares: a named Secret is read from the policy's own namespace only;
 * without one, the operator's ambient identity is used, and only for a trusted namespace, so a
 * tenant cannot borrow the operator's cloud identity. `provider` prefixes every message.
 */
export async function credentialSource(
  provider: string,
  ref: { readonly name: string } | undefined,
  ctx: CredentialContext,
): Promise<CredentialSource> {
  if (ref === undefined) {
    if (!ctx.trusted) {
      throw new PermanentError(
        'AmbientCredentialsNotAllowed',
        `${provider}: no credentialsSecretRef, and ambient credentials are only allowed for policies in trusted namespaces (${ctx.namespace} is not)`,
      );
    }
    return { kind: 'ambient' };
  }
  let data: Readonly<Record<string, string>> | undefined;
  try {
    data = await ctx.readSecret(ctx.namespace, ref.name);
  } catch (err) {
    throw new PermanentError(
      'CredentialsUnreadable',
      `${provider}: cannot read Secret ${ctx.namespace}/${ref.name}`,
      { cause: err },
    );
  }
  if (data === undefined) {
    throw new PermanentError(
      'CredentialsNotFound',
      `${provider}: Secret ${ctx.namespace}/${ref.name} does not exist`,
    );
  }
  return { kind: 'secret', name: ref.name, data };
}
