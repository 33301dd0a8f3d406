/**
 * `dnsop run` exit codes and messages, as a user meets them (DESIGN.md, Resilience and CLI):
 * non-zero with one line on stderr, leading with the cause, for bad flags, an unreadable
 * kubeconfig and a busy metrics port; a bad token is not fatal (the process stays up, says why,
 * and is not ready); 0 only after SIGTERM.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlPlane } from '../envtest/control-plane';
import { DnsopProcess, ensureBuilt, runDnsop } from '../envtest/dnsop-process';
import { writeKubeconfig } from '../envtest/kubeconfig';

jest.setTimeout(180_000);

/** One line, no stack trace. */
function expectOneLine(stderr: string): void {
  const lines = stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at /);
}

it.each([
  [['run', '--concurrency', '0'], 2, /^dnsop run: --concurrency: must be an integer/],
  [['run', '--lease-duration', 'soon'], 2, /^dnsop run: --lease-duration:/],
  [
    ['run', '--kubeconfig', '/nonexistent'],
    1,
    /^dnsop run: kubeconfig "\/nonexistent" does not exist/,
  ],
])('dnsop %j exits %d with one line', (args, code, message) => {
  const result = runDnsop(args);
  expect(result.code).toBe(code);
  expect(result.stderr).toMatch(message);
  expectOneLine(result.stderr);
});

it('a reader that goes away (`dnsop probe -o json | head -1`) ends it quietly: exit 0, no stack trace', async () => {
  ensureBuilt();
  // Nothing listens on this port: the probe reports a state at once, then writes on.
  const child = spawn(
    process.execPath,
    [
      join(__dirname, '..', '..', 'bin', 'dnsop.js'),
      'probe',
      '--server',
      '127.0.0.1:9',
      '--query',
      'a.test',
      '--duration',
      '2s',
      '-o',
      'json',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.once('data', () => child.stdout.destroy());
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  expect(stderr).toBe('');
  expect(code).toBe(0);
});

describe('against an API server', () => {
  let plane: ControlPlane;
  let busy: Server;
  let busyPort: number;

  beforeAll(async () => {
    plane = await ControlPlane.start();
    busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', () => resolve()));
    busyPort = (busy.address() as { port: number }).port;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => busy?.close(() => resolve()));
    await plane?.stop();
  });

  it('a busy metrics port exits 1 with one line (it does not hang)', () => {
    const result = runDnsop([
      'run',
      '--kubeconfig',
      plane.kubeconfigPath,
      '--metrics-addr',
      `127.0.0.1:${busyPort}`,
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^dnsop run: port \d+ on 127\.0\.0\.1 is already in use/);
    expectOneLine(result.stderr);
  });

  it('a rejected token keeps the process up, says why, not ready; SIGTERM exits 0', async () => {
    const kubeconfig = join(plane.workDir, 'kubeconfig-bad-token');
    writeKubeconfig(kubeconfig, {
      server: plane.apiServerUrl,
      caFile: join(plane.workDir, 'apiserver-certs', 'apiserver.crt'),
      user: 'nobody',
      token: 'not-a-valid-token',
    });
    const dnsop = await DnsopProcess.run('bad-token', ['--kubeconfig', kubeconfig]);
    try {
      const line = await dnsop.waitForLog('the 401', (l) => /401 Unauthorized/.test(String(l.err)));
      expect(String(line.err)).toMatch(/check the kubeconfig or the ServiceAccount token/);
      // Still up well after the first failures, alive but not ready.
      await new Promise((r) => setTimeout(r, 5_000));
      expect(dnsop.running).toBe(true);
      expect((await dnsop.get('/healthz')).status).toBe(200);
      const ready = await dnsop.get('/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body).toMatch(/caches not synced/);
      const exit = await dnsop.signalAndWait('SIGTERM');
      expect(exit.code).toBe(0);
      expect(exit.ms).toBeLessThan(25_000);
    } finally {
      await dnsop.stop();
    }
  });
});

it('a kubeconfig that is not one exits 1 with one line naming the file', () => {
  const file = join(tmpdir(), `dnsop-bad-kubeconfig-${process.pid}`);
  writeFileSync(file, 'clusters: [\n');
  const result = runDnsop(['run', '--kubeconfig', file]);
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(/is not a valid kubeconfig/);
  expectOneLine(result.stderr);
});
