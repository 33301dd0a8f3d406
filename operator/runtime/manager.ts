/**
 * The manager runs one operator process: shared caches (on every replica, so a standby is warm),
 * the HTTP server, leader election, and the controllers (on the leader only).
 * Shutdown order: stop taking work, finish in-flight reconciles, release the lease, stop watching.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { KubeConfig } from '@kubernetes/client-node';
import { sleep } from './backoff';
import { SharedCaches } from './cache';
import type { Config } from './config';
import type { Controller, ControllerContext } from './controller';
import { describeError } from './errors';
import { EventRecorder, type EventSink } from './events';
import type { HealthSource } from './http';
import { OperatorServer } from './http';
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
  /** Called when leadership is lost without release; the process should exit. Default: exit(1). */
  readonly onLeadershipLost?: () => void;
  readonly events?: EventSink;
}

export class Manager implements HealthSource {
  readonly #o: ManagerOptions;
  readonly #log: Logger;
  readonly caches: SharedCaches;
  readonly #abort = new AbortController();
  readonly #server: OperatorServer;
  #elector: LeaderElector | undefined;
  #controllersStarted = false;
  #starting: Promise<void> | undefined;
  #lag: IntervalHistogram | undefined;
  #lagTimer: NodeJS.Timeout | undefined;
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

  async start(): Promise<void> {
    const { config, kubeConfig, logger, metrics } = this.#o;
    const ctx: ControllerContext = {
      kubeConfig,
      config,
      caches: this.caches,
      logger,
      metrics,
      events:
        this.#o.events ?? new EventRecorder({ kubeConfig, logger, instance: config.identity }),
      status: new StatusWriter(kubeConfig),
      signal: this.#abort.signal,
      isLeader: () => this.isLeader(),
    };
    for (const controller of this.#o.controllers) controller.setup(ctx);
    this.caches.start();
    this.#startLagMonitor();
    this.#port = await this.#server.start();
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
        metrics.leader.set(1);
        this.#startControllers();
      },
      onStoppedLeading: () => {
        metrics.leader.set(0);
        (this.#o.onLeadershipLost ?? ((): never => process.exit(1)))();
      },
    });
    this.#elector.start();
  }

  /**
   * Graceful stop. With releaseLease=false the lease is left to expire, as when a process dies:
   * tests use it to exercise failover.
   */
  async stop(options: { releaseLease?: boolean } = {}): Promise<void> {
    this.#abort.abort();
    await this.#starting?.catch(() => undefined);
    await Promise.all(
      this.#o.controllers.map((c) =>
        c.stop().catch((err: unknown) => {
          this.#log.error(
            { err: describeError(err), controller: c.name },
            'controller stop failed',
          );
        }),
      ),
    );
    this.#controllersStarted = false;
    await this.#elector?.stop(options.releaseLease ?? true);
    this.#o.metrics.leader.set(0);
    await this.caches.stop();
    clearInterval(this.#lagTimer);
    this.#lag?.disable();
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
    if (!this.#controllersStarted || notReady.length > 0) {
      return { ok: false, detail: `controllers starting: ${notReady.join(', ')}` };
    }
    return { ok: true, detail: 'leader, caches synced, controllers running' };
  }

  #startControllers(): void {
    if (this.#starting !== undefined) return;
    this.#starting = this.#waitAndStart().catch((err: unknown) => {
      if (!this.#abort.signal.aborted) {
        this.#log.error({ err: describeError(err) }, 'controllers failed to start');
      }
    });
  }

  async #waitAndStart(): Promise<void> {
    const started = Date.now();
    while (!this.caches.synced()) {
      await sleep(50, this.#abort.signal);
    }
    this.#log.info({ waitedMs: Date.now() - started }, 'caches synced; starting controllers');
    await Promise.all(this.#o.controllers.map((c) => c.start()));
    this.#controllersStarted = true;
  }

  #startLagMonitor(): void {
    const lag = monitorEventLoopDelay({ resolution: 10 });
    lag.enable();
    this.#lag = lag;
    this.#lagTimer = setInterval(() => {
      this.#o.metrics.eventLoopLag.set(lag.max / 1e9);
      lag.reset();
    }, 5000);
    this.#lagTimer.unref();
  }
}
