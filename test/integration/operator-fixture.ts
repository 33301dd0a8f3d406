/**
 * Runs the operator in the test process the way `dnsop run` does (Manager + DnsopOperator) with
 * the given controllers, and waits until every controller is reconciling.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { buildConfig, type RawConfig } from '../../operator/runtime/config';
import type { Controller } from '../../operator/runtime/controller';
import { silentLogger, type Logger } from '../../operator/runtime/logger';
import { Manager } from '../../operator/runtime/manager';
import { createMetrics, type Metrics } from '../../operator/runtime/metrics';
import { DnsopOperator } from '../../operator/runtime/operator';
import { waitFor } from '../envtest/wait';

export interface OperatorFixtureOptions {
  /** Flags as `dnsop run` takes them; the metrics server always listens on a free loopback port. */
  readonly config?: RawConfig;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
}

export async function startOperator(
  kubeConfig: KubeConfig,
  controllers: readonly Controller[],
  options: OperatorFixtureOptions = {},
): Promise<{ operator: DnsopOperator; manager: Manager }> {
  const logger = options.logger ?? silentLogger();
  const manager = new Manager({
    config: buildConfig({ cacheResync: '10m', ...options.config, metricsAddr: '127.0.0.1:0' }),
    kubeConfig,
    logger,
    metrics: options.metrics ?? createMetrics(undefined, { processMetrics: false }),
    controllers,
  });
  const operator = new DnsopOperator(manager, controllers, logger);
  await operator.start();
  await waitFor('controllers running', () =>
    controllers.every((c) => c.ready()) ? true : undefined,
  );
  return { operator, manager };
}
