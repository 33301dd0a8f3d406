/**
 * The process host: a subclass of @dot-i/k8s-operator's Operator (the framework the design names),
 * reduced to what it does here (docs/adr/0001-operator-framework.md):
 * - its lifecycle: `start()` runs `init()`, which registers the watches and starts the manager;
 *   `shutdown()` stops everything;
 * - its `watchResource` hook is where the DNSPolicy and DNSProbe watches are registered: the one
 *   event feed of each controller's primary objects. It is overridden to subscribe to the
 *   manager's informer caches, because the base class's raw watch exits the process on any watch
 *   error and loses deletions across reconnects; the one "spec changed" rule (`needsReconcile`)
 *   decides which events enqueue a key.
 * Only `dnsop run` loads this module: the framework pulls in its own old client tree.
 */
import Operator, {
  ResourceEventType,
  ResourceMetaImpl,
  type ResourceEvent,
} from '@dot-i/k8s-operator';
import type { KubernetesObject } from '@kubernetes/client-node';
import { objectKey, RESOURCES, type ResourceName } from './cache';
import { subscribePrimary, type Controller } from './controller';
import type { Logger } from './logger';
import type { Manager, StopOptions } from './manager';

const EVENT_TYPE = {
  add: ResourceEventType.Added,
  update: ResourceEventType.Modified,
  delete: ResourceEventType.Deleted,
} as const;

export class DnsopOperator extends Operator {
  readonly #manager: Manager;
  readonly #watches: readonly Pick<Controller, 'primary' | 'enqueue'>[];
  readonly #unsubscribe: (() => void)[] = [];

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
    const cache = this.#manager.caches.get<KubernetesObject>(name);
    this.#unsubscribe.push(
      subscribePrimary(cache, (e) => {
        void onEvent({
          meta: ResourceMetaImpl.createWithPlural(plural, e.obj),
          type: EVENT_TYPE[e.type],
          object: e.obj,
        });
      }),
    );
    return Promise.resolve();
  }

  /** Stops the whole process's work; see Manager.stop. */
  async shutdown(options: StopOptions = {}): Promise<void> {
    super.stop();
    this.#unsubscribe.splice(0).forEach((off) => off());
    await this.#manager.stop(options);
  }
}
