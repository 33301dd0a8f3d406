import { writeFileSync } from 'node:fs';

import { KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';

export interface KubeconfigSpec {
  readonly server: string;
  /** Path of the PEM CA bundle (kept as a path so that every reader sees the same file). */
  readonly caFile: string;
  readonly user: string;
  readonly token: string;
}

const contextName = 'envtest';

/** Writes a single-context kubeconfig usable by kubectl, client-go (CoreDNS, controller-manager) and client-node. */
export function writeKubeconfig(path: string, spec: KubeconfigSpec): void {
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name: contextName, cluster: { server: spec.server, 'certificate-authority': spec.caFile } },
    ],
    users: [{ name: spec.user, user: { token: spec.token } }],
    contexts: [
      {
        name: contextName,
        context: { cluster: contextName, user: spec.user, namespace: 'default' },
      },
    ],
    'current-context': contextName,
  };
  writeFileSync(path, stringify(doc), { mode: 0o600 });
}

export function loadKubeConfig(path: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}
