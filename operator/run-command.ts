/**
 * `dnsop run`: the operator process. Only this command loads the operator framework, the
 * controllers and (through them, lazily) the cloud SDKs.
 *
 * Exit codes (DESIGN.md, Resilience): 0 only after SIGTERM/SIGINT and a clean shutdown;
 * 2 for bad flags; 1 with one line on stderr, leading with the cause, for an unreadable
 * kubeconfig, a busy metrics port or any other start-up failure. Once running, nothing exits
 * the process but a signal: API errors are retried forever, unhandled rejections are logged.
 * SIGTERM: stop taking work, finish or abort in-flight calls, release the lease, exit, all
 * within --shutdown-grace (25 s); a hard deadline ends the process if anything still hangs.
 */
import { Socket } from 'node:net';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, type CliIO } from './cli-io';
import { buildConfig, ConfigError, type Config, type RawConfig } from './runtime/config';
import { describeError } from './runtime/errors';
import { ListenError } from './runtime/http';
import { KubeconfigError, loadKubeConfig } from './runtime/kubeconfig';
import { createLogger, type Logger } from './runtime/logger';

/** In-flight reconciles get the shutdown budget minus this (lease release, closing watches). */
const SHUTDOWN_RESERVE_MS = 5_000;
/** The hard deadline fires this long before the budget is spent. */
const HARD_DEADLINE_MARGIN_MS = 1_000;
/** After a clean shutdown the process should end by itself; if not, say what holds it. */
const LINGER_MS = 2_000;

export async function runOperatorCommand(raw: RawConfig, io: CliIO): Promise<number> {
  let config: Config;
  try {
    config = buildConfig(raw, process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      io.stderr(`dnsop run: ${err.message}\n`);
      return EXIT_USAGE;
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  try {
    return await runOperator(config, logger);
  } catch (err) {
    const known = err instanceof KubeconfigError || err instanceof ListenError;
    io.stderr(`dnsop run: ${known ? (err as Error).message : describeError(err)}\n`);
    if (!known) logger.error({ err: describeError(err) }, 'start-up failed');
    await flush(logger);
    return EXIT_FAILURE;
  }
}

async function runOperator(config: Config, logger: Logger): Promise<number> {
  const kubeConfig = loadKubeConfig({
    ...(config.kubeconfig !== undefined ? { kubeconfig: config.kubeconfig } : {}),
    env: process.env,
  });
  // The framework's base constructor loads $KUBECONFIG into a client it never uses here; point
  // it at the file we loaded, so a flag that overrides a stale $KUBECONFIG cannot trip it.
  if (config.kubeconfig !== undefined) process.env['KUBECONFIG'] = config.kubeconfig;
  routeProcessEvents(logger);
  const [{ createMetrics }, { createControllers }, { Manager }, { DnsopOperator }] =
    await Promise.all([
      import('./runtime/metrics'),
      import('./controllers'),
      import('./runtime/manager'),
      import('./runtime/operator'),
    ]);
  const metrics = createMetrics();
  const controllers = createControllers(config);
  const manager = new Manager({ config, kubeConfig, logger, metrics, controllers });
  const operator = new DnsopOperator(manager, controllers, logger);
  let shuttingDown = false;
  const stopped = new Promise<number>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      if (shuttingDown) {
        logger.warn({ signal }, 'second signal during shutdown; exiting now');
        void flush(logger).finally(() => process.exit(EXIT_FAILURE));
        return;
      }
      shuttingDown = true;
      logger.info({ signal, graceMs: config.shutdownGraceMs }, 'shutting down');
      hardDeadline(config.shutdownGraceMs - HARD_DEADLINE_MARGIN_MS, logger);
      operator
        .shutdown({ graceMs: Math.max(0, config.shutdownGraceMs - SHUTDOWN_RESERVE_MS) })
        .then(
          () => resolve(EXIT_OK),
          (err: unknown) => {
            logger.error({ err: describeError(err) }, 'shutdown failed');
            resolve(EXIT_FAILURE);
          },
        );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  await operator.start();
  const code = await stopped;
  await flush(logger);
  lingerWatch(logger, code);
  return code;
}

/**
 * Everything Node would print to stderr goes into the JSON log instead: process warnings (the AWS
 * SDK's Node-version notice among them) and unhandled rejections, which are bugs to log, never a
 * reason to stop probing DNS. An uncaught exception leaves the process in an unknown state: it is
 * logged and the process exits 1 (Kubernetes restarts it).
 */
function routeProcessEvents(logger: Logger): void {
  process.removeAllListeners('warning');
  process.on('warning', (warning) => {
    logger.warn(
      { warning: warning.name, code: (warning as { code?: string }).code },
      warning.message.replace(/\s*\n\s*/g, ' '),
    );
  });
  process.on('unhandledRejection', (reason) => {
    logger.error({ err: describeError(reason) }, 'unhandled promise rejection (a bug); continuing');
  });
  process.on('uncaughtException', (err) => {
    logger.fatal({ err: describeError(err), stack: err.stack }, 'uncaught exception; exiting');
    void flush(logger).finally(() => process.exit(EXIT_FAILURE));
  });
}

/** The last resort: whatever still hangs, the process ends within the shutdown budget. */
function hardDeadline(ms: number, logger: Logger): void {
  const timer = setTimeout(
    () => {
      logger.error(
        { afterMs: ms, ...openResources() },
        'shutdown did not finish in time; exiting anyway',
      );
      void flush(logger).finally(() => process.exit(EXIT_FAILURE));
    },
    Math.max(0, ms),
  );
  timer.unref();
}

/** What still holds the process: resource kinds, and the peers of open sockets. */
function openResources(): { resources: string[]; sockets: string[] } {
  const handles = (process as unknown as { _getActiveHandles?: () => unknown[] })._getActiveHandles;
  const sockets = (handles?.call(process) ?? [])
    .filter((h): h is Socket => h instanceof Socket && h.remotePort !== undefined)
    .map((s) => {
      const inner = s as unknown as {
        _handle?: { hasRef?: () => boolean };
        _httpMessage?: { method?: string; path?: string };
      };
      const request = inner._httpMessage;
      const what = request ? ` ${request.method ?? ''} ${request.path ?? ''}` : '';
      const ref = inner._handle?.hasRef?.() === false ? ' (unref)' : '';
      return `${s.remoteAddress ?? '?'}:${s.remotePort ?? '?'}${what}${ref}`;
    });
  return { resources: process.getActiveResourcesInfo(), sockets };
}

/** After a clean shutdown nothing should hold the process; if something does, name it and go. */
function lingerWatch(logger: Logger, code: number): void {
  const timer = setTimeout(() => {
    logger.warn(openResources(), 'process still busy after shutdown; exiting');
    void flush(logger).finally(() => process.exit(code));
  }, LINGER_MS);
  timer.unref();
}

function flush(logger: Logger): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 1_000);
    timer.unref();
    logger.flush(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
