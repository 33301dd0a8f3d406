import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeconfigError, loadKubeConfig } from './kubeconfig';

const dir = mkdtempSync(join(tmpdir(), 'dnsop-kubeconfig-test-'));
const valid = join(dir, 'valid');
writeFileSync(
  valid,
  [
    'apiVersion: v1',
    'kind: Config',
    'clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]',
    'users: [{name: u, user: {token: t}}]',
    'contexts: [{name: x, context: {cluster: c, user: u}}]',
    'current-context: x',
  ].join('\n'),
);
const noContext = join(dir, 'no-context');
writeFileSync(noContext, 'apiVersion: v1\nkind: Config\nclusters: []\n');
const notYaml = join(dir, 'not-yaml');
writeFileSync(notYaml, 'clusters: [\n');

describe('loadKubeConfig', () => {
  it('loads --kubeconfig', () => {
    const kc = loadKubeConfig({ kubeconfig: valid, env: {} });
    expect(kc.getCurrentCluster()?.server).toBe('https://127.0.0.1:6443');
  });

  it('falls back to ~/.kube/config', () => {
    const home = join(dir, 'home');
    mkdirSync(join(home, '.kube'), { recursive: true });
    writeFileSync(join(home, '.kube', 'config'), readFileSync(valid));
    expect(loadKubeConfig({ env: {}, home }).getCurrentCluster()?.name).toBe('c');
  });

  it.each([
    [
      'a missing file',
      { kubeconfig: '/nonexistent' },
      /^kubeconfig "\/nonexistent" does not exist; pass --kubeconfig/,
    ],
    ['a file that is not YAML', { kubeconfig: notYaml }, /is not a valid kubeconfig/],
    ['no current context', { kubeconfig: noContext }, /has no current context with a cluster/],
    [
      'nothing at all',
      { home: join(dir, 'nobody') },
      /^no kubeconfig: pass --kubeconfig, set KUBECONFIG/,
    ],
  ])('refuses %s with one line that says what to do', (_name, sources, message) => {
    let err: unknown;
    try {
      loadKubeConfig({ env: {}, ...sources });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KubeconfigError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain('\n');
  });
});
