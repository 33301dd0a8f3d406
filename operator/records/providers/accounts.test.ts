import { CloudAccounts, cloudDnsAccount, DEFAULT_ACCOUNT_LIMITS, route53Account } from './accounts';
import { SlidingWindowLimiter } from './rate-limit';

const key = (accessKeyId: string) => ({ kind: 'static', credentials: { accessKeyId } }) as const;
const sa = (client_email: string) => ({ kind: 'serviceAccount', key: { client_email } }) as const;

describe('CloudAccounts', () => {
  it('hands every policy of one account the same limiter, and another account its own', () => {
    const accounts = new CloudAccounts();
    const a1 = accounts.limiter(route53Account(undefined, key('AKIA1')));
    const a2 = accounts.limiter(route53Account(undefined, key('AKIA1')));
    const b = accounts.limiter(route53Account(undefined, key('AKIA2')));
    expect(a1).toBe(a2);
    expect(b).not.toBe(a1);
    expect(accounts.size).toBe(2);
  });

  it('keeps the listing pages of one account in one store', () => {
    const accounts = new CloudAccounts();
    const a1 = accounts.pages(route53Account(undefined, key('AKIA1')));
    expect(accounts.pages(route53Account(undefined, key('AKIA1')))).toBe(a1);
    expect(accounts.pages(route53Account(undefined, key('AKIA2')))).not.toBe(a1);
  });

  it("keeps under Route 53's 5 requests a second unless told otherwise", () => {
    const accounts = new CloudAccounts({ limits: { cloudDNS: { requests: 3, perMs: 1_000 } } });
    const r53 = accounts.limiter(route53Account(undefined, { kind: 'ambient' }));
    const gcp = accounts.limiter(cloudDnsAccount(undefined, 'p', { kind: 'ambient' }));
    expect((r53 as SlidingWindowLimiter).limit).toEqual(DEFAULT_ACCOUNT_LIMITS.route53);
    expect(DEFAULT_ACCOUNT_LIMITS.route53).toEqual({ requests: 5, perMs: 1_200 });
    expect((gcp as SlidingWindowLimiter).limit).toEqual({ requests: 3, perMs: 1_000 });
  });
});

describe('what an account is', () => {
  it.each([
    ['the same access key', key('AKIA1'), key('AKIA1'), true],
    ['two access keys', key('AKIA1'), key('AKIA2'), false],
    ['ambient twice', { kind: 'ambient' } as const, { kind: 'ambient' } as const, true],
    ['a key and ambient', key('AKIA1'), { kind: 'ambient' } as const, false],
  ])('Route 53: %s', (_what, x, y, same) => {
    expect(route53Account(undefined, x).key === route53Account(undefined, y).key).toBe(same);
  });

  it('Route 53: one key against two endpoints is two accounts', () => {
    expect(route53Account('http://127.0.0.1:1', key('AKIA1')).key).not.toBe(
      route53Account(undefined, key('AKIA1')).key,
    );
  });

  it.each([
    ['one project and principal', ['p', sa('a@p.iam')], ['p', sa('a@p.iam')], true],
    ['two principals of one project', ['p', sa('a@p.iam')], ['p', sa('b@p.iam')], false],
    ['one principal in two projects', ['p', sa('a@p.iam')], ['q', sa('a@p.iam')], false],
    ['ambient in one project', ['p', { kind: 'ambient' }], ['p', { kind: 'ambient' }], true],
  ] as const)('Cloud DNS: %s', (_what, [px, cx], [py, cy], same) => {
    expect(cloudDnsAccount(undefined, px, cx).key === cloudDnsAccount(undefined, py, cy).key).toBe(
      same,
    );
  });

  it('never holds a secret', () => {
    const account = route53Account(undefined, {
      kind: 'static',
      credentials: { accessKeyId: 'AKIA1', secretAccessKey: 'very-secret' } as {
        accessKeyId: string;
      },
    });
    expect(account.key).not.toContain('very-secret');
  });
});
