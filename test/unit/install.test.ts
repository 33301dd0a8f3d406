/**
 * The install is `kubectl apply -k deploy/` and an image built from the Dockerfile. Neither a
 * Docker engine nor kubectl runs here, so these tests check the structure a platform engineer
 * relies on: what the manifests grant and how the container runs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ROOT } from './crd-schema';

type Doc = Record<string, any>;

function load(file: string): Doc[] {
  return parseAllDocuments(readFileSync(join(ROOT, file), 'utf8')).map((d) => d.toJS() as Doc);
}

const kustomization = load('deploy/kustomization.yaml')[0]!;
const all: Doc[] = (kustomization.resources as string[])
  .filter((r) => r.endsWith('.yaml'))
  .flatMap((r) => load(join('deploy', r)));
const byKind = (kind: string): Doc[] => all.filter((d) => d.kind === kind);

describe('deploy/ (kubectl apply -k deploy/)', () => {
  it('crds/ holds only CRDs for `kubectl apply -f crds/`; its Kustomization (no .yaml) is skipped', () => {
    const files = readdirSync(join(ROOT, 'crds'));
    const yaml = files.filter((f) => /\.(ya?ml|json)$/.test(f));
    for (const f of yaml) expect(load(join('crds', f))[0]!.kind).toBe('CustomResourceDefinition');
    expect(files).toContain('Kustomization');
  });

  it('includes the CRDs so one apply is the whole install', () => {
    expect(kustomization.resources).toContain('../crds');
    const crdFiles = load('crds/Kustomization')[0]!.resources as string[];
    expect(crdFiles.sort()).toEqual(['dnspolicies.dnsop.io.yaml', 'dnsprobes.dnsop.io.yaml']);
    expect(kustomization.namespace).toBe('dnsop-system');
  });

  it('has every piece of the install', () => {
    expect(all.map((d) => d.kind).sort()).toEqual(
      [
        'ClusterRole',
        'ClusterRole',
        'ClusterRoleBinding',
        'ClusterRoleBinding',
        'Deployment',
        'Namespace',
        'PodDisruptionBudget',
        'Role',
        'RoleBinding',
        'Service',
        'ServiceAccount',
      ].sort(),
    );
  });

  it('runs 2 replicas with leader election, probes, limits, non-root and a read-only root filesystem', () => {
    const dep = byKind('Deployment')[0]!;
    const pod = dep.spec.template.spec;
    const c = pod.containers[0];
    expect(dep.spec.replicas).toBe(2);
    expect(c.args).toContain('--leader-elect=true');
    expect(pod.serviceAccountName).toBe('dnsop');
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(c.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(c.livenessProbe.httpGet.path).toBe('/healthz');
    expect(c.readinessProbe.httpGet.path).toBe('/readyz');
    expect(c.resources.requests).toHaveProperty('cpu');
    expect(c.resources.limits).toHaveProperty('memory');
    const envNames = (c.env as Doc[]).map((e) => e.name);
    expect(envNames).toEqual(expect.arrayContaining(['POD_NAME', 'POD_NAMESPACE']));
  });

  it('keeps at least one replica through voluntary disruptions and exposes metrics', () => {
    expect(byKind('PodDisruptionBudget')[0]!.spec.minAvailable).toBe(1);
    expect(byKind('Service')[0]!.spec.ports[0].name).toBe('metrics');
  });

  it('grants least privilege: no wildcards, Secrets get and watch (never list), no writes to workloads', () => {
    const rules = [...byKind('ClusterRole'), ...byKind('Role')].flatMap((r) => r.rules as Doc[]);
    for (const rule of rules) {
      expect(rule.verbs).not.toContain('*');
      expect(rule.resources).not.toContain('*');
      expect(rule.apiGroups).not.toContain('*');
    }
    const secretRules = rules.filter((r) => (r.resources as string[]).includes('secrets'));
    expect(secretRules.flatMap((r) => r.verbs)).toEqual(['get', 'watch']);
    const podWrites = rules.filter(
      (r) =>
        (r.resources as string[]).includes('pods') &&
        (r.verbs as string[]).some((v) => ['create', 'update', 'patch', 'delete'].includes(v)),
    );
    expect(podWrites).toEqual([]);
    const evictions = rules.filter((r) => (r.resources as string[]).includes('pods/eviction'));
    expect(evictions.flatMap((r) => r.verbs)).toEqual(['create']);
    const leaseRole = byKind('Role')[0]!;
    expect(leaseRole.metadata.namespace).toBe('dnsop-system');
    expect(leaseRole.rules[0].resources).toEqual(['leases']);
  });
});

describe('Dockerfile', () => {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const nodeImage = /^ARG NODE_IMAGE=(\S+)$/m.exec(text)?.[1] ?? '';
  /** Stages by name, each its instruction lines (continuations joined). */
  const stages = new Map(
    text
      .replace(/\\\n\s*/g, ' ')
      .split(/^FROM /m)
      .slice(1)
      .map((body) => {
        const [from = '', ...lines] = body.split('\n');
        const name = / AS (\S+)/.exec(from)?.[1] ?? '';
        return [name, { from, lines: lines.filter((l) => l.trim() && !l.startsWith('#')) }];
      }),
  );
  const runtime = stages.get('runtime')!;
  // Node's release schedule: an even major is LTS until its end of life.
  const END_OF_LIFE: Readonly<Record<number, string>> = {
    20: '2026-04-30',
    22: '2027-04-30',
    24: '2028-04-30',
    26: '2029-04-30',
  };

  it('builds every stage on one Node LTS line that has not reached its end of life', () => {
    const major = Number(/^node:(\d+)-/.exec(nodeImage)?.[1]);
    expect(END_OF_LIFE[major]).toBeDefined();
    expect(new Date(END_OF_LIFE[major]!).getTime()).toBeGreaterThan(Date.now());
    expect(major).toBeGreaterThanOrEqual(26);
    for (const stage of stages.values()) expect(stage.from).toMatch(/^\$\{NODE_IMAGE\} AS /);
  });

  it('has a build, a production-dependencies and a runtime stage', () => {
    expect([...stages.keys()]).toEqual(['build', 'deps', 'runtime']);
    expect(stages.get('deps')!.lines).toContain(
      'RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund',
    );
  });

  it('ships only dist, production node_modules, bin, crds and package.json in the runtime stage', () => {
    const copies = runtime.lines.filter((l) => l.startsWith('COPY'));
    expect(copies.sort()).toEqual(
      [
        'COPY --from=build /app/dist ./dist',
        'COPY --from=deps /app/node_modules ./node_modules',
        'COPY bin ./bin',
        'COPY crds ./crds',
        'COPY package.json ./',
      ].sort(),
    );
    // Nothing is installed or built at run time.
    expect(runtime.lines.filter((l) => /\bnpm (ci|install|run)\b/.test(l))).toEqual([]);
  });

  it('runs node directly, without npm, npx or corepack in the image, as a non-root user', () => {
    const removal = runtime.lines.find((l) => l.startsWith('RUN rm -rf')) ?? '';
    for (const tool of ['/usr/local/bin/npm', '/usr/local/bin/npx', '/usr/local/bin/corepack']) {
      expect(removal).toContain(tool);
    }
    expect(removal).toContain('/usr/local/lib/node_modules/npm');
    const user = runtime.lines.find((l) => l.startsWith('USER'))?.split(/\s+/)[1] ?? 'root';
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    expect(runtime.lines).toContain(
      'ENTRYPOINT ["node", "--memory-reducer-single-gc", "/app/bin/dnsop.js", "run"]',
    );
  });

  it('keeps tests, examples and the local tools out of the build context', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
    expect(ignored).toEqual(expect.arrayContaining(['test', 'node_modules', 'dist', '.tools']));
  });
});
