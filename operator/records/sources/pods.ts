/** Pod facts the sources share: readiness, addresses, and whether a pod backs a Service. */
import type { V1Pod } from '@kubernetes/client-node';

export function isPodReady(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** Every IP of the pod (dual-stack aware), falling back to status.podIP. */
export function podIPs(pod: V1Pod): string[] {
  const ips = (pod.status?.podIPs ?? []).map((p) => p.ip).filter((ip): ip is string => !!ip);
  if (ips.length > 0) return ips;
  return pod.status?.podIP ? [pod.status.podIP] : [];
}

export function isPodTerminated(pod: V1Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/**
 * Whether the pod's addresses belong in a headless Service's records. Mirrors the endpoints
 * controller: an address, not terminated; ready, or any state when the Service publishes
 * not-ready addresses (which also keeps terminating pods).
 */
export function podBacksService(pod: V1Pod, publishNotReadyAddresses: boolean): boolean {
  if (podIPs(pod).length === 0 || isPodTerminated(pod)) return false;
  if (publishNotReadyAddresses) return true;
  return pod.metadata?.deletionTimestamp === undefined && isPodReady(pod);
}

/**
 * The facts about a pod that its records depend on; two versions with the same fingerprint
 * produce the same records, so an update that keeps it needs no reconcile.
 */
export function podRecordFingerprint(pod: V1Pod): string {
  return JSON.stringify([
    podIPs(pod),
    isPodReady(pod),
    isPodTerminated(pod),
    pod.metadata?.deletionTimestamp !== undefined,
    pod.spec?.hostname ?? '',
    pod.spec?.nodeName ?? '',
    pod.status?.phase ?? '',
    pod.metadata?.annotations ?? {},
  ]);
}
