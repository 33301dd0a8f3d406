/**
 * The process host: a subclass of @dot-i/k8s-operator's Operator (the framework the design names)
 * whose watches on DNSPolicy and DNSProbe feed keys into the controllers' work queues.
 *
 * The base class's own watchResource uses a raw watch that exits the process on any watch error
 * and loses deletions across reconnects; it is overridden to subscribe to the manager's informer
 * caches instead (docs/adr/0001-operator-framework.md).
 */
import Operator, {
  ResourceEventType,
  ResourceMetaImpl,
  type ResourceEvent,
} from '@dot-i/k8s-operator';
import type { KubernetesObject } from '@kubernetes/client-node';
import { objectKey, RESOURCES, type ResourceName } from './cache';
import type { Controller } from './controller';
import type { Logger } from './logger';
import type { Manager } from './manager';

const EVENT_TYPE = {
  add: ResourceEventType.Added,
  update: ResourceEventType.Modified,
  delete: ResourceEventType.Deleted,
} as const;

/**
 * True when nothing a reconcile reads changed: same generation (spec), labels, annotations,
 * finalizers and deletion state. Our own status writes produce such updates; skipping them saves
 * one no-op reconcile per status write.
 */
export function isStatusOnlyUpdate(old: KubernetesObject, obj: KubernetesObject): boolean {
  const a = old.metadata ?? {};
  const b = obj.metadata ?? {};
  return (
    a.generation === b.generation &&
    a.deletionTimestamp === b.deletionTimestamp &&
    JSON.stringify(a.finalizers ?? []) === JSON.stringify(b.finalizers ?? []) &&
    JSON.stringify(a.labels ?? {}) === JSON.stringify(b.labels ?? {}) &&
    JSON.stringify(a.annotations ?? {}) === JSON.stringify(b.annotations ?? {})
  );
}

export class DnsopOperator extends Operator {
  readonly #manager: Manager;
  readonly #watches: readonly Pick<Controller, 'primary' | 'enqueue'>[];

  constructor(
    manager: Manager,
    watches: readonly Pick<Controller, 'primary' | 'enqueue'>[],
    logger: Logger,
  ) {
    const log = logger.child({ component: 'operator' });
    super({
      debug: (m) => log.debug(m),
      info: (m) => log.info(m),
      warn: (m) => log.warn(m),
      error: (m) => log.error(m),
    });
    this.#manager = manager;
    this.#watches = watches;
  }

  protected async init(): Promise<void> {
    for (const watch of this.#watches) {
      const r = RESOURCES[watch.primary];
      await this.watchResource(r.group, r.version, r.plural, (event) => {
        watch.enqueue(objectKey(event.object));
        return Promise.resolve();
      });
    }
    await this.#manager.start();
  }

  protected override watchResource(
    _group: string,
    _version: string,
    plural: string,
    onEvent: (event: ResourceEvent) => Promise<void>,
  ): Promise<void> {
    const name = (Object.keys(RESOURCES) as ResourceName[]).find(
      (n) => RESOURCES[n].plural === plural,
    );
    if (name === undefined) return Promise.reject(new Error(`unknown resource ${plural}`));
    this.#manager.caches.get<KubernetesObject>(name).onEvent((e) => {
      if (e.type === 'update' && e.old !== undefined && isStatusOnlyUpdate(e.old, e.obj)) return;
      void onEvent({
        meta: ResourceMetaImpl.createWithPlural(plural, e.obj),
        type: EVENT_TYPE[e.type],
        object: e.obj,
      });
    });
    return Promise.resolve();
  }

  /** Stops the whole process's work; see Manager.stop. */
  async shutdown(options: { releaseLease?: boolean } = {}): Promise<void> {
    super.stop();
    await this.#manager.stop(options);
  }
}
