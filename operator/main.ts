/**
 * The `dnsop` command line: run | plan | probe | version.
 * `main` returns the exit code instead of exiting, so tests call it like any function.
 *
 * Start-up (DESIGN.md, CLI): this module loads only commander; each command imports what it uses
 * when it runs, so `dnsop version` pays for nothing else, `dnsop probe` loads the resolver and
 * scheduler only, and the operator framework and cloud SDKs load under `dnsop run` alone.
 */
import { Command, CommanderError, Option } from 'commander';
import { EXIT_OK, EXIT_USAGE, processIO, type CliIO } from './cli-io';
import type { RawConfig } from './runtime/config';
import { VERSION } from './version';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function runCommand(io: CliIO, exit: (code: number) => void): Command {
  return new Command('run')
    .description('run the operator (reconciles DNSPolicy and DNSProbe)')
    .addOption(
      new Option('--namespace <ns>', 'namespace to watch ("" = all)').env('DNSOP_NAMESPACE'),
    )
    .addOption(
      new Option(
        '--trusted-namespaces <list>',
        'comma-separated namespaces whose DNSPolicies and DNSProbes may act beyond their own namespace (default: $POD_NAMESPACE or dnsop-system, and kube-system; "" trusts none)',
      ).env('DNSOP_TRUSTED_NAMESPACES'),
    )
    .addOption(
      new Option(
        '--require-domain-grants [bool]',
        'policies in untrusted namespaces publish only names under their Namespace annotation dnsop.io/allowed-domains',
      ).env('DNSOP_REQUIRE_DOMAIN_GRANTS'),
    )
    .addOption(
      new Option(
        '--secret-namespaces <list>',
        'comma-separated namespaces whose credentials Secrets may be read (default: any; pair with deploy/secrets-by-namespace/)',
      ).env('DNSOP_SECRET_NAMESPACES'),
    )
    .addOption(
      new Option(
        '--controller-name <name>',
        'also publish objects whose controller annotation has this value (e.g. dns-controller, the value external-dns answers to)',
      ).env('DNSOP_CONTROLLER_NAME'),
    )
    .addOption(
      new Option('--metrics-addr <addr>', 'metrics and health listen address')
        .env('DNSOP_METRICS_ADDR')
        .default(':8080'),
    )
    .addOption(
      new Option('--leader-elect [bool]', 'enable leader election on a Lease').env(
        'DNSOP_LEADER_ELECT',
      ),
    )
    .addOption(
      new Option(
        '--leader-election-namespace <ns>',
        'namespace of the leader Lease (default: $POD_NAMESPACE or dnsop-system)',
      ),
    )
    .addOption(
      new Option('--leader-election-id <name>', 'name of the leader Lease').default('dnsop-leader'),
    )
    .addOption(new Option('--lease-duration <duration>', 'lease duration').default('15s'))
    .addOption(new Option('--renew-deadline <duration>', 'leader renew deadline').default('10s'))
    .addOption(new Option('--retry-period <duration>', 'lease retry period').default('2s'))
    .addOption(
      new Option('--identity <id>', "this replica's identity (default: $POD_NAME or hostname)"),
    )
    .addOption(
      new Option('--log-level <level>', 'trace|debug|info|warn|error')
        .env('DNSOP_LOG_LEVEL')
        .default('info'),
    )
    .addOption(
      new Option('--kubeconfig <path>', 'kubeconfig file (default: in-cluster or $KUBECONFIG)').env(
        'KUBECONFIG',
      ),
    )
    .addOption(new Option('--concurrency <n>', 'reconciles at once per controller').default('4'))
    .addOption(
      new Option('--controllers <list>', 'controllers to run').default('dnspolicy,dnsprobe'),
    )
    .addOption(
      new Option('--cache-resync <duration>', 'full relist period of every cache').default('10m'),
    )
    .addOption(
      new Option(
        '--debounce <duration>',
        'per-DNSPolicy spacing of event-driven syncs: the first event after a quiet period syncs at once, later ones wait this long after the last provider change; unwanted records wait until events pause this long',
      ).default('200ms'),
    )
    .addOption(
      new Option(
        '--probe-namespace-max-qps <n>',
        'DNS probe queries per second per namespace, over all DNSProbes',
      ).default('1000'),
    )
    .addOption(
      new Option(
        '--probe-cluster-max-qps <n>',
        'DNS probe queries per second over every DNSProbe in the cluster (untrusted namespaces together get at most half)',
      ).default('2000'),
    )
    .addOption(
      new Option(
        '--shutdown-grace <duration>',
        'from SIGTERM to exit, at most: in-flight reconciles get all but 5s, then are aborted',
      ).default('25s'),
    )
    .action(async (opts: RawConfig) => {
      const { runOperatorCommand } = await import('./run-command');
      exit(await runOperatorCommand(opts, io));
    });
}

