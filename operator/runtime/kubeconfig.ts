/**
 * Where `dnsop run` gets its cluster credentials, in kubectl's order: --kubeconfig (or
 * $KUBECONFIG, colon-separated files merged), else the in-cluster ServiceAccount, else
 * ~/.kube/config. Anything missing or unreadable is a KubeconfigError with one line that says
 * which file and what to do (never a stack trace, never a silent fallback to localhost).
 */
import { accessSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';

export class KubeconfigError extends Error {
  override readonly name = 'KubeconfigError';
}

function readable(file: string): void {
  try {
    accessSync(file, constants.R_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? String(err)})`;
    throw new KubeconfigError(
      `kubeconfig "${file}" ${why}; pass --kubeconfig with a readable file or set KUBECONFIG`,
      { cause: err },
    );
  }
}

function loadFile(file: string): KubeConfig {
  readable(file);
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(file);
  } catch (err) {
    throw new KubeconfigError(
      `kubeconfig "${file}" is not a valid kubeconfig (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`,
      { cause: err },
    );
  }
  return kc;
}

export interface KubeconfigSources {
  /** --kubeconfig or $KUBECONFIG: one path or several joined with ':'. */
  readonly kubeconfig?: string;
  readonly env: NodeJS.ProcessEnv;
  readonly home?: string;
}

export function loadKubeConfig(sources: KubeconfigSources): KubeConfig {
  let kc: KubeConfig;
  let origin: string;
  const files = (sources.kubeconfig ?? '').split(delimiter).filter((f) => f.length > 0);
  const home = join(sources.home ?? homedir(), '.kube', 'config');
  if (files.length > 0) {
    kc = loadFile(files[0]!);
    for (const file of files.slice(1)) kc.mergeConfig(loadFile(file));
    origin = `kubeconfig "${files.join(delimiter)}"`;
  } else if (sources.env['KUBERNETES_SERVICE_HOST']) {
    kc = new KubeConfig();
    try {
      kc.loadFromCluster();
    } catch (err) {
      throw new KubeconfigError(
        `in-cluster credentials cannot be read (${err instanceof Error ? err.message : String(err)}); is the ServiceAccount token mounted?`,
        { cause: err },
      );
    }
    origin = 'the in-cluster ServiceAccount';
  } else {
    try {
      accessSync(home, constants.R_OK);
    } catch (err) {
      throw new KubeconfigError(
        `no kubeconfig: pass --kubeconfig, set KUBECONFIG, create ${home} or run in a cluster`,
        { cause: err },
      );
    }
    kc = loadFile(home);
    origin = `kubeconfig "${home}"`;
  }
  if (kc.getCurrentCluster() === null) {
    throw new KubeconfigError(
      `${origin} has no current context with a cluster; set current-context (kubectl config use-context)`,
    );
  }
  return kc;
}
