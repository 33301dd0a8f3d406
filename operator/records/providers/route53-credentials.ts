/**
 * Route 53 credentials for one DNSPolicy: a Secret in the policy's own namespace, or the
 * operator's ambient identity (default chain: env, IRSA, pod identity, IMDS) for policies in a
 * trusted namespace only, so that a tenant cannot borrow the operator's AWS identity.
 */
import { PermanentError } from '../../runtime/errors';
import type { Route53Spec } from '../../api/types';
import type { AwsStaticCredentials } from './route53-api';
import { credentialSource, type CredentialContext } from './credentials';

export type { CredentialContext, SecretReader } from './credentials';

export type AwsCredentialChoice =
  | { readonly kind: 'static'; readonly credentials: AwsStaticCredentials }
  | { readonly kind: 'ambient' };

export async function resolveRoute53Credentials(
  spec: Pick<Route53Spec, 'credentialsSecretRef'>,
  ctx: CredentialContext,
): Promise<AwsCredentialChoice> {
  const source = await credentialSource('route53', spec.credentialsSecretRef, ctx);
  if (source.kind === 'ambient') return source;
  const { data, name } = source;
  const accessKeyId = data['AWS_ACCESS_KEY_ID']?.trim();
  const secretAccessKey = data['AWS_SECRET_ACCESS_KEY']?.trim();
  if (!accessKeyId || !secretAccessKey) {
    throw new PermanentError(
      'InvalidCredentials',
      `route53: Secret ${ctx.namespace}/${name} must hold AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`,
    );
  }
  const sessionToken = data['AWS_SESSION_TOKEN']?.trim();
  return {
    kind: 'static',
    credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) },
  };
}
