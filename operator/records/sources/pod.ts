/** Pod -> Endpoints: `dnsop.io/hostname` on a Pod publishes A/AAAA records for the pod's IPs. */
import type { V1Pod } from '@kubernetes/client-node';
import { readRecordAnnotations } from './annotations';
import { isPodTerminated, podIPs } from './pods';
import { buildEndpoints, objectRef, type BuiltEndpoints } from './targets';

export function podEndpoints(pod: V1Pod, defaultTtl: number): BuiltEndpoints {
  const object = objectRef('Pod', pod.metadata);
  const ann = readRecordAnnotations(pod.metadata, object);
  if (ann.hostnames.length === 0) return { endpoints: [], diagnostics: ann.diagnostics };
  if (isPodTerminated(pod) || pod.metadata?.deletionTimestamp !== undefined) {
    return { endpoints: [], diagnostics: ann.diagnostics };
  }
  const targets = ann.targets ?? podIPs(pod);
  if (targets.length === 0) {
    return {
      endpoints: [],
      diagnostics: [
        ...ann.diagnostics,
        { object, reason: 'NoTargets', message: 'the pod has no IP address yet' },
      ],
    };
  }
  const built = buildEndpoints({
    object,
    names: ann.hostnames,
    targets,
    ttl: ann.ttl ?? defaultTtl,
    ...(ann.alias !== undefined ? { alias: ann.alias } : {}),
  });
  return { endpoints: built.endpoints, diagnostics: [...ann.diagnostics, ...built.diagnostics] };
}