function planCommand(io: CliIO, exit: (code: number) => void): Command {
  return new Command('plan')
    .description('offline: print the records each DNSPolicy in the manifests would publish')
    .requiredOption(
      '-f, --filename <path>',
      'manifest file or directory (repeatable; directories recursively)',
      collect,
      [],
    )
    .addOption(
      new Option('-o, --output <format>', 'output format')
        .choices(['json', 'table'])
        .default('table'),
    )
    .option(
      '--current <zone-file...>',
      'the zones as they are now (Route 53 export JSON or RFC 1035 zone file): print the changes too',
    )
    .option('--exit-code', 'exit 1 when any policy has changes, 0 when none')
    .option(
      '--controller-name <name>',
      'as dnsop run --controller-name: also publish objects whose controller annotation has this value',
    )
    .action(
      async (opts: {
        filename: string[];
        output: 'json' | 'table';
        current?: string[];
        exitCode?: boolean;
        controllerName?: string;
      }) => {
        const { runPlanCommand } = await import('./records/plan-command');
        exit(
          await runPlanCommand(
            {
              files: opts.filename,
              output: opts.output,
              ...(opts.current ? { current: opts.current } : {}),
              ...(opts.exitCode ? { exitCode: true } : {}),
              ...(opts.controllerName ? { controllerName: opts.controllerName } : {}),
            },
            io,
          ),
        );
      },
    );
}

function probeCommand(io: CliIO, exit: (code: number) => void): Command {
  return new Command('probe')
    .description('probe DNS servers from a terminal with the DNSProbe engine (no cluster needed)')
    .requiredOption('--server <ip[:port]>', 'DNS server to probe (repeatable)', collect, [])
    .requiredOption('--query <name[/TYPE]>', 'query to send (repeatable)', collect, [])
    .option('--interval <duration>', 'probe period per server and query', '100ms')
    .option('--timeout <duration>', 'hard deadline per probe', '100ms')
    .option('--transport <udp|tcp>', 'transport', 'udp')
    .option('--duration <duration>', 'how long to run', '30s')
    .addOption(
      new Option('-o, --output <format>', 'output format')
        .choices(['text', 'json'])
        .default('text'),
    )
    .action(
      async (opts: {
        server: string[];
        query: string[];
        interval: string;
        timeout: string;
        transport: string;
        duration: string;
        output: string;
      }) => {
        const { runProbeCommand } = await import('./probes/probe-command');
        const abort = new AbortController();
        const onSignal = (): void => abort.abort();
        process.once('SIGINT', onSignal);
        try {
          exit(
            await runProbeCommand(
              {
                servers: opts.server,
                queries: opts.query,
                interval: opts.interval,
                timeout: opts.timeout,
                transport: opts.transport,
                duration: opts.duration,
                output: opts.output,
              },
              io,
              abort.signal,
            ),
          );
        } finally {
          process.off('SIGINT', onSignal);
        }
      },
    );
}

export function buildProgram(io: CliIO, exit: (code: number) => void): Command {
  const program = new Command('dnsop')
    .description(
      'DNS records from Kubernetes objects, and cluster DNS probing with safe self-healing',
    )
    .version(VERSION, '-v, --version')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  program.addCommand(runCommand(io, exit));
  program.addCommand(planCommand(io, exit));
  program.addCommand(probeCommand(io, exit));
  program.addCommand(
    new Command('version').description('print the version').action(() => {
      io.stdout(`${VERSION}\n`);
      exit(EXIT_OK);
    }),
  );
  for (const cmd of program.commands) {
    cmd.exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  }
  return program;
}

/** Runs the CLI with argv (as process.argv: node, script, args...) and returns the exit code. */
export async function main(argv: readonly string[], io: CliIO = processIO): Promise<number> {
  let code = EXIT_OK;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  try {
    await program.parseAsync([...argv]);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version are "errors" to commander; bad arguments exit 2.
      return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    throw err;
  }
  return code;
}
