/**
 * Provider factory: one place that turns a DNSPolicy's `spec.provider` into a Provider.
 *
 *   createProvider(spec, context)  -> the live provider (may read the policy's Secret)
 *   shapeEndpointsFor(spec)        -> the provider's pure endpoint shaping, offline and without
 *                                     credentials (what `dnsop plan` applies)
 *
 * Cloud SDK modules are loaded only when a policy uses them, so `dnsop plan` and in-memory
 * policies never pay for them.
 */
import type { Logger } from 'pino';
import type { ProviderSpec } from '../../api/types';
import { PermanentError } from '../../runtime/errors';
import type { Endpoint } from '../endpoint';
import { InMemoryDnsStore, InMemoryProvider } from './inmemory';
import type { AdjustResult, Provider } from './provider';
import { shapeForCloudDns } from './clouddns-records';
import { shapeForRoute53 } from './route53-alias';

export type ProviderKind = 'route53' | 'cloudDNS' | 'inMemory';

import type { CloudAccounts } from './accounts';
import type { CredentialContext, SecretReader } from './credentials';

export type { SecretReader };

/** Everything a provider may need besides its spec. Plain values; nothing here does I/O by itself. */
export interface ProviderContext {
  /** The DNSPolicy's namespace: the only namespace its credentials Secret may come from. */
  readonly namespace: string;
  /** Whether that namespace is trusted (--trusted-namespaces): ambient cloud credentials allowed. */
  readonly trusted: boolean;
  readonly readSecret: SecretReader;
  readonly domains: readonly string[];
  readonly excludeDomains?: readonly string[];
  /** The process-wide in-memory store (`inMemory` policies). */
  readonly inMemoryStore: InMemoryDnsStore;
  /**
   * The process-wide cloud accounts: one rate limiter per account shared by every policy, and
   * the provider metrics. Required, so no policy can call a cloud API outside its account's limit.
   */
  readonly accounts: CloudAccounts;
  readonly log?: Logger;
}

/** Which provider a spec names; a PermanentError unless exactly one is set. */
export function providerKind(spec: ProviderSpec): ProviderKind {
  const kinds = (['route53', 'cloudDNS', 'inMemory'] as const).filter((k) => spec[k] !== undefined);
  const [kind] = kinds;
  if (kind === undefined || kinds.length > 1) {
    throw new PermanentError(
      'InvalidProvider',
      'spec.provider must set exactly one of route53, cloudDNS, inMemory',
    );
  }
  return kind;
}

/** The provider's pure shaping of desired endpoints (Route 53 alias records), with no credentials. */
export function shapeEndpointsFor(
  spec: ProviderSpec,
): (endpoints: readonly Endpoint[]) => AdjustResult {
  switch (providerKind(spec)) {
    case 'route53':
      return (endpoints) => shapeForRoute53(endpoints, spec.route53?.aliasMode ?? 'Auto');
    case 'cloudDNS':
      return shapeForCloudDns;
    default:
      return (endpoints) => ({ endpoints, diagnostics: [] });
  }
}

/** What both cloud providers take from the context besides their spec. */
function cloudParams(context: ProviderContext): {
  domains: readonly string[];
  excludeDomains?: readonly string[];
  credentials: CredentialContext;
  accounts: CloudAccounts;
  log?: Logger;
} {
  return {
    domains: context.domains,
    accounts: context.accounts,
    ...(context.excludeDomains ? { excludeDomains: context.excludeDomains } : {}),
    credentials: {
      namespace: context.namespace,
      trusted: context.trusted,
      readSecret: context.readSecret,
    },
    ...(context.log ? { log: context.log } : {}),
  };
}

/** Builds the live provider for one policy. Throws PermanentError for specs that cannot work. */
export async function createProvider(
  spec: ProviderSpec,
  context: ProviderContext,
): Promise<Provider> {
  switch (providerKind(spec)) {
    case 'inMemory':
      return new InMemoryProvider({
        store: context.inMemoryStore,
        zone: spec.inMemory?.zone ?? '',
        domains: context.domains,
        ...(context.excludeDomains ? { excludeDomains: context.excludeDomains } : {}),
      });
    case 'route53': {
      const { newRoute53Provider } = await import('./route53');
      return newRoute53Provider({ spec: spec.route53!, ...cloudParams(context) });
    }
    case 'cloudDNS': {
      const { newCloudDnsProvider } = await import('./clouddns');
      return newCloudDnsProvider({ spec: spec.cloudDNS!, ...cloudParams(context) });
    }
  }
}

export { InMemoryDnsStore, InMemoryProvider };
export { CloudAccounts } from './accounts';
