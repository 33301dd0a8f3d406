/** DNSProbe objects the integration tests create. */
import type { KubernetesObject } from '@kubernetes/client-node';

/**
 * A DNSProbe of a loopback port where no DNS server listens: every probe times out, the target
 * fails and status says so. Fixed addresses need a trusted namespace.
 */
export function unansweredProbe(name: string, namespace: string): KubernetesObject {
  return {
    apiVersion: 'dnsop.io/v1alpha1',
    kind: 'DNSProbe',
    metadata: { name, namespace },
    spec: {
      server: { addresses: ['127.0.0.1'], port: 9 },
      queries: [{ name: 'kubernetes.default.svc.cluster.local', type: 'A' }],
      interval: '100ms',
      timeout: '50ms',
    },
  } as KubernetesObject;
}
