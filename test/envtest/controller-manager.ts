import { join } from 'node:path';

import { ManagedProcess } from './process';
import { WaitAbortedError, waitFor } from './wait';

/**
 * The controllers the harness runs by default: pods for ReplicaSets/Deployments, PDB status,
 * garbage collection of owned objects, namespace deletion, and `default` ServiceAccounts.
 * Not the endpoint/endpointslice controllers: pod IPs here are loopback addresses, which
 * Endpoints/EndpointSlice validation rejects.
 */
export const defaultControllers: readonly string[] = [
  'replicaset',
  'deployment',
  'disruption',
  'garbagecollector',
  'namespace',
  'serviceaccount',
];

export interface ControllerManagerOptions {
  readonly binary: string;
  readonly workDir: string;
  readonly kubeconfigPath: string;
  readonly controllers?: readonly string[];
  readonly extraArgs?: readonly string[];
}

/** kube-controller-manager without leader election or a serving port. */
export class ControllerManager {
  readonly #process: ManagedProcess;

  private constructor(proc: ManagedProcess) {
    this.#process = proc;
  }

  static async start(options: ControllerManagerOptions): Promise<ControllerManager> {
    const proc = await ManagedProcess.start({
      name: 'kube-controller-manager',
      command: options.binary,
      args: [
        `--kubeconfig=${options.kubeconfigPath}`,
        '--leader-elect=false',
        `--controllers=${(options.controllers ?? defaultControllers).join(',')}`,
        '--secure-port=0',
        '--use-service-account-credentials=false',
        '--profiling=false',
        ...(options.extraArgs ?? []),
      ],
      logFile: join(options.workDir, 'kube-controller-manager.log'),
    });
    // It has no health endpoint without a serving port: give it a moment to fail on bad flags.
    await waitFor(
      'kube-controller-manager to stay up',
      async () => {
        await new Promise((resolve) => setTimeout(resolve, 500));
        if (!proc.running) {
          throw new WaitAbortedError(`kube-controller-manager exited:\n${proc.logTail()}`);
        }
        return true;
      },
      { timeoutMs: 5_000 },
    );
    return new ControllerManager(proc);
  }

  async stop(): Promise<void> {
    await this.#process.stop();
  }
}
