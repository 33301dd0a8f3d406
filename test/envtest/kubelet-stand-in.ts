import { appendFileSync } from 'node:fs';

import {
  ApiException,
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1Pod,
  type V1PodCondition,
} from '@kubernetes/client-node';

/** What the stand-in runs for one pod: a process, ready when `start()` resolves. */
export interface Container {
  readonly running: boolean;
  /** Starts (or restarts) the process; resolves once it is ready to serve. */
  start(): Promise<void>;
  stop(graceMs: number): Promise<void>;
  /** Resolves when the current process exits. */
  exited(): Promise<unknown>;
  /** One readiness probe (e.g. GET /ready). */
  probeReady(): Promise<boolean>;
}

export interface KubeletStandInOptions {
  readonly kubeConfig: KubeConfig;
  readonly namespace: string;
  readonly labelSelector: string;
  readonly nodeName: string;
  /** The address every pod reports as its host IP. */
  readonly hostIp: string;
  /** A fresh loopback address for a new pod. */
  readonly allocateIp: () => string;
  readonly createContainer: (pod: V1Pod, podIp: string) => Container;
  /** Delay before restarting a container that exited on its own (restartPolicy Always). */
  readonly restartDelayMs: number;
  /** When set, readiness follows `probeReady()` like a kubelet readinessProbe. */
  readonly readinessProbe?: { readonly periodMs: number; readonly failureThreshold: number };
  /** Append-only log of what the stand-in did (for debugging failed tests). */
  readonly logFile: string;
  /** Poll period of the pod list (the reconcile loop). Default 100 ms. */
  readonly pollMs?: number;
}

/** A pod the stand-in runs, as it reports it. */
export interface RunningPod {
  readonly name: string;
  readonly uid: string;
  readonly ip: string;
  readonly ready: boolean;
  readonly restartCount: number;
  readonly container: Container;
}

interface PodEntry {
  readonly name: string;
  readonly uid: string;
  readonly ip: string;
  readonly container: Container;
  readonly startTime: string;
  ready: boolean;
  restartCount: number;
  /** Set once the pod is being torn down: no more restarts or status writes. */
  terminating: boolean;
  probeFailures: number;
  probeTimer: NodeJS.Timeout | undefined;
  /** Operations on one pod run one after another. */
  queue: Promise<void>;
}

const requestTimeoutMs = 5_000;

/**
 * Plays the kubelet (and the scheduler's binding) for the pods matching a selector in one
 * namespace, so that the real kube-controller-manager and the real API server see pods behave as
 * on a node. Level-triggered: every `pollMs` it lists the pods and converges:
 *  - a new pod is bound to `nodeName`, gets a loopback IP, its container is started, and its
 *    status (phase Running, podIP, Ready condition) is written through the status subresource;
 *  - a pod marked for deletion (delete or eviction) has its container stopped and is then
 *    removed with grace period 0, as a kubelet confirms a deletion;
 *  - a pod gone from the API has its container stopped;
 *  - a container that exits on its own is reported not ready and restarted.
 * Polling (not a watch) keeps this correct across API server restarts without extra bookkeeping.
 */
export class KubeletStandIn {
  readonly #options: KubeletStandInOptions;
  readonly #core: CoreV1Api;
  readonly #pods = new Map<string, PodEntry>();
  #loop: Promise<void> | undefined;
  #stopping = false;
  #lastListError: string | undefined;

  constructor(options: KubeletStandInOptions) {
    this.#options = options;
    this.#core = options.kubeConfig.makeApiClient(CoreV1Api);
  }

  start(): void {
    if (this.#loop !== undefined) return;
    this.#loop = this.#run();
  }

  /** Stops the loop and every container; pods are left in the API as they are. */
  async stop(): Promise<void> {
    this.#stopping = true;
    await this.#loop;
    await Promise.all(
      [...this.#pods.values()].map(async (entry) => {
        entry.terminating = true;
        clearInterval(entry.probeTimer);
        await entry.queue;
        await entry.container.stop(2_000);
      }),
    );
    this.#pods.clear();
  }

