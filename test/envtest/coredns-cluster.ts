import { join } from 'node:path';

import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  PatchStrategy,
  PolicyV1Api,
  setHeaderOptions,
  type V1Pod,
  type V1ReplicaSet,
} from '@kubernetes/client-node';

import type { ControlPlane } from './control-plane';
import { CoreDnsServer } from './coredns-server';
import {
  renderCorefile,
  renderUpstreamCorefile,
  type CoreDnsBehaviour,
  type CorefileParams,
} from './corefile';
import { KubeletStandIn, type Container, type RunningPod } from './kubelet-stand-in';
import { LoopbackBlock } from './net';
import { ServiceProxy } from './service-proxy';
import { httpOk, waitFor } from './wait';

export interface CoreDnsClusterOptions {
  /** Pods in the ReplicaSet. Default 2. */
  readonly replicas?: number;
  /** Default `kube-system`. */
  readonly namespace?: string;
  /** Port every CoreDNS pod and the kube-dns Service listen on. Default 1053 (no root needed). */
  readonly dnsPort?: number;
  /** `ready` plugin port on each pod IP. Default 8181. */
  readonly readyPort?: number;
  /** `health` plugin port on each pod IP. Default 8080. */
  readonly healthPort?: number;
  /** `prometheus` plugin port on each pod IP. Default 9153. */
  readonly metricsPort?: number;
  readonly clusterDomain?: string;
  /** Also create a PodDisruptionBudget `coredns` with this minAvailable. */
  readonly pdbMinAvailable?: number;
  /** Restart delay for a CoreDNS process that died (kubelet restartPolicy Always). Default 500 ms. */
  readonly restartDelayMs?: number;
  /** Let pod readiness follow /ready like a kubelet readinessProbe. Off by default: pods stay Ready. */
  readonly readinessProbe?: { readonly periodMs: number; readonly failureThreshold: number };
  /** How long `start()` waits for the pods to be Ready. Default 60 s. */
  readonly startTimeoutMs?: number;
}

/** Labels of the CoreDNS pods and the kube-dns Service selector, as kubeadm sets them. */
export const coreDnsLabels: Readonly<Record<string, string>> = { 'k8s-app': 'kube-dns' };
export const coreDnsReplicaSetName = 'coredns';
export const kubeDnsServiceName = 'kube-dns';
export const envtestNodeName = 'envtest-node';

/** One CoreDNS "pod": its process and the faults a test can inject into it. */
export class CoreDnsPod implements Container {
  readonly podName: string;
  readonly ip: string;
  readonly dnsPort: number;
  readonly readyUrl: string;
  readonly healthUrl: string;
  readonly metricsUrl: string;
  readonly #params: CorefileParams;
  readonly #binary: string;
  readonly #workDir: string;
  #behaviour: CoreDnsBehaviour = {};
  #server: CoreDnsServer | undefined;

  constructor(podName: string, params: CorefileParams, binary: string, workDir: string) {
    this.podName = podName;
    this.ip = params.ip;
    this.dnsPort = params.dnsPort;
    this.#params = params;
    this.#binary = binary;
    this.#workDir = workDir;
    this.readyUrl = `http://${params.ip}:${params.readyPort}/ready`;
    this.healthUrl = `http://${params.ip}:${params.healthPort}/health`;
    this.metricsUrl = `http://${params.ip}:${params.metricsPort}/metrics`;
  }

  /** `ip:port` to send DNS queries to. */
  get address(): string {
    return `${this.ip}:${this.dnsPort}`;
  }

  get pid(): number | undefined {
    return this.#server?.pid;
  }

  get running(): boolean {
    return this.#server?.running === true;
  }

  get behaviour(): CoreDnsBehaviour {
    return this.#behaviour;
  }

