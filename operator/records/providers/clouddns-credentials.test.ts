import { resolveCloudDnsCredentials } from './clouddns-credentials';
import type { SecretReader } from './credentials';

const key = {
  type: 'service_account',
  client_email: 'dnsop@p.iam.gserviceaccount.com',
  private_key: '-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n',
};
const secrets: Record<string, Record<string, string>> = {
  'shop/gcp': { 'credentials.json': JSON.stringify(key) },
  'shop/garbled': { 'credentials.json': '{"private_key": "-----BEGIN' },
  'shop/wrong': { 'credentials.json': '{"token": "x"}' },
};
const readSecret: SecretReader = (ns, name) => Promise.resolve(secrets[`${ns}/${name}`]);

describe('resolveCloudDnsCredentials', () => {
  it('reads the service-account key from the policy namespace', async () => {
    await expect(
      resolveCloudDnsCredentials(
        { credentialsSecretRef: { name: 'gcp' } },
        { namespace: 'shop', trusted: false, readSecret },
      ),
    ).resolves.toEqual({ kind: 'serviceAccount', key });
  });

  it.each([
    ['garbled', /not valid JSON/],
    ['wrong', /not a service-account key/],
    ['missing', /does not exist/],
  ])('refuses the %s Secret with a message that quotes no key material', async (name, message) => {
    const err = await resolveCloudDnsCredentials(
      { credentialsSecretRef: { name } },
      { namespace: 'shop', trusted: false, readSecret },
    ).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain('BEGIN');
  });

  it('allows ADC only in trusted namespaces', async () => {
    await expect(
      resolveCloudDnsCredentials({}, { namespace: 'ops', trusted: true, readSecret }),
    ).resolves.toEqual({ kind: 'ambient' });
    await expect(
      resolveCloudDnsCredentials({}, { namespace: 'shop', trusted: false, readSecret }),
    ).rejects.toMatchObject({
      reason: 'AmbientCredentialsNotAllowed',
    });
  });
});
