/**
 * `npm run bench`: prints the performance figures of each part. Each bench is a module exporting
 * one async function that prints its own numbers; select some with `npm run bench -- records`.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** `optional` benches run only when named (they build or download tools, or run for minutes). */
const BENCHES: ReadonlyArray<{ name: string; module: string; fn: string; optional?: boolean }> = [
  { name: 'records', module: 'records', fn: 'benchRecords' },
  { name: 'providers', module: 'providers', fn: 'benchProviders' },
  { name: 'probes', module: 'probes', fn: 'benchProbes' },
  { name: 'startup', module: 'startup', fn: 'benchStartup' },
  { name: 'vs-external-dns', module: 'vs-external-dns', fn: 'benchVsExternalDns', optional: true },
  { name: 'probes-soak', module: 'probes-soak', fn: 'benchProbesSoak', optional: true },
];

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  for (const bench of BENCHES) {
    if (wanted.length > 0 ? !wanted.includes(bench.name) : bench.optional === true) continue;
    const file = join(__dirname, `${bench.module}.ts`);
    if (!existsSync(file)) {
      console.log(`\n## ${bench.name}: no bench yet (${file})`);
      continue;
    }
    console.log(`\n## ${bench.name}`);
    const started = performance.now();
    const mod = (await import(file)) as Record<string, () => Promise<void>>;
    const run = mod[bench.fn];
    if (typeof run !== 'function') throw new Error(`${file} does not export ${bench.fn}`);
    await run();
    console.log(
      `(${bench.name} bench took ${((performance.now() - started) / 1000).toFixed(1)} s)`,
    );
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