  async start(): Promise<void> {
    const corefile = renderCorefile(this.#params, this.#behaviour);
    const awaitReady = this.#behaviour.erratic === undefined;
    if (this.#server === undefined) {
      this.#server = new CoreDnsServer({
        binary: this.#binary,
        name: `coredns-${this.podName}`,
        workDir: this.#workDir,
        readyUrl: this.readyUrl,
      });
    }
    await this.#server.reload(corefile, awaitReady); // only writes the Corefile: not running yet
    await this.#server.start(awaitReady);
  }

  async stop(graceMs: number): Promise<void> {
    await this.#server?.stop(graceMs);
  }

  async exited(): Promise<unknown> {
    return this.#server?.exited();
  }

  async probeReady(): Promise<boolean> {
    return httpOk(this.readyUrl, 500);
  }

  /** Hang: SIGSTOP. Queries, /ready and /health all time out until `resume()`. */
  pause(): void {
    this.#server?.pause();
  }

  resume(): void {
    this.#server?.resume();
  }

  /** Crash: SIGKILL. The stand-in reports the pod not ready and restarts the process. */
  async kill(): Promise<void> {
    await this.#server?.kill();
  }

  /** Reloads CoreDNS with a Corefile showing `behaviour` (`{}` is healthy). */
  async setBehaviour(behaviour: CoreDnsBehaviour): Promise<void> {
    this.#behaviour = behaviour;
    await this.#server?.reload(
      renderCorefile(this.#params, behaviour),
      behaviour.erratic === undefined,
    );
  }
}

/**
 * Cluster DNS on loopback: the `coredns` ReplicaSet and `kube-dns` Service in the real API server,
 * one CoreDNS process per pod on its own loopback IP, a kubelet stand-in that keeps processes and
 * pods in step (eviction kills the process; a pod the ReplicaSet controller creates gets a process),
 * a kube-proxy stand-in on the Service's ClusterIP, and an upstream resolver for other names
 * (`*.upstream.test` A -> 127.0.0.1, anything else NXDOMAIN).
 *
 * Pod IPs and the ClusterIP are loopback addresses; the API server refuses those in Endpoints and
 * EndpointSlices, so the kube-dns Service has no EndpointSlice: find CoreDNS pods by the Service's
 * selector (as `operator/probes/targets.ts` should) or through `pods()`.
 *
 * Without kube-controller-manager the cluster creates the pods itself once; with it
 * (`ControlPlane.start({ controllerManager: true })`) evicted pods are replaced.
 */
export class CoreDnsCluster {
  readonly namespace: string;
  readonly dnsPort: number;
  readonly readyPort: number;
  /** ClusterIP of the kube-dns Service (a loopback address). */
  readonly serviceIp: string;
  readonly #plane: ControlPlane;
  readonly #options: CoreDnsClusterOptions;
  readonly #podBlock: LoopbackBlock;
  readonly #pods = new Map<string, CoreDnsPod>();
  #standIn: KubeletStandIn | undefined;
  #proxy: ServiceProxy | undefined;
  #upstream: CoreDnsServer | undefined;

  private constructor(plane: ControlPlane, options: CoreDnsClusterOptions) {
    this.#plane = plane;
    this.#options = options;
    this.namespace = options.namespace ?? 'kube-system';
    this.dnsPort = options.dnsPort ?? 1053;
    this.readyPort = options.readyPort ?? 8181;
    this.serviceIp = plane.serviceBlock.address(10);
    let podBlock = new LoopbackBlock();
    while (podBlock.prefix === plane.serviceBlock.prefix) podBlock = new LoopbackBlock();
    this.#podBlock = podBlock;
  }

  static async start(
    plane: ControlPlane,
    options: CoreDnsClusterOptions = {},
  ): Promise<CoreDnsCluster> {
    const cluster = new CoreDnsCluster(plane, options);
    try {
      await cluster.#start();
    } catch (err) {
      await cluster.stop();
      throw new Error(`CoreDNS cluster did not start (logs in ${plane.workDir})`, { cause: err });
    }
    return cluster;
  }

  /** `ip:port` of the kube-dns Service (through the kube-proxy stand-in). */
  get serviceAddress(): string {
    return `${this.serviceIp}:${this.dnsPort}`;
  }

