/**
 * How GitOps tools judge live objects, computed by their own code (test/envtest/tools/health):
 * - `kstatusOf`: sigs.k8s.io/cli-utils kstatus `status.Compute` (Flux, kpt, cli-utils appliers);
 * - `argoHealthOf`: an Argo CD health customization, run in gopher-lua (the Lua VM Argo CD embeds)
 *   with the libraries Argo CD opens for argocd-cm scripts (package, base, table, a reduced os;
 *   no `string` library).
 */
import { execFile } from 'node:child_process';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { locateTools } from './tools';

export type KstatusStatus =
  'InProgress' | 'Failed' | 'Current' | 'Terminating' | 'NotFound' | 'Unknown';
export type ArgoHealthStatus =
  'Healthy' | 'Progressing' | 'Degraded' | 'Suspended' | 'Missing' | 'Unknown';

export interface Verdict<S extends string> {
  readonly status: S;
  readonly message: string;
  /** Set when the checker could not judge (bad object, Lua error). */
  readonly error?: string;
}

function runHealth<S extends string>(
  args: readonly string[],
  objects: readonly KubernetesObject[],
): Promise<Verdict<S>[]> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      locateTools().health,
      [...args],
      { timeout: 30_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) {
          reject(new Error(`health ${args.join(' ')}: ${stderr.trim() || err.message}`));
          return;
        }
        resolve(JSON.parse(stdout) as Verdict<S>[]);
      },
    );
    child.stdin?.end(JSON.stringify(objects));
  });
}

/** kstatus verdicts, one per object, in order. */
export function kstatusOf(objects: readonly KubernetesObject[]): Promise<Verdict<KstatusStatus>[]> {
  return runHealth<KstatusStatus>(['kstatus'], objects);
}

/** Argo CD health verdicts of a health script (Lua source text), one per object, in order. */
export async function argoHealthOf(
  script: string,
  objects: readonly KubernetesObject[],
): Promise<Verdict<ArgoHealthStatus>[]> {
  const dir = mkdtempSync(join(tmpdir(), 'dnsop-health-'));
  try {
    const file = join(dir, 'health.lua');
    writeFileSync(file, script);
    return await runHealth<ArgoHealthStatus>(['argocd', file], objects);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
