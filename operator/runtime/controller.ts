/** The contract between the manager and each reconciler (DNSPolicy, DNSProbe). */
import type { KubeConfig } from '@kubernetes/client-node';
import type { SharedCaches } from './cache';
import type { Config } from './config';
import type { EventSink } from './events';
import type { Logger } from './logger';
import type { Metrics } from './metrics';
import type { StatusWriter } from './status';

export interface ControllerContext {
  readonly kubeConfig: KubeConfig;
  readonly config: Config;
  readonly caches: SharedCaches;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly events: EventSink;
  readonly status: StatusWriter;
  /** Aborted when the manager stops. */
  readonly signal: AbortSignal;
  /** True while this replica holds the leader lease (always true without leader election). */
  isLeader(): boolean;
}

export interface Controller {
  readonly name: string;
  /** The custom resource this controller reconciles; the Operator feeds its keys to enqueue. */
  readonly primary: 'dnspolicies' | 'dnsprobes';
  /** Takes the key ("namespace/name") of a primary object that changed. */
  enqueue(key: string): void;
  /**
   * Registers the caches and indexes it needs (before the caches start). Must not do I/O:
   * called on every replica, leader or not, so standbys keep warm caches.
   */
  setup(ctx: ControllerContext): void;
  /** Starts reconciling; called on the leader only, after every cache has synced. */
  start(): Promise<void>;
  /** Stops taking work and waits for reconciles in flight. */
  stop(): Promise<void>;
  /** True once started and working. */
  ready(): boolean;
}
