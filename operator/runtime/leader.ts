/**
 * Leader election on a coordination.k8s.io/v1 Lease, with client-go's semantics:
 * - a lease is taken over only after it has not changed for leaseDuration, measured on our own
 *   clock from when we last saw it change (so clock skew between replicas does not matter);
 * - the leader renews every retryPeriod and gives up if it cannot renew within renewDeadline;
 * - every write carries the lease's resourceVersion, so two candidates can never both win;
 * - on graceful shutdown the leader releases the lease, so a standby takes over at once.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { sleep } from './backoff';
import { describeError } from './errors';
import { isConflict, isNotFound, kubeRequest } from './kube-http';
import { microTime } from './events';
import type { Logger } from './logger';

interface LeaseSpec {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number;
  acquireTime?: string | null;
  renewTime?: string | null;
  leaseTransitions?: number;
}

interface Lease {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec?: LeaseSpec;
}

const RELEASE_TIMEOUT_MS = 2_000;

export interface LeaderElectorOptions {
  readonly kubeConfig: KubeConfig;
  readonly namespace: string;
  readonly name: string;
  readonly identity: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  readonly logger: Logger;
  readonly onStartedLeading: () => void;
  /**
   * Called when leadership is lost without a release (renew failed past the deadline). The
   * elector keeps campaigning: onStartedLeading is called again when it wins the lease back.
   */
  readonly onStoppedLeading: () => void;
  readonly now?: () => number;
}

export class LeaderElector {
  readonly #o: LeaderElectorOptions;
  readonly #log: Logger;
  #leading = false;
  #observed: { key: string; at: number } | undefined;
  #lastRenew = 0;
  #failing = false;
  #abort: AbortController | undefined;
  #loop: Promise<void> | undefined;

  constructor(options: LeaderElectorOptions) {
    this.#o = options;
    this.#log = options.logger.child({ component: 'leader-election', lease: options.name });
  }

  isLeader(): boolean {
    return this.#leading;
  }

  start(): void {
    if (this.#loop !== undefined) return;
    this.#abort = new AbortController();
    this.#loop = this.#run(this.#abort.signal);
  }

  /** Stops campaigning; a leader releases the lease unless `release` is false (a simulated crash). */
  async stop(release = true): Promise<void> {
    this.#abort?.abort();
    await this.#loop;
    this.#loop = undefined;
    if (this.#leading && release) {
      try {
        await this.#release();
        this.#log.info('released the lease');
      } catch (err) {
        this.#log.warn({ err: describeError(err) }, 'could not release the lease');
      }
    }
    this.#leading = false;
  }

  #now(): number {
    return (this.#o.now ?? Date.now)();
  }

  get #path(): string {
    const { namespace, name } = this.#o;
    return `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/${name}`;
  }

  async #run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      let ok = false;
      try {
        ok = await this.#tryAcquireOrRenew(signal);
        if (this.#failing) this.#log.info('lease requests work again');
        this.#failing = false;
      } catch (err) {
        if (signal.aborted) break;
        // Say it once per streak; a leader that runs out of time says so below.
        const level = this.#failing ? 'debug' : 'warn';
        this.#failing = true;
        this.#log[level]({ err: describeError(err) }, 'lease request failed; retrying');
      }
      if (ok) {
        this.#lastRenew = this.#now();
        if (!this.#leading) {
          this.#leading = true;
          this.#log.info({ identity: this.#o.identity }, 'became leader');
          this.#o.onStartedLeading();
        }
      } else if (this.#leading && this.#now() - this.#lastRenew > this.#o.renewDeadlineMs) {
        this.#leading = false;
        this.#log.error(
          { renewDeadlineMs: this.#o.renewDeadlineMs },
          'could not renew the lease before the deadline; stepping down to standby and campaigning again',
        );
        this.#o.onStoppedLeading();
      }
      try {
        await sleep(
          this.#o.retryPeriodMs * (this.#leading ? 1 : 0.5 + Math.random() * 0.7),
          signal,
        );
      } catch {
        break;
      }
    }
  }

  /**
   * How long one lease request may take: a leader must know whether it renewed before its renew
   * deadline passes, so its requests never outlast what is left of it.
   */
  #requestTimeoutMs(now: number): number {
    if (!this.#leading) return this.#o.renewDeadlineMs;
    return Math.max(250, this.#lastRenew + this.#o.renewDeadlineMs - now);
  }

  async #tryAcquireOrRenew(signal: AbortSignal): Promise<boolean> {
    const kc = this.#o.kubeConfig;
    const now = this.#now();
    const timeoutMs = this.#requestTimeoutMs(now);
    const nowTime = microTime(new Date(now));
    const durationSeconds = Math.ceil(this.#o.leaseDurationMs / 1000);
    let lease: Lease;
    try {
      lease = await kubeRequest<Lease>(kc, {
        method: 'GET',
        path: this.#path,
        signal,
        timeoutMs,
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      return this.#create(nowTime, durationSeconds, signal);
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const key = `${holder}|${spec.renewTime ?? ''}|${lease.metadata.resourceVersion ?? ''}`;
    if (this.#observed?.key !== key) this.#observed = { key, at: now };
    const heldByOther = holder !== '' && holder !== this.#o.identity;
    const leaseMs = (spec.leaseDurationSeconds ?? durationSeconds) * 1000;
    if (heldByOther && now - this.#observed.at < leaseMs) return false;
    const takingOver = holder !== this.#o.identity;
    const next: Lease = {
      ...lease,
      spec: {
        holderIdentity: this.#o.identity,
        leaseDurationSeconds: durationSeconds,
        acquireTime: takingOver ? nowTime : (spec.acquireTime ?? nowTime),
        renewTime: nowTime,
        leaseTransitions: (spec.leaseTransitions ?? 0) + (takingOver && holder !== '' ? 1 : 0),
      },
    };
    try {
      await kubeRequest(kc, {
        method: 'PUT',
        path: this.#path,
        body: next,
        signal,
        timeoutMs: this.#requestTimeoutMs(this.#now()),
      });
      return true;
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
  }

  async #create(nowTime: string, durationSeconds: number, signal: AbortSignal): Promise<boolean> {
    const created: Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.#o.name, namespace: this.#o.namespace },
      spec: {
        holderIdentity: this.#o.identity,
        leaseDurationSeconds: durationSeconds,
        acquireTime: nowTime,
        renewTime: nowTime,
        leaseTransitions: 0,
      },
    };
    try {
      await kubeRequest(this.#o.kubeConfig, {
        method: 'POST',
        path: `/apis/coordination.k8s.io/v1/namespaces/${this.#o.namespace}/leases`,
        body: created,
        signal,
        timeoutMs: this.#o.renewDeadlineMs,
      });
      return true;
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
  }

  /** Hands the lease over at once; bounded, so a shutdown never waits on an unreachable API. */
  async #release(): Promise<void> {
    const kc = this.#o.kubeConfig;
    const timeoutMs = RELEASE_TIMEOUT_MS;
    const lease = await kubeRequest<Lease>(kc, { method: 'GET', path: this.#path, timeoutMs });
    if (lease.spec?.holderIdentity !== this.#o.identity) return;
    const released: Lease = {
      ...lease,
      spec: {
        ...lease.spec,
        holderIdentity: null,
        leaseDurationSeconds: 1,
        acquireTime: null,
        renewTime: null,
      },
    };
    await kubeRequest(kc, { method: 'PUT', path: this.#path, body: released, timeoutMs });
  }
}
