/**
 * The manager runs one operator process: shared caches (on every replica, so a standby is warm),
 * the HTTP server, leader election, and the controllers (on the leader only).
 *
 * - Each controller starts once the caches it reads have synced (an optional API that is not
 *   served counts as synced); it never waits on caches only another controller reads.
 * - A leader that cannot renew its lease in time stops its controllers (within the gap between
 *   renew deadline and lease duration, before another replica may take over), becomes standby
 *   and campaigns again; winning the lease back starts them again. Nothing here exits the
 *   process: exit is main's decision, after SIGTERM or a start-up error.
 * - Shutdown order: stop taking work, finish (or, after the grace period, abort) in-flight
 *   reconciles, release the lease, stop watching, close the HTTP server.
 */
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { sleep } from './backoff';
import { SharedCaches, type InformerCache, type ResourceName } from './cache';
import type { Config } from './config';
import type { CacheSource, Controller, ControllerContext } from './controller';
import { describeError } from './errors';
import { EventRecorder, type EventSink } from './events';
import type { HealthSource } from './http';
import { OperatorServer } from './http';
import { LagGauge } from './lag-gauge';
import { LeaderElector } from './leader';
import type { Logger } from './logger';
import type { Metrics } from './metrics';
import { StatusWriter } from './status';

export interface ManagerOptions {
  readonly config: Config;
  readonly kubeConfig: KubeConfig;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly controllers: readonly Controller[];
  readonly events?: EventSink;
}

export interface StopOptions {
  /** False leaves the lease to expire, as when a process dies (tests exercise failover). */
  readonly releaseLease?: boolean;
  /** Time for in-flight reconciles before they are aborted. Default config.shutdownGraceMs. */
  readonly graceMs?: number;
}

/** How often a waiting controller looks at its caches again. */
const SYNC_POLL_MS = 100;

export class Manager implements HealthSource {
  readonly #o: ManagerOptions;
  readonly #log: Logger;
  readonly caches: SharedCaches;
  readonly #abort = new AbortController();
  readonly #server: OperatorServer;
  /** The caches each controller asked for in setup(). */
  readonly #reads = new Map<Controller, Set<ResourceName>>();
  readonly #running = new Set<Controller>();
  #events: EventSink | undefined;
  #elector: LeaderElector | undefined;
  /** Controller starts and stops, one after the other (leadership can flap). */
  #transition: Promise<void> = Promise.resolve();
  /** Bumped on every step-down, so a start still waiting for caches gives up. */
  #term = 0;
  #stopping = false;
  #lag: LagGauge | undefined;
  #port = 0;