  /** The label selector of the CoreDNS pods. */
  get labelSelector(): string {
    return Object.entries(coreDnsLabels)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
  }

  /** Pods whose CoreDNS process runs now (ready or not), in name order. */
  pods(): CoreDnsPod[] {
    return this.#running()
      .map((p) => this.#pods.get(p.uid))
      .filter((p): p is CoreDnsPod => p !== undefined);
  }

  /** The running CoreDNS pod named `name`. */
  pod(name: string): CoreDnsPod {
    const pod = this.pods().find((p) => p.podName === name);
    if (pod === undefined) throw new Error(`no running CoreDNS pod named ${name}`);
    return pod;
  }

  /** Pods whose process runs and that the stand-in reports Ready, in name order. */
  readyPods(): CoreDnsPod[] {
    const ready = new Set(
      this.#running()
        .filter((p) => p.ready)
        .map((p) => p.uid),
    );
    return [...this.#pods.entries()]
      .filter(([uid]) => ready.has(uid))
      .map(([, pod]) => pod)
      .sort((a, b) => a.podName.localeCompare(b.podName));
  }

  /** Waits (bounded) until exactly `count` pods are Ready, and returns them. */
  async waitForReadyPods(count: number, timeoutMs = 30_000): Promise<CoreDnsPod[]> {
    return this.waitForPods(
      `${count} ready CoreDNS pods`,
      (ready) => ready.length === count,
      timeoutMs,
    );
  }

  /** Waits (bounded) until `predicate` holds for the Ready pods, and returns them. */
  async waitForPods(
    description: string,
    predicate: (readyPods: CoreDnsPod[]) => boolean,
    timeoutMs = 30_000,
  ): Promise<CoreDnsPod[]> {
    return waitFor(
      description,
      () => {
        const ready = this.readyPods();
        return predicate(ready) ? ready : undefined;
      },
      { timeoutMs },
    );
  }

  /** Evicts a pod through the Eviction API (PDBs apply), as the operator's remediation does. */
  async evict(podName: string): Promise<void> {
    const core = this.#plane.kubeConfig.makeApiClient(CoreV1Api);
    await core.createNamespacedPodEviction({
      name: podName,
      namespace: this.namespace,
      body: {
        apiVersion: 'policy/v1',
        kind: 'Eviction',
        metadata: { name: podName, namespace: this.namespace },
      },
    });
  }

  /**
   * The upstream resolver every pod forwards to dies (SIGKILL: its port refuses, so each pod's
   * `forward` answers SERVFAIL at once), as in an upstream outage: every pod sees it at the same
   * moment, with no reload (a reload blips a pod's ready endpoint). `upstreamUp` brings it back.
   */
  async upstreamDown(): Promise<void> {
    await this.#upstream?.kill();
  }

  async upstreamUp(): Promise<void> {
    await this.#upstream?.start(false);
  }

  /** Stops every process and the proxies; deletes the objects if the API server still answers. */
  async stop(): Promise<void> {
    await this.#standIn?.stop();
    await this.#proxy?.stop();
    await this.#upstream?.stop();
    this.#standIn = undefined;
    this.#proxy = undefined;
    this.#upstream = undefined;
    await this.#deleteObjects().catch(() => undefined);
  }

  #running(): RunningPod[] {
    return this.#standIn?.runningPods() ?? [];
  }

  async #start(): Promise<void> {
    const upstreamIp = this.#podBlock.address(1);
    this.#upstream = await CoreDnsServer.start({
      binary: this.#plane.tools.coreDns,
      name: 'coredns-upstream',
      workDir: this.#plane.workDir,
      corefile: renderUpstreamCorefile(upstreamIp, this.dnsPort),
    });
    await this.#ensureNode();
    await this.#createObjects();
    this.#standIn = new KubeletStandIn({
      kubeConfig: this.#plane.kubeConfig,
      namespace: this.namespace,
      labelSelector: this.labelSelector,
      nodeName: envtestNodeName,
      hostIp: '127.0.0.1',
      allocateIp: () => this.#allocatePodIp(),
      createContainer: (pod, ip) => this.#createPod(pod, ip),
      restartDelayMs: this.#options.restartDelayMs ?? 500,
      ...(this.#options.readinessProbe !== undefined
        ? { readinessProbe: this.#options.readinessProbe }
        : {}),
      logFile: join(this.#plane.workDir, 'kubelet-stand-in.log'),
    });
    this.#standIn.start();
    this.#proxy = await ServiceProxy.start({
      ip: this.serviceIp,
      port: this.dnsPort,
      backends: () =>
        this.#running()
          .filter((p) => p.ready)
          .map((p) => ({ ip: p.ip, port: this.dnsPort })),
    });
    await this.waitForReadyPods(
      this.#options.replicas ?? 2,
      this.#options.startTimeoutMs ?? 60_000,
    );
  }

  #allocatePodIp(): string {
    // .1 is the upstream resolver, .254 the dead upstream.
    for (;;) {
      const ip = this.#podBlock.allocate();
      if (!ip.endsWith('.254')) return ip;
    }
  }

  #createPod(pod: V1Pod, ip: string): CoreDnsPod {
    const params: CorefileParams = {
      ip,
      dnsPort: this.dnsPort,
      healthPort: this.#options.healthPort ?? 8080,
      readyPort: this.readyPort,
      metricsPort: this.#options.metricsPort ?? 9153,
      kubeconfigPath: this.#plane.kubeconfigPath,
      upstream: `${this.#podBlock.address(1)}:${this.dnsPort}`,
      deadUpstream: `${this.#podBlock.address(254)}:${this.dnsPort}`,
      clusterDomain: this.#options.clusterDomain ?? 'cluster.local',
    };
    const coreDnsPod = new CoreDnsPod(
      pod.metadata!.name!,
      params,
      this.#plane.tools.coreDns,
      this.#plane.workDir,
    );
    const live = new Set(this.#running().map((p) => p.uid));
    for (const uid of this.#pods.keys()) if (!live.has(uid)) this.#pods.delete(uid);
    this.#pods.set(pod.metadata!.uid!, coreDnsPod);
    return coreDnsPod;
  }

  /** A Node for the pods to be bound to, reporting Ready (nothing else checks it here). */
  async #ensureNode(): Promise<void> {
    const core = this.#plane.kubeConfig.makeApiClient(CoreV1Api);
    try {
      await core.createNode({
        body: {
          metadata: {
            name: envtestNodeName,
            labels: { 'kubernetes.io/hostname': envtestNodeName },
          },
        },
      });
    } catch (err) {
      if (!(err instanceof ApiException && err.code === 409)) throw err;
    }
    const now = new Date().toISOString();
    await core.patchNodeStatus(
      {
        name: envtestNodeName,
        body: {
          status: {
            addresses: [{ type: 'InternalIP', address: '127.0.0.1' }],
            conditions: [
              {
                type: 'Ready',
                status: 'True',
                reason: 'EnvtestStandIn',
                lastHeartbeatTime: now,
                lastTransitionTime: now,
              },
            ],
          },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }

  async #createObjects(): Promise<void> {
    const core = this.#plane.kubeConfig.makeApiClient(CoreV1Api);
    const apps = this.#plane.kubeConfig.makeApiClient(AppsV1Api);
    await core.createNamespacedService({
      namespace: this.namespace,
      body: {
        metadata: { name: kubeDnsServiceName, labels: { ...coreDnsLabels } },
        spec: {
          clusterIP: this.serviceIp,
          selector: { ...coreDnsLabels },
          ports: [
            { name: 'dns', port: this.dnsPort, targetPort: this.dnsPort, protocol: 'UDP' },
            { name: 'dns-tcp', port: this.dnsPort, targetPort: this.dnsPort, protocol: 'TCP' },
          ],
        },
      },
    });
    const replicaSet = await apps.createNamespacedReplicaSet({
      namespace: this.namespace,
      body: this.#replicaSet(),
    });
    if (this.#options.pdbMinAvailable !== undefined) {
      const policy = this.#plane.kubeConfig.makeApiClient(PolicyV1Api);
      await policy.createNamespacedPodDisruptionBudget({
        namespace: this.namespace,
        body: {
          metadata: { name: coreDnsReplicaSetName },
          spec: {
            minAvailable: this.#options.pdbMinAvailable,
            selector: { matchLabels: { ...coreDnsLabels } },
          },
        },
      });
    }
    if (!this.#plane.controllerManagerRunning) await this.#createPodsFor(replicaSet);
  }

  #replicaSet(): V1ReplicaSet {
    return {
      metadata: { name: coreDnsReplicaSetName, labels: { ...coreDnsLabels } },
      spec: {
        replicas: this.#options.replicas ?? 2,
        selector: { matchLabels: { ...coreDnsLabels } },
        template: {
          metadata: { labels: { ...coreDnsLabels } },
          spec: {
            terminationGracePeriodSeconds: 2,
            containers: [
              {
                name: 'coredns',
                image: 'envtest/coredns',
                args: ['-conf', '/etc/coredns/Corefile'],
                ports: [
                  { name: 'dns', containerPort: this.dnsPort, protocol: 'UDP' },
                  { name: 'dns-tcp', containerPort: this.dnsPort, protocol: 'TCP' },
                  {
                    name: 'metrics',
                    containerPort: this.#options.metricsPort ?? 9153,
                    protocol: 'TCP',
                  },
                ],
                readinessProbe: {
                  httpGet: { path: '/ready', port: this.readyPort, scheme: 'HTTP' },
                  periodSeconds: 10,
                },
              },
            ],
          },
        },
      },
    };
  }

  /** What the ReplicaSet controller would do, for a control plane without one. */
  async #createPodsFor(replicaSet: V1ReplicaSet): Promise<void> {
    const core = this.#plane.kubeConfig.makeApiClient(CoreV1Api);
    const template = replicaSet.spec!.template!;
    for (let i = 0; i < (replicaSet.spec!.replicas ?? 1); i += 1) {
      await core.createNamespacedPod({
        namespace: this.namespace,
        body: {
          metadata: {
            generateName: `${coreDnsReplicaSetName}-`,
            labels: { ...template.metadata?.labels },
            ownerReferences: [
              {
                apiVersion: 'apps/v1',
                kind: 'ReplicaSet',
                name: replicaSet.metadata!.name!,
                uid: replicaSet.metadata!.uid!,
                controller: true,
                blockOwnerDeletion: true,
              },
            ],
          },
          spec: template.spec!,
        },
      });
    }
  }

  async #deleteObjects(): Promise<void> {
    const core = this.#plane.kubeConfig.makeApiClient(CoreV1Api);
    const apps = this.#plane.kubeConfig.makeApiClient(AppsV1Api);
    const policy = this.#plane.kubeConfig.makeApiClient(PolicyV1Api);
    const ignoreMissing = (err: unknown): void => {
      if (!(err instanceof ApiException && err.code === 404)) throw err;
    };
    await policy
      .deleteNamespacedPodDisruptionBudget({
        name: coreDnsReplicaSetName,
        namespace: this.namespace,
      })
      .catch(ignoreMissing);
    await apps
      .deleteNamespacedReplicaSet({ name: coreDnsReplicaSetName, namespace: this.namespace })
      .catch(ignoreMissing);
    await core
      .deleteCollectionNamespacedPod({
        namespace: this.namespace,
        labelSelector: this.labelSelector,
        gracePeriodSeconds: 0,
      })
      .catch(ignoreMissing);
    await core
      .deleteNamespacedService({ name: kubeDnsServiceName, namespace: this.namespace })
      .catch(ignoreMissing);
  }
}
