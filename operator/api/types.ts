/**
 * TypeScript view of the dnsop.io/v1alpha1 custom resources (crds/ is the source of truth;
 * the API server applies defaults, so fields with a schema default are non-optional here).
 */
import type { V1Condition, V1LabelSelector, V1ObjectMeta } from '@kubernetes/client-node';

export const GROUP = 'dnsop.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

export interface SecretRef {
  readonly name: string;
}

export const SOURCE_KINDS = [
  'Service',
  'Pod',
  'Ingress',
  'HTTPRoute',
  'GRPCRoute',
  'TLSRoute',
  'TCPRoute',
  'UDPRoute',
  'DNSEndpoint',
] as const;

export type SourceKind = (typeof SOURCE_KINDS)[number];

export interface PolicySource {
  readonly kind: SourceKind;
  readonly selector?: V1LabelSelector;
  /** Ingress only: publish Ingresses whose spec.ingressClassName is one of these. Omitted: all. */
  readonly ingressClassNames?: readonly string[];
}

export interface Route53Spec {
  readonly region: string;
  readonly hostedZoneIds?: readonly string[];
  readonly zoneType: 'public' | 'private' | 'any';
  readonly aliasMode: 'Auto' | 'Never';
  readonly credentialsSecretRef?: SecretRef;
  readonly endpoint?: string;
}

export interface CloudDnsSpec {
  readonly project: string;
  readonly managedZones?: readonly string[];
  readonly credentialsSecretRef?: SecretRef;
  readonly endpoint?: string;
}

export interface InMemorySpec {
  /** Optional name of the shared in-memory zone set; policies naming the same one share records. */
  readonly zone?: string;
}

export interface ProviderSpec {
  readonly route53?: Route53Spec;
  readonly cloudDNS?: CloudDnsSpec;
  readonly inMemory?: InMemorySpec;
}

export type SyncPolicy = 'Sync' | 'UpsertOnly' | 'CreateOnly';

/** external-dns's TXT registry settings (its --txt-owner-id, --txt-prefix, --txt-suffix, ...). */
export interface ExternalDnsAdoptSpec {
  readonly ownerId: string;
  readonly txtPrefix?: string;
  readonly txtSuffix?: string;
  readonly txtWildcardReplacement?: string;
}

/** Records another registry owns that this policy takes over in place. */
export interface AdoptSpec {
  readonly externalDNS?: ExternalDnsAdoptSpec;
}

export interface DNSPolicySpec {
  readonly sources: readonly PolicySource[];
  readonly namespaceSelector?: V1LabelSelector;
  readonly domains: readonly string[];
  readonly excludeDomains?: readonly string[];
  readonly provider: ProviderSpec;
  readonly policy: SyncPolicy;
  readonly ttl: number;
  readonly ownerId?: string;
  /** Publish ClusterIP Services (and NodePort ones without node addresses). Default false. */
  readonly publishInternalServices?: boolean;
  readonly interval: string;
  readonly maxDeletePercent: number;
  readonly dryRun: boolean;
  readonly adopt?: AdoptSpec;
}

export interface DiagnosticStatus {
  readonly object: string;
  readonly reason: string;
  readonly message: string;
}

/** One record change a dry run (or a guard) left unapplied; see status-changes.ts. */
export interface PlannedChangeStatus {
  readonly action: 'Create' | 'Update' | 'Delete' | 'Adopt';
  readonly name: string;
  readonly type: string;
  readonly targets: readonly string[];
  readonly ttl: number;
  readonly alias?: boolean;
  /** Update: the targets the record holds now. */
  readonly previousTargets?: readonly string[];
  /** Adopt: the registry and owner the record is taken from. */
  readonly from?: string;
}

/** A record this policy took over from another registry. */
export interface AdoptionStatus {
  readonly name: string;
  readonly type: string;
  readonly from: string;
  readonly time: string;
}

export interface DNSPolicyStatus {
  observedGeneration?: number;
  conditions?: V1Condition[];
  records?: number;
  /** route53 | cloudDNS | inMemory, for the Provider printer column. */
  provider?: string;
  lastSyncTime?: string;
  pendingChanges?: number;
  diagnostics?: DiagnosticStatus[];
  /** Deletions within the delete guard's rolling hour (records/delete-history.ts). */
  recentDeletes?: { time: string; count: number }[];
  plannedChanges?: PlannedChangeStatus[];
  adoptions?: AdoptionStatus[];
}

export interface DNSPolicy {
  apiVersion: string;
  kind: 'DNSPolicy';
  metadata: V1ObjectMeta;
  spec: DNSPolicySpec;
  status?: DNSPolicyStatus;
}

export interface ProbeQuery {
  readonly name: string;
  readonly type: string;
  readonly expectRcode?: string;
}

export interface DNSProbeSpec {
  readonly server: {
    readonly serviceRef?: { readonly name: string; readonly namespace?: string };
    readonly addresses?: readonly string[];
    readonly port: number;
  };
  readonly queries: readonly ProbeQuery[];
  readonly interval: string;
  readonly timeout: string;
  readonly adaptiveTimeout: boolean;
  readonly transport: 'UDP' | 'TCP';
  readonly maxQPS: number;
  readonly thresholds: {
    readonly consecutiveFailures: number;
    readonly rttSpikeSigma: number;
    readonly rttWindow: string;
    readonly nxdomainRatio: number;
    readonly nxdomainWindow: string;
    readonly servfailEntropyBits: number;
    readonly recoverySuccesses: number;
  };
  /** Override of each pod's ready endpoint (trusted namespaces only); default: its readinessProbe. */
  readonly readiness?: { readonly port?: number; readonly path?: string };
  readonly remediation: {
    readonly mode: 'Off' | 'DryRun' | 'Evict';
    readonly cooldown: string;
    readonly maxEvictionsPerHour: number;
    readonly minReadyPods: number;
  };
}

export interface ProbeTargetStatus {
  address: string;
  kind: 'Service' | 'Pod' | 'Address';
  pod?: string;
  successRatio?: number;
  p50Ms?: number;
  p99Ms?: number;
  consecutiveFailures?: number;
  state: 'Healthy' | 'Degraded' | 'Failing' | 'Unknown';
  lastError?: string;
}

export interface AnomalyStatus {
  signal: string;
  target: string;
  since: string;
  /** When it cleared: a cleared anomaly stays listed for a minute, so a brief one is seen. */
  until?: string;
  value: number;
  threshold: number;
}

/** One eviction a DNSProbe made (status.evictions: the last hour, what the hourly cap counts). */
export interface EvictionStatus {
  pod: string;
  uid?: string;
  time: string;
}

export interface DNSProbeStatus {
  observedGeneration?: number;
  conditions?: V1Condition[];
  targetsHealthy?: string;
  targets?: ProbeTargetStatus[];
  anomalies?: AnomalyStatus[];
  evictions?: EvictionStatus[];
  lastRemediation?: { pod: string; time: string; reason: string };
}

export interface DNSProbe {
  apiVersion: string;
  kind: 'DNSProbe';
  metadata: V1ObjectMeta;
  spec: DNSProbeSpec;
  status?: DNSProbeStatus;
}
