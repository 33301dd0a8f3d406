/**
 * Node facts for NodePort Services: which nodes a Service's traffic enters through, and the
 * addresses to publish for them (ExternalIP, else InternalIP), as external-dns does.
 */
import type { V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import { isPodReady } from './pods';

/** The pods a Service selects and the nodes of the cluster, answered from caches. */
export interface NodeInputs {
  nodes(): readonly V1Node[];
  node(name: string): V1Node | undefined;
}

export function isSchedulable(node: V1Node): boolean {
  return node.spec?.unschedulable !== true;
}

/** A node-local Service (externalTrafficPolicy Local) only answers on nodes running its backends. */
export function isNodeLocal(svc: V1Service): boolean {
  return svc.spec?.externalTrafficPolicy === 'Local';
}

/** How good a backend a pod is on its node; 0 when it is none (not running). */
function backendRank(pod: V1Pod): number {
  if (pod.status?.phase !== 'Running') return 0;
  if (!isPodReady(pod)) return 1;
  return pod.metadata?.deletionTimestamp === undefined ? 3 : 2;
}

/**
 * The nodes whose addresses a NodePort Service publishes. externalTrafficPolicy Local: the nodes
 * running its best backends (ready, else ready but terminating, else running: kube-proxy's own
 * fallback order); otherwise every schedulable node.
 */
export function nodePortNodes(
  svc: V1Service,
  selectedPods: readonly V1Pod[],
  inputs: NodeInputs,
): V1Node[] {
  if (!isNodeLocal(svc)) return inputs.nodes().filter(isSchedulable);
  const best = new Map<string, number>();
  let top = 0;
  for (const pod of selectedPods) {
    const rank = backendRank(pod);
    const nodeName = pod.spec?.nodeName;
    if (rank === 0 || nodeName === undefined || nodeName === '') continue;
    best.set(nodeName, Math.max(best.get(nodeName) ?? 0, rank));
    top = Math.max(top, rank);
  }
  return [...best.entries()]
    .filter(([, rank]) => rank === top)
    .map(([name]) => inputs.node(name))
    .filter((n): n is V1Node => n !== undefined);
}

/** ExternalIP addresses of the nodes when any has one, else their InternalIP addresses. */
export function nodeAddresses(nodes: readonly V1Node[]): string[] {
  const of = (type: string): string[] =>
    nodes.flatMap((n) =>
      (n.status?.addresses ?? []).filter((a) => a.type === type).map((a) => a.address),
    );
  const external = of('ExternalIP');
  return external.length > 0 ? external : of('InternalIP');
}
