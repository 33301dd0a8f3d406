/**
 * Pod -> Endpoints: the `hostname` (and `internal-hostname`) annotation on a Pod publishes A/AAAA
 * records for the pod's IPs, or for the `target` annotation's targets.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { readSourceObject, requestBase, type SourceContext } from './context';
import { isPodTerminated, podIPs } from './pods';
import { buildEndpoints, type BuiltEndpoints } from './targets';

export function podEndpoints(pod: V1Pod, ctx: SourceContext): BuiltEndpoints {
  const src = readSourceObject('Pod', pod.metadata, ctx);
  if (src.skipped) return src.result;
  const { object, ann } = src;
  const names = [...new Set([...ann.hostnames, ...ann.internalHostnames])];
  if (names.length === 0) return { endpoints: [], diagnostics: ann.diagnostics };
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
  const built = buildEndpoints({ ...requestBase(object, ann, ctx), names, targets });
  return { endpoints: built.endpoints, diagnostics: [...ann.diagnostics, ...built.diagnostics] };
}
