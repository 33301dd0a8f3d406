/**
 * The cloud accounts the operator calls, and the one rate limiter each shares across every
 * DNSPolicy that uses it. Quotas are per account, not per policy: Route 53 allows 5 requests a
 * second per AWS account; Cloud DNS counts API requests per project and per IAM principal. Ten
 * policies with their own limiters would together send ten times the quota and be throttled.
 *
 * What "account" means when all the operator knows is a policy's Secret (ADR 0010):
 * - Route 53: the access key id (AWS_ACCESS_KEY_ID) plus the API endpoint. AWS counts per
 *   account, and two different access keys of one AWS account are two keys here (finding the
 *   account behind a key takes an STS call per key); ambient credentials (IRSA, pod identity,
 *   instance role) are one identity for the whole operator: one key "ambient".
 * - Cloud DNS: the project plus the service account's client_email (the IAM principal the
 *   quota counts), plus the endpoint; ambient credentials (workload identity): project + "ambient".
 * The key never holds a secret, and never appears in logs or metrics.
 */
import type { ProviderMetrics } from './calls';
import type { RateLimiter, WindowLimit, WindowLimiterOptions } from './rate-limit';
import { SlidingWindowLimiter } from './rate-limit';
import { KeptPages } from './kept-pages';
import { SharedListings } from './shared-listings';

export type CloudProviderKind = 'route53' | 'cloudDNS';

/** Identifies one cloud account (one quota) of one provider. */
export interface CloudAccount {
  readonly provider: CloudProviderKind;
  readonly key: string;
}

/**
 * Default request rates per account. Route 53 allows 5 requests a second: 5 per 1.2 s leaves a
 * margin for the time between our grant and Route 53's count (tens of ms; a few hundred when a
 * client sends its first request), which otherwise draws a Throttling answer now and then.
 * Cloud DNS's quota is set per project (shown in the Cloud console, raisable, counted per
 * minute); 10 a second stays well within the default while far above what syncs need.
 */
export const DEFAULT_ACCOUNT_LIMITS: Readonly<Record<CloudProviderKind, WindowLimit>> =
  Object.freeze({
    route53: Object.freeze({ requests: 5, perMs: 1_200 }),
    cloudDNS: Object.freeze({ requests: 10, perMs: 1_000 }),
  });

export interface CloudAccountsOptions {
  /** Metrics every provider built for these accounts records its requests into. */
  readonly metrics?: ProviderMetrics;
  /** Override the rate per provider (tests, or a raised quota). */
  readonly limits?: Partial<Record<CloudProviderKind, WindowLimit>>;
  readonly limiter?: WindowLimiterOptions;
  /** How long an account's listings are reused by its other providers. Default 30 s. */
  readonly listingMaxAgeMs?: number;
  readonly now?: () => number;
}

/** What every provider of one cloud account shares. */
interface Account {
  readonly limiter: RateLimiter;
  readonly listings: SharedListings;
  readonly pages: KeptPages;
}

/**
 * One per operator process (the DNSPolicy controller owns it; tests and benches inject their
 * own). Creates a limiter and shared listings the first time an account is seen and hands the
 * same ones to every provider of that account afterwards.
 */
export class CloudAccounts {
  readonly metrics: ProviderMetrics | undefined;
  readonly #options: CloudAccountsOptions;
  readonly #accounts = new Map<string, Account>();

  constructor(options: CloudAccountsOptions = {}) {
    this.#options = options;
    this.metrics = options.metrics;
  }

  limiter(account: CloudAccount): RateLimiter {
    return this.#account(account).limiter;
  }

  /**
   * The account's shared listings (shared-listings.ts): what the API answered to one provider's
   * zone or record listing is reused by the account's other providers for a short while.
   */
  listings(account: CloudAccount): SharedListings {
    return this.#account(account).listings;
  }

  /** The listing pages the account's API answered, kept by their bytes (kept-pages.ts). */
  pages(account: CloudAccount): KeptPages {
    return this.#account(account).pages;
  }

  /** How many distinct accounts have been seen (for tests and diagnostics). */
  get size(): number {
    return this.#accounts.size;
  }

  #account(account: CloudAccount): Account {
    const id = accountId(account);
    let found = this.#accounts.get(id);
    if (found === undefined) {
      const o = this.#options;
      const limit = o.limits?.[account.provider] ?? DEFAULT_ACCOUNT_LIMITS[account.provider];
      found = {
        limiter: new SlidingWindowLimiter(limit, o.limiter),
        listings: new SharedListings({
          ...(o.listingMaxAgeMs !== undefined ? { maxAgeMs: o.listingMaxAgeMs } : {}),
          ...(o.now ? { now: o.now } : {}),
        }),
        pages: new KeptPages(),
      };
      this.#accounts.set(id, found);
    }
    return found;
  }
}

function accountId(account: CloudAccount): string {
  return `${account.provider}\u0000${account.key}`;
}

/** The Route 53 account behind a policy's credentials (see the module comment). */
export function route53Account(
  endpoint: string | undefined,
  credentials:
    | { readonly kind: 'static'; readonly credentials: { readonly accessKeyId: string } }
    | { readonly kind: 'ambient' },
): CloudAccount {
  const identity =
    credentials.kind === 'static' ? `key:${credentials.credentials.accessKeyId}` : 'ambient';
  return { provider: 'route53', key: `${endpoint ?? ''}\u0000${identity}` };
}

/** The Cloud DNS account (project and principal) behind a policy's credentials. */
export function cloudDnsAccount(
  endpoint: string | undefined,
  project: string,
  credentials:
    | { readonly kind: 'serviceAccount'; readonly key: { readonly client_email: string } }
    | { readonly kind: 'ambient' },
): CloudAccount {
  const principal =
    credentials.kind === 'serviceAccount' ? `sa:${credentials.key.client_email}` : 'ambient';
  return { provider: 'cloudDNS', key: `${endpoint ?? ''}\u0000${project}\u0000${principal}` };
}
