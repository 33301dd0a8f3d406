import { main } from './main';

function capture(): {
  io: { stdout: (s: string) => void; stderr: (s: string) => void };
  out: () => string;
  err: () => string;
} {
  let out = '';
  let err = '';
  return {
    io: { stdout: (s) => (out += s), stderr: (s) => (err += s) },
    out: () => out,
    err: () => err,
  };
}

const argv = (...args: string[]): string[] => ['node', 'dnsop', ...args];

describe('dnsop CLI', () => {
  it('prints the package version', async () => {
    const c = capture();
    expect(await main(argv('version'), c.io)).toBe(0);
    expect(c.out()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('lists its commands in --help and exits 0', async () => {
    const c = capture();
    expect(await main(argv('--help'), c.io)).toBe(0);
    for (const cmd of ['run', 'plan', 'probe', 'version']) expect(c.out()).toContain(cmd);
  });

  it('documents run flags in `run --help`', async () => {
    const c = capture();
    expect(await main(argv('run', '--help'), c.io)).toBe(0);
    for (const flag of [
      '--namespace',
      '--trusted-namespaces',
      '--metrics-addr',
      '--leader-elect',
      '--log-level',
    ]) {
      expect(c.out()).toContain(flag);
    }
  });

  it('exits 2 with a message on an unknown command or a bad flag value', async () => {
    const c = capture();
    expect(await main(argv('deploy'), c.io)).toBe(2);
    expect(c.err()).toMatch(/unknown command/);
    const d = capture();
    expect(await main(argv('run', '--log-level', 'loud'), d.io)).toBe(2);
    expect(d.err()).toMatch(/--log-level: must be one of/);
  });
});
