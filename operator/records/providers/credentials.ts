/**
 * What every cloud provider's credential resolution gets: the policy's namespace (the only one
 * its Secret may come from), whether that namespace is trusted (ambient credentials allowed),
 * and a reader for Secrets.
 */

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
