import { PermanentError } from '../../runtime/errors';
import type { SecretReader } from './credentials';
import { resolveRoute53Credentials } from './route53-credentials';

const secrets: Record<string, Record<string, string>> = {
  'shop/aws': {
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'secret',
    AWS_SESSION_TOKEN: 'tok',
  },
  'shop/partial': { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE' },
  'ops/aws': { AWS_ACCESS_KEY_ID: 'AKIDOPS', AWS_SECRET_ACCESS_KEY: 'ops-secret' },
};
const reads: string[] = [];
const readSecret: SecretReader = (namespace, name) => {
  reads.push(`${namespace}/${name}`);
  return Promise.resolve(secrets[`${namespace}/${name}`]);
};

describe('resolveRoute53Credentials', () => {
  beforeEach(() => (reads.length = 0));

  it('uses the keys of the Secret in the policy namespace', async () => {
    const choice = await resolveRoute53Credentials(
      { credentialsSecretRef: { name: 'aws' } },
      { namespace: 'shop', trusted: false, readSecret },
    );
    expect(choice).toEqual({
      kind: 'static',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken: 'tok' },
    });
    expect(reads).toEqual(['shop/aws']);
  });

  it('never reads a Secret from another namespace', async () => {
    await expect(
      resolveRoute53Credentials(
        { credentialsSecretRef: { name: 'aws' } },
        { namespace: 'dev', trusted: true, readSecret },
      ),
    ).rejects.toMatchObject({ reason: 'CredentialsNotFound' });
    expect(reads).toEqual(['dev/aws']);
  });

  it.each([
    ['a missing key', 'partial', 'InvalidCredentials'],
    ['a missing Secret', 'nope', 'CredentialsNotFound'],
  ])('refuses %s with a permanent error', async (_label, name, reason) => {
    const attempt = resolveRoute53Credentials(
      { credentialsSecretRef: { name } },
      { namespace: 'shop', trusted: false, readSecret },
    );
    await expect(attempt).rejects.toBeInstanceOf(PermanentError);
    await expect(attempt).rejects.toMatchObject({ reason });
  });

  it('allows ambient credentials only for trusted namespaces', async () => {
    await expect(
      resolveRoute53Credentials({}, { namespace: 'ops', trusted: true, readSecret }),
    ).resolves.toEqual({ kind: 'ambient' });
    await expect(
      resolveRoute53Credentials({}, { namespace: 'shop', trusted: false, readSecret }),
    ).rejects.toMatchObject({
      reason: 'AmbientCredentialsNotAllowed',
    });
  });
});
