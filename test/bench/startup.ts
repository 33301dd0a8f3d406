/**
 * CLI start-up (DESIGN.md, CLI): `dnsop version` answers in under 150 ms and `dnsop probe` sends
 * its first probe within 300 ms of launch, each command loading only what it uses. Measured on the
 * real launcher (`node bin/dnsop.js`, compiled dist/) as separate processes, medians of several
 * runs; Node's own start-up (`node -e 0`) is printed beside them for scale.
 */
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ensureBuilt } from '../envtest/dnsop-process';

const ROOT = join(__dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'dnsop.js');
const RUNS = 15;

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

function summary(values: readonly number[]): string {
  return `median ${quantile(values, 0.5).toFixed(0)} ms, p90 ${quantile(values, 0.9).toFixed(0)} ms (${values.length} runs)`;
}

/** Wall time from spawn to exit. */
function timeToExit(args: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', () => resolve(performance.now() - started));
  });
}

/** Wall time from spawning `dnsop probe` to its first query arriving at a UDP socket. */
async function timeToFirstProbe(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const { port } = socket.address();
  try {
    return await new Promise<number>((resolve, reject) => {
      const started = performance.now();
      const child = spawn(
        process.execPath,
        [
          BIN,
          'probe',
          '--server',
          `127.0.0.1:${port}`,
          '--query',
          'bench.test/A',
          '--duration',
          '5s',
        ],
        { stdio: 'ignore' },
      );
      child.once('error', reject);
      socket.once('message', () => {
        resolve(performance.now() - started);
        child.kill('SIGINT');
      });
    });
  } finally {
    socket.close();
  }
}

/** Modules in require.cache once a command's code is loaded. */
function modulesLoaded(requirePath: string): number {
  const out = execFileSync(
    process.execPath,
    [
      '-e',
      `require(${JSON.stringify(requirePath)}); console.log(Object.keys(require.cache).length)`,
    ],
    { encoding: 'utf8' },
  );
  return Number(out.trim());
}

export async function benchStartup(): Promise<void> {
  ensureBuilt();
  const node: number[] = [];
  const version: number[] = [];
  const probe: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    // Interleaved, so a slow moment of a shared machine hits every figure alike.
    node.push(await timeToExit(['-e', '0']));
    version.push(await timeToExit([BIN, 'version']));
    probe.push(await timeToFirstProbe());
  }
  console.log(`node -e 0 (Node's own start):        ${summary(node)}`);
  console.log(`dnsop version, launch to exit:        ${summary(version)}   target < 150 ms`);
  console.log(`dnsop probe, launch to first query:   ${summary(probe)}   target < 300 ms`);
  const dist = (p: string): string => join(ROOT, 'dist', p);
  console.log(
    `modules loaded: CLI ${modulesLoaded(dist('main.js'))}, + probe ${modulesLoaded(dist('probes/probe-command.js'))}, + plan ${modulesLoaded(dist('records/plan-command.js'))}, + run ${modulesLoaded(dist('run-command.js'))} (the operator framework and SDKs load when run starts)`,
  );
}
