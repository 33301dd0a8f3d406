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
  const stages = text.split(/^FROM /m).slice(1);
  const final = stages[stages.length - 1] ?? '';

  it('is multi-stage', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
  });

  it('installs production dependencies only in the final stage', () => {
    expect(final).toMatch(/npm ci --omit=dev/);
    expect(final).not.toMatch(/npm (ci|install)(?![^\n]*--omit=dev)/);
    expect(final).toMatch(/COPY --from=\S+ \/app\/dist/);
  });

  it('runs as a non-root user with `dnsop run` as entrypoint', () => {
    const user = /^USER\s+(\S+)/m.exec(final)?.[1] ?? 'root';
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    expect(final).toMatch(/ENTRYPOINT \["node", "\/app\/bin\/dnsop\.js", "run"\]/);
  });
});
