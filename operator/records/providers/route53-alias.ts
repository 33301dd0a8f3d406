/**
 * Route 53 record shaping (seeds/004): decides, offline and without I/O, which desired endpoints
 * become alias records. Used by the Route 53 provider's adjustEndpoints and by `dnsop plan`.
 *
 * Rules:
 * - An IP target is never an alias, whatever the `dnsop.io/alias` annotation says; a diagnostic
 *   tells the user when the annotation asked for one.
 * - A hostname target becomes an alias A and an alias AAAA (A only for S3 website endpoints)
 *   only with aliasMode Auto, when the hostname belongs to an AWS service with a published
 *   canonical hosted zone. `dnsop.io/alias: "false"` forces CNAME.
 * - Any other hostname is a CNAME; aliasMode Never always gives CNAMEs.
 */
import { isIP } from 'node:net';
import type { Diagnostic, Endpoint } from '../endpoint';
import { endpointKey, normaliseName } from '../endpoint';
import type { AdjustResult } from './provider';
import { canonicalZoneFor } from './route53-canonical-zones';

export type AliasMode = 'Auto' | 'Never';

/**
 * Route 53 answers alias records with the target's own TTL (60 s for load balancers and
 * CloudFront) and stores none; the model carries this value on both the desired and the listed
 * side so that the planner never sees a TTL difference on an alias.
 */
export const ALIAS_RECORD_TTL = 60;

export const ALIAS_DIAGNOSTICS = {
  ipTarget: 'AliasNotPossibleForIP',
  notAws: 'AliasTargetNotAWS',
  disabled: 'AliasDisabledByPolicy',
  multipleTargets: 'MultipleHostnameTargets',
  mixedTargets: 'MixedTargets',
} as const;

interface Shaped {
  readonly endpoints: Endpoint[];
  readonly diagnostics: Diagnostic[];
}

export function shapeForRoute53(
  endpoints: readonly Endpoint[],
  aliasMode: 'Auto' | 'Never',
): AdjustResult {
  const out: Endpoint[] = [];
  const diagnostics: Diagnostic[] = [];
  /** Old record key -> new record key, for ownership TXT records travelling with the input. */
  const renamed = new Map<string, string>();
  const txts: Endpoint[] = [];
  for (const ep of endpoints) {
    if (ep.type === 'TXT' || ep.type === 'SRV') {
      txts.push(ep);
      continue;
    }
    const shaped = shapeOne(ep, aliasMode);
    diagnostics.push(...shaped.diagnostics);
    const first = shaped.endpoints[0];
    if (first !== undefined) renamed.set(endpointKey(ep), endpointKey(first));
    out.push(...shaped.endpoints);
  }
  for (const txt of txts) {
    const owner = txt.ownerOf === undefined ? undefined : renamed.get(txt.ownerOf);
    out.push(owner !== undefined && owner !== txt.ownerOf ? { ...txt, ownerOf: owner } : txt);
  }
  return { endpoints: out, diagnostics };
}

function shapeOne(ep: Endpoint, aliasMode: AliasMode): Shaped {
  const ips = ep.targets.filter((t) => isIP(t) !== 0);
  const hosts = ep.targets.filter((t) => isIP(t) === 0).map(normaliseName);
  const wantsAlias = ep.providerSpecific?.alias;
  const diagnostics: Diagnostic[] = [];
  if (ips.length > 0) {
    if (wantsAlias === true) {
      diagnostics.push(
        diag(
          ep,
          ALIAS_DIAGNOSTICS.ipTarget,
          `${ep.name}: target ${ips.join(', ')} is an IP address; published as a plain record, never an alias`,
        ),
      );
    }
    if (hosts.length > 0) {
      diagnostics.push(
        diag(
          ep,
          ALIAS_DIAGNOSTICS.mixedTargets,
          `${ep.name}: both IP and hostname targets; the hostnames (${hosts.join(', ')}) are not published`,
        ),
      );
    }
    return { endpoints: plainAddressRecords(ep, ips), diagnostics };
  }
  const host = [...new Set(hosts)].sort()[0];
  if (host === undefined) return { endpoints: [], diagnostics };
  if (hosts.length > 1) {
    diagnostics.push(
      diag(
        ep,
        ALIAS_DIAGNOSTICS.multipleTargets,
        `${ep.name}: a name can point at one hostname; using ${host}`,
      ),
    );
  }
  const canonical = canonicalZoneFor(host);
  const aliasAllowed = aliasMode === 'Auto' && wantsAlias !== false;
  if (canonical === undefined || !aliasAllowed) {
    if (wantsAlias === true && aliasMode === 'Never') {
      diagnostics.push(
        diag(
          ep,
          ALIAS_DIAGNOSTICS.disabled,
          `${ep.name}: aliasMode is Never; published as CNAME to ${host}`,
        ),
      );
    } else if (wantsAlias === true && canonical === undefined) {
      diagnostics.push(
        diag(
          ep,
          ALIAS_DIAGNOSTICS.notAws,
          `${ep.name}: ${host} is not an AWS service with a known canonical hosted zone; published as CNAME`,
        ),
      );
    }
    return { endpoints: [plain(ep, 'CNAME', [host])], diagnostics };
  }
  const providerSpecific = {
    alias: true,
    aliasHostedZoneId: canonical.hostedZoneId,
    // Route 53 can check the health of load balancer targets only.
    evaluateTargetHealth: canonical.service === 'elb' || canonical.service === 'nlb',
  };
  const alias = (type: 'A' | 'AAAA'): Endpoint =>
    withoutUndefined({
      ...ep,
      type,
      targets: [canonical.dnsName],
      ttl: ALIAS_RECORD_TTL,
      providerSpecific,
    });
  // Both families, as external-dns does: a dual-stack target then answers IPv6 clients, and an
  // IPv4-only one answers AAAA queries with no data. S3 website endpoints are IPv4 only.
  const types: ('A' | 'AAAA')[] =
    ep.type === 'AAAA' ? ['AAAA'] : canonical.service === 's3website' ? ['A'] : ['A', 'AAAA'];
  return { endpoints: types.map(alias), diagnostics };
}

/** IP targets become A (IPv4) and/or AAAA (IPv6) records, never aliases. */
function plainAddressRecords(ep: Endpoint, ips: readonly string[]): Endpoint[] {
  const v4 = ips.filter((ip) => isIP(ip) === 4);
  const v6 = ips.filter((ip) => isIP(ip) === 6);
  const out: Endpoint[] = [];
  if (v4.length > 0) out.push(plain(ep, 'A', v4));
  if (v6.length > 0) out.push(plain(ep, 'AAAA', v6));
  return out;
}

function plain(ep: Endpoint, type: Endpoint['type'], targets: readonly string[]): Endpoint {
  return withoutUndefined({
    ...ep,
    type,
    targets: [...new Set(targets)].sort(),
    providerSpecific: undefined,
  });
}

function withoutUndefined(ep: Endpoint): Endpoint {
  const copy: Record<string, unknown> = { ...ep };
  for (const key of Object.keys(copy)) if (copy[key] === undefined) delete copy[key];
  return copy as unknown as Endpoint;
}

function diag(ep: Endpoint, reason: string, message: string): Diagnostic {
  return { object: ep.source ?? ep.name, reason, message };
}
