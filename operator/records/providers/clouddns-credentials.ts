/**
 * Cloud DNS credentials for one DNSPolicy: a service-account key (`credentials.json`) from a
 * Secret in the policy's own namespace, or Application Default Credentials (workload identity)
 * for policies in a trusted namespace only.
 */
import type { CloudDnsSpec } from '../../api/types';
import { PermanentError } from '../../runtime/errors';
import { credentialSource, type CredentialContext } from './credentials';

export const CLOUDDNS_SECRET_KEY = 'credentials.json';

export interface ServiceAccountKey {
  readonly type?: string;
  readonly client_email: string;
  readonly private_key: string;
  readonly project_id?: string;
  readonly [field: string]: unknown;
}

export type GcpCredentialChoice =
  | { readonly kind: 'serviceAccount'; readonly key: ServiceAccountKey }
  | { readonly kind: 'ambient' };

export async function resolveCloudDnsCredentials(
  spec: Pick<CloudDnsSpec, 'credentialsSecretRef'>,
  ctx: CredentialContext,
): Promise<GcpCredentialChoice> {
  const source = await credentialSource('cloudDNS', spec.credentialsSecretRef, ctx);
  if (source.kind === 'ambient') return source;
  const { data, name } = source;
  const json = data[CLOUDDNS_SECRET_KEY];
  const invalid = (why: string): PermanentError =>
    new PermanentError(
      'InvalidCredentials',
      `cloudDNS: Secret ${ctx.namespace}/${name} key ${CLOUDDNS_SECRET_KEY} ${why}`,
    );
  if (json === undefined || json.trim() === '') throw invalid('is missing');
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    // The parse error can quote the key material: never pass it on.
    throw invalid('is not valid JSON');
  }
  const key = parsed as Partial<ServiceAccountKey> | null;
  if (typeof key?.client_email !== 'string' || typeof key.private_key !== 'string') {
    throw invalid('is not a service-account key (client_email and private_key are required)');
  }
  return { kind: 'serviceAccount', key: key as ServiceAccountKey };
}