  /** The pods whose containers the stand-in runs, in name order. */
  runningPods(): RunningPod[] {
    return [...this.#pods.values()]
      .filter((e) => !e.terminating)
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((e) => ({
        name: e.name,
        uid: e.uid,
        ip: e.ip,
        ready: e.ready,
        restartCount: e.restartCount,
        container: e.container,
      }));
  }

  log(message: string): void {
    appendFileSync(this.#options.logFile, `${new Date().toISOString()} ${message}\n`);
  }

  async #run(): Promise<void> {
    while (!this.#stopping) {
      await this.#reconcileOnce();
      await new Promise((resolve) => setTimeout(resolve, this.#options.pollMs ?? 100));
    }
  }

  async #reconcileOnce(): Promise<void> {
    let pods: V1Pod[];
    try {
      const list = await withTimeout(
        this.#core.listNamespacedPod({
          namespace: this.#options.namespace,
          labelSelector: this.#options.labelSelector,
        }),
      );
      pods = list.items;
      this.#lastListError = undefined;
    } catch (err) {
      const message = errorMessage(err);
      if (message !== this.#lastListError) this.log(`list pods failed: ${message}`);
      this.#lastListError = message;
      return;
    }
    const seen = new Set<string>();
    for (const pod of pods) {
      const uid = pod.metadata?.uid;
      if (uid === undefined) continue;
      seen.add(uid);
      const entry = this.#pods.get(uid);
      if (pod.metadata?.deletionTimestamp !== undefined) {
        this.#enqueueTermination(pod, entry);
      } else if (entry === undefined && !isTerminal(pod)) {
        this.#admit(pod);
      }
    }
    for (const entry of this.#pods.values()) {
      if (!seen.has(entry.uid)) this.#enqueueTermination(undefined, entry);
    }
  }

  #admit(pod: V1Pod): void {
    const name = pod.metadata!.name!;
    const ip = this.#options.allocateIp();
    const entry: PodEntry = {
      name,
      uid: pod.metadata!.uid!,
      ip,
      container: this.#options.createContainer(pod, ip),
      startTime: new Date().toISOString(),
      ready: false,
      restartCount: 0,
      terminating: false,
      probeFailures: 0,
      probeTimer: undefined,
      queue: Promise.resolve(),
    };
    this.#pods.set(entry.uid, entry);
    this.log(`admit pod ${name} ip=${entry.ip}`);
    this.#enqueue(entry, async () => {
      if (pod.spec?.nodeName === undefined || pod.spec.nodeName === '') await this.#bind(name);
      await entry.container.start();
      this.#watchExit(entry);
      entry.ready = true;
      await this.#writeStatus(entry);
      this.#startReadinessProbe(entry);
    });
  }

  #enqueueTermination(pod: V1Pod | undefined, entry: PodEntry | undefined): void {
    if (entry?.terminating === true) return;
    if (entry === undefined) {
      // Not ours (or already stopped): still confirm a deletion that waits for a kubelet.
      if (pod?.spec?.nodeName === this.#options.nodeName) void this.#forceDelete(pod);
      return;
    }
    entry.terminating = true;
    clearInterval(entry.probeTimer);
    const graceMs = Math.min((pod?.spec?.terminationGracePeriodSeconds ?? 30) * 1_000, 5_000);
    this.log(`terminate pod ${entry.name} (${pod === undefined ? 'gone' : 'deleting'})`);
    this.#enqueue(entry, async () => {
      await entry.container.stop(graceMs);
      if (pod !== undefined) await this.#forceDelete(pod);
      this.#pods.delete(entry.uid);
      this.log(`pod ${entry.name} stopped`);
    });
  }

  #enqueue(entry: PodEntry, work: () => Promise<void>): void {
    entry.queue = entry.queue.then(work).catch((err: unknown) => {
      this.log(`pod ${entry.name}: ${errorMessage(err)}`);
    });
  }

  #watchExit(entry: PodEntry): void {
    void entry.container.exited().then(() => {
      if (entry.terminating || this.#stopping) return;
      this.log(
        `pod ${entry.name}: container exited, restarting in ${this.#options.restartDelayMs} ms`,
      );
      entry.ready = false;
      this.#enqueue(entry, async () => {
        await this.#writeStatus(entry);
        await new Promise((resolve) => setTimeout(resolve, this.#options.restartDelayMs));
        if (entry.terminating || this.#stopping) return;
        entry.restartCount += 1;
        await entry.container.start();
        this.#watchExit(entry);
        entry.ready = true;
        await this.#writeStatus(entry);
      });
    });
  }

  #startReadinessProbe(entry: PodEntry): void {
    const probe = this.#options.readinessProbe;
    if (probe === undefined) return;
    entry.probeTimer = setInterval(() => {
      if (entry.terminating || !entry.container.running) return;
      void entry.container.probeReady().then((ok) => {
        entry.probeFailures = ok ? 0 : entry.probeFailures + 1;
        const ready = ok || (entry.probeFailures < probe.failureThreshold && entry.ready);
        if (ready === entry.ready || entry.terminating) return;
        entry.ready = ready;
        this.log(`pod ${entry.name}: readiness ${ready ? 'passed' : 'failed'}`);
        this.#enqueue(entry, () => this.#writeStatus(entry));
      });
    }, probe.periodMs);
    entry.probeTimer.unref();
  }

  async #bind(podName: string): Promise<void> {
    await withTimeout(
      this.#core.createNamespacedBinding({
        namespace: this.#options.namespace,
        body: {
          apiVersion: 'v1',
          kind: 'Binding',
          metadata: { name: podName },
          target: { apiVersion: 'v1', kind: 'Node', name: this.#options.nodeName },
        },
      }),
    );
  }

  async #writeStatus(entry: PodEntry): Promise<void> {
    if (entry.terminating) return;
    const now = new Date().toISOString();
    const readyStatus = entry.ready ? 'True' : 'False';
    const condition = (type: string, status: string): V1PodCondition =>
      ({ type, status, lastTransitionTime: now }) as unknown as V1PodCondition;
    const body = {
      status: {
        phase: 'Running',
        hostIP: this.#options.hostIp,
        hostIPs: [{ ip: this.#options.hostIp }],
        podIP: entry.ip,
        podIPs: [{ ip: entry.ip }],
        startTime: entry.startTime,
        conditions: [
          condition('PodScheduled', 'True'),
          condition('Initialized', 'True'),
          condition('ContainersReady', readyStatus),
          condition('Ready', readyStatus),
        ],
        containerStatuses: [
          {
            name: 'coredns',
            image: 'envtest/coredns',
            imageID: '',
            ready: entry.ready,
            started: entry.container.running,
            restartCount: entry.restartCount,
            state: entry.container.running
              ? { running: { startedAt: now } }
              : { waiting: { reason: 'CrashLoopBackOff' } },
          },
        ],
      },
    };
    await withTimeout(
      this.#core.patchNamespacedPodStatus(
        { name: entry.name, namespace: this.#options.namespace, body },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    );
  }

  async #forceDelete(pod: V1Pod): Promise<void> {
    try {
      await withTimeout(
        this.#core.deleteNamespacedPod({
          name: pod.metadata!.name!,
          namespace: this.#options.namespace,
          // With a body the API server ignores query options: the grace period goes in the body.
          body: { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata!.uid! } },
        }),
      );
    } catch (err) {
      // Already gone, or a newer pod took the name: nothing left to confirm.
      if (err instanceof ApiException && (err.code === 404 || err.code === 409)) return;
      throw err;
    }
  }
}

function isTerminal(pod: V1Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

function errorMessage(err: unknown): string {
  if (err instanceof ApiException) return `HTTP ${err.code}: ${JSON.stringify(err.body)}`;
  return err instanceof Error ? err.message : String(err);
}

async function withTimeout<T>(promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('API request timed out')), requestTimeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