  constructor(options: ManagerOptions) {
    this.#o = options;
    this.#log = options.logger.child({ component: 'manager' });
    this.caches = new SharedCaches({
      kubeConfig: options.kubeConfig,
      namespace: options.config.namespace,
      logger: options.logger,
      relistMs: options.config.cacheResyncMs,
    });
    this.#server = new OperatorServer({
      host: options.config.metricsHost,
      port: options.config.metricsPort,
      registry: options.metrics.registry,
      health: this,
      logger: options.logger,
    });
  }

  /** The port the metrics/health server listens on. */
  get port(): number {
    return this.#port;
  }

  isLeader(): boolean {
    return this.#elector === undefined ? true : this.#elector.isLeader();
  }

  /** Sets up the controllers, starts caches, the HTTP server and leader election. */
  async start(): Promise<void> {
    const { config, kubeConfig, logger } = this.#o;
    // The port first: a busy port is a start-up error, reported before anything else runs.
    this.#port = await this.#server.start();
    this.#events =
      this.#o.events ?? new EventRecorder({ kubeConfig, logger, instance: config.identity });
    for (const controller of this.#o.controllers) controller.setup(this.#context(controller));
    this.caches.start();
    this.#startLagMonitor();
    this.#log.info(
      { controllers: this.#o.controllers.map((c) => c.name), port: this.#port },
      'operator started',
    );
    if (!config.leaderElect) {
      this.#startControllers();
      return;
    }
    this.#elector = new LeaderElector({
      kubeConfig,
      namespace: config.leaderElectionNamespace,
      name: config.leaderElectionId,
      identity: config.identity,
      leaseDurationMs: config.leaseDurationMs,
      renewDeadlineMs: config.renewDeadlineMs,
      retryPeriodMs: config.retryPeriodMs,
      logger,
      onStartedLeading: () => {
        this.#o.metrics.leader.set(1);
        this.#startControllers();
      },
      onStoppedLeading: () => {
        this.#o.metrics.leader.set(0);
        // Another replica may take over once the lease expires: be stopped before that.
        this.#stopControllers(Math.max(0, config.leaseDurationMs - config.renewDeadlineMs - 500));
      },
    });
    this.#elector.start();
  }

  /** Graceful stop; see StopOptions. */
  async stop(options: StopOptions = {}): Promise<void> {
    this.#stopping = true;
    this.#stopControllers(options.graceMs ?? this.#o.config.shutdownGraceMs);
    await this.#transition;
    // Only now: reconciles in flight used this signal for their last status writes.
    this.#abort.abort();
    await this.#elector?.stop(options.releaseLease ?? true);
    this.#o.metrics.leader.set(0);
    await this.caches.stop();
    if (this.#events instanceof EventRecorder) this.#events.close();
    this.#lag?.stop();
    await this.#server.stop();
    this.#log.info('operator stopped');
  }

  alive(): { ok: boolean; detail: string } {
    return { ok: true, detail: 'event loop turning' };
  }

  ready(): { ok: boolean; detail: string } {
    const unsynced = this.caches.unsynced();
    if (unsynced.length > 0)
      return { ok: false, detail: `caches not synced: ${unsynced.join(', ')}` };
    if (!this.isLeader()) return { ok: true, detail: 'standby, caches synced' };
    const notReady = this.#o.controllers.filter((c) => !c.ready()).map((c) => c.name);
    if (notReady.length > 0) {
      return { ok: false, detail: `controllers starting: ${notReady.join(', ')}` };
    }
    return { ok: true, detail: 'leader, caches synced, controllers running' };
  }

  #context(controller: Controller): ControllerContext {
    const { config, kubeConfig, logger, metrics } = this.#o;
    const reads = new Set<ResourceName>();
    this.#reads.set(controller, reads);
    const caches: CacheSource = {
      get: <T extends KubernetesObject>(name: ResourceName): InformerCache<T> => {
        reads.add(name);
        return this.caches.get<T>(name);
      },
    };
    return {
      kubeConfig,
      config,
      caches,
      logger,
      metrics,
      events: this.#events!,
      status: new StatusWriter(kubeConfig),
      signal: this.#abort.signal,
      isLeader: () => this.isLeader(),
    };
  }

  #startControllers(): void {
    if (this.#stopping) return;
    const term = this.#term;
    for (const controller of this.#o.controllers) {
      void this.#waitAndStart(controller, term).catch((err: unknown) => {
        if (this.#stopping) return; // shutting down while it waited
        this.#log.error(
          { err: describeError(err), controller: controller.name },
          'controller failed to start',
        );
      });
    }
  }

  /** Starts one controller once the caches it reads have synced (unless the term ended). */
  async #waitAndStart(controller: Controller, term: number): Promise<void> {
    const names = [...(this.#reads.get(controller) ?? [])];
    const started = Date.now();
    while (!this.caches.synced(names)) {
      await sleep(SYNC_POLL_MS, this.#abort.signal);
      if (term !== this.#term) return;
    }
    await this.#serialized(async () => {
      if (term !== this.#term || this.#stopping || this.#running.has(controller)) {
        return;
      }
      this.#log.info(
        { controller: controller.name, waitedMs: Date.now() - started },
        'caches synced; starting controller',
      );
      await controller.start();
      this.#running.add(controller);
    });
  }

  /** Stops every running controller (and any start still waiting for caches). */
  #stopControllers(graceMs: number): void {
    this.#term++;
    void this.#serialized(async () => {
      const running = [...this.#running];
      this.#running.clear();
      await Promise.all(
        running.map((c) =>
          c.stop(graceMs).catch((err: unknown) => {
            this.#log.error(
              { err: describeError(err), controller: c.name },
              'controller stop failed',
            );
          }),
        ),
      );
      if (running.length > 0) {
        this.#log.info({ controllers: running.map((c) => c.name) }, 'controllers stopped');
      }
    });
  }

  #serialized(step: () => Promise<void>): Promise<void> {
    const next = this.#transition.then(step);
    this.#transition = next.catch(() => undefined);
    return next;
  }

  /** dnsop_event_loop_lag_seconds: fine sampling only while the loop has work (lag-gauge.ts). */
  #startLagMonitor(): void {
    this.#lag = new LagGauge((seconds) => this.#o.metrics.eventLoopLag.set(seconds));
    this.#lag.start();
  }
}
