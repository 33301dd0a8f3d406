import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { KubeConfig } from '@kubernetes/client-node';

import { ApiServer } from './apiserver';
import { ControllerManager, type ControllerManagerOptions } from './controller-manager';
import { Etcd } from './etcd';
import { loadKubeConfig, writeKubeconfig } from './kubeconfig';
import { LoopbackBlock } from './net';
import { locateTools, type ToolPaths } from './tools';

export interface ControlPlaneOptions {
  /** Also run kube-controller-manager (ReplicaSets, PDB status, GC, …). Default false. */
  readonly controllerManager?:
    boolean | Pick<ControllerManagerOptions, 'controllers' | 'extraArgs'>;
  readonly apiServerArgs?: readonly string[];
}

/**
 * etcd + kube-apiserver (+ optionally kube-controller-manager) on loopback, in a temp work dir
 * that holds data, certs, kubeconfig and one log file per process. There is no scheduler and no
 * kubelet; `CoreDnsCluster` plays the kubelet for CoreDNS pods.
 *
 * Set DNSOP_ENVTEST_KEEP=1 to keep the work dir (and its logs) after `stop()`.
 */
export class ControlPlane {
  readonly workDir: string;
  readonly tools: ToolPaths;
  readonly kubeconfigPath: string;
  /** Loopback /24 that ClusterIPs are allocated from (`--service-cluster-ip-range`). */
  readonly serviceBlock: LoopbackBlock;
  readonly #etcd: Etcd;
  readonly #apiServer: ApiServer;
  #controllerManager: ControllerManager | undefined;
  #kubeConfig: KubeConfig;

  private constructor(parts: {
    workDir: string;
    tools: ToolPaths;
    serviceBlock: LoopbackBlock;
    etcd: Etcd;
    apiServer: ApiServer;
  }) {
    this.workDir = parts.workDir;
    this.tools = parts.tools;
    this.serviceBlock = parts.serviceBlock;
    this.#etcd = parts.etcd;
    this.#apiServer = parts.apiServer;
    this.kubeconfigPath = join(parts.workDir, 'kubeconfig');
    writeKubeconfig(this.kubeconfigPath, {
      server: parts.apiServer.url,
      caFile: join(parts.workDir, 'apiserver-certs', 'apiserver.crt'),
      user: parts.apiServer.admin.user,
      token: parts.apiServer.admin.token,
    });
    this.#kubeConfig = loadKubeConfig(this.kubeconfigPath);
  }

  static async start(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
    const tools = locateTools();
    const workDir = mkdtempSync(join(tmpdir(), 'dnsop-envtest-'));
    const serviceBlock = new LoopbackBlock();
    let etcd: Etcd | undefined;
    let apiServer: ApiServer | undefined;
    try {
      etcd = await Etcd.start({ binary: tools.etcd, workDir });
      apiServer = await ApiServer.start({
        binary: tools.kubeApiServer,
        workDir,
        etcdUrl: etcd.clientUrl,
        serviceClusterIpRange: serviceBlock.cidr(),
        extraArgs: options.apiServerArgs ?? [],
      });
      const plane = new ControlPlane({ workDir, tools, serviceBlock, etcd, apiServer });
      if (options.controllerManager !== undefined && options.controllerManager !== false) {
        await plane.startControllerManager(
          options.controllerManager === true ? {} : options.controllerManager,
        );
      }
      return plane;
    } catch (err) {
      await apiServer?.stop();
      await etcd?.stop();
      throw new Error(`control plane did not start (logs in ${workDir})`, { cause: err });
    }
  }

  /** A KubeConfig for the admin user (a fresh object after each API server restart is not needed). */
  get kubeConfig(): KubeConfig {
    return this.#kubeConfig;
  }

  get apiServerUrl(): string {
    return this.#apiServer.url;
  }

  /** PEM CA bundle for the API server's serving certificate. */
  get caPem(): string {
    return this.#apiServer.caPem;
  }

  /** Bearer token of the admin user (group system:masters). */
  get adminToken(): string {
    return this.#apiServer.admin.token;
  }

  get controllerManagerRunning(): boolean {
    return this.#controllerManager !== undefined;
  }

  async startControllerManager(
    options: Pick<ControllerManagerOptions, 'controllers' | 'extraArgs'> = {},
  ): Promise<void> {
    if (this.#controllerManager !== undefined) return;
    this.#controllerManager = await ControllerManager.start({
      binary: this.tools.kubeControllerManager,
      workDir: this.workDir,
      kubeconfigPath: this.kubeconfigPath,
      ...options,
    });
  }

  async stopControllerManager(): Promise<void> {
    await this.#controllerManager?.stop();
    this.#controllerManager = undefined;
  }

  /** Stops kube-apiserver and starts it again on the same port and etcd; resolves once ready. */
  async restartApiServer(): Promise<void> {
    await this.#apiServer.restart();
  }

  /** Stops kube-apiserver only (clients see connection refused) until `startApiServer()`. */
  async stopApiServer(): Promise<void> {
    await this.#apiServer.stop();
  }

  async startApiServer(): Promise<void> {
    await this.#apiServer.start();
  }

  /** Stops everything (controller-manager, apiserver, etcd) and removes the work dir. */
  async stop(): Promise<void> {
    await this.stopControllerManager();
    await this.#apiServer.stop();
    await this.#etcd.stop();
    if (process.env['DNSOP_ENVTEST_KEEP'] !== '1') {
      rmSync(this.workDir, { recursive: true, force: true });
    }
  }
}
