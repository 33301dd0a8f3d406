/**
 * The install as a user does it: everything in deploy/ (with the CRDs) applied to a real API
 * server, then the operator running with the dnsop ServiceAccount's own token and the shipped
 * RBAC. Any request the code makes that the ClusterRole/Role does not allow shows up as a 403.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Writable } from 'node:stream';
import { KubeConfig, KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import { ControlPlane } from '../envtest/control-plane';
import { MotoServer } from '../envtest/moto';
import { awsCredentialsSecret } from '../support/route53-zone';
import { applyObjects, parseManifests } from '../envtest/apply';
import { waitFor } from '../envtest/wait';
import { unansweredProbe } from '../support/probe-fixtures';
import { createControllers } from '../../operator/controllers';
import { buildConfig, type RawConfig } from '../../operator/runtime/config';
import { kubeRequest } from '../../operator/runtime/kube-http';
import { createLogger } from '../../operator/runtime/logger';
import { Manager } from '../../operator/runtime/manager';
import { createMetrics } from '../../operator/runtime/metrics';
import { DnsopOperator } from '../../operator/runtime/operator';

jest.setTimeout(120_000);

const ROOT = join(__dirname, '..', '..');
let plane: ControlPlane;

/** deploy/ rendered by kustomize, exactly what `kubectl apply -k deploy/` sends. */
function deployObjects(dir = join(ROOT, 'deploy')): KubernetesObject[] {
  const rendered = execFileSync(plane.tools.kustomize, ['build', dir], { encoding: 'utf8' });
  return parseManifests(rendered, `kustomize build ${dir}`);
}

/**
 * The operator as the dnsop ServiceAccount (its own token, so the shipped RBAC decides), logging
 * into `lines`; `use` runs while it does, then it is shut down.
 */
async function runAsServiceAccount(
  raw: RawConfig,
  lines: string[],
  use: (manager: Manager) => Promise<void>,
): Promise<void> {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const logger = createLogger('debug', sink);
  const kc = await serviceAccountKubeConfig(plane.kubeConfig);
  const config = buildConfig({ metricsAddr: '127.0.0.1:0', ...raw }, {});
  const controllers = createControllers(config);
  const manager = new Manager({
    config,
    kubeConfig: kc,
    logger,
    metrics: createMetrics(undefined, { processMetrics: false }),
    controllers,
  });
  const operator = new DnsopOperator(manager, controllers, logger);
  await operator.start();
  try {
    await use(manager);
  } finally {
    await operator.shutdown();
  }
}

/** A kubeconfig that authenticates as the dnsop ServiceAccount (TokenRequest API). */
async function serviceAccountKubeConfig(admin: KubeConfig): Promise<KubeConfig> {
  const answer = await kubeRequest<{ status: { token: string } }>(admin, {
    method: 'POST',
    path: '/api/v1/namespaces/dnsop-system/serviceaccounts/dnsop/token',
    body: {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { expirationSeconds: 3600 },
    },
  });
  const cluster = admin.getCurrentCluster();
  if (!cluster) throw new Error('no cluster');
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ ...cluster, name: 'envtest' }],
    users: [{ name: 'dnsop', token: answer.status.token }],
    contexts: [{ name: 'sa', cluster: 'envtest', user: 'dnsop' }],
    currentContext: 'sa',
  });
  return kc;
}

beforeAll(async () => {
  plane = await ControlPlane.start();
});

afterAll(async () => {
  await plane?.stop();
});

it('kubectl apply -k deploy/ (kustomize build) is accepted by a real API server', async () => {
  const applied = await applyObjects(plane.kubeConfig, deployObjects());
  expect(applied.map((o) => o.kind).sort()).toEqual(
    [
      'ClusterRole',
      'ClusterRole',
      'ClusterRoleBinding',
      'ClusterRoleBinding',
      'CustomResourceDefinition',
      'CustomResourceDefinition',
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

it('the operator runs with the shipped RBAC and is never refused', async () => {
  const lines: string[] = [];
  const admin = KubernetesObjectApi.makeApiClient(plane.kubeConfig);
  await applyObjects(plane.kubeConfig, [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
  ]);
  await admin.create({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: 'web',
      namespace: 'shop',
      annotations: { 'dnsop.io/hostname': 'web.example.com' },
    },
    spec: { ports: [{ port: 80 }] },
  } as KubernetesObject);
  await admin.create({
    apiVersion: 'dnsop.io/v1alpha1',
    kind: 'DNSPolicy',
    metadata: { name: 'public', namespace: 'shop' },
    spec: {
      sources: [{ kind: 'Service' }],
      domains: ['example.com'],
      provider: { inMemory: {} },
      publishInternalServices: true,
    },
  } as KubernetesObject);
  // A policy naming a credentials Secret: the operator reads it and watches it by name. In the
  // trusted namespace, as only there may a policy point the provider at another endpoint.
  await admin.create({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'aws', namespace: 'dnsop-system' },
    stringData: { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret' },
  } as KubernetesObject);
  await admin.create({
    apiVersion: 'dnsop.io/v1alpha1',
    kind: 'DNSPolicy',
    metadata: { name: 'route53', namespace: 'dnsop-system' },
    spec: {
      sources: [{ kind: 'Service' }],
      domains: ['example.com'],
      provider: {
        route53: {
          region: 'us-east-1',
          endpoint: 'http://127.0.0.1:9',
          credentialsSecretRef: { name: 'aws' },
        },
      },
    },
  } as KubernetesObject);
  // Fixed addresses need a trusted namespace (the operator's own here).
  await admin.create(unansweredProbe('nothing-listens', 'dnsop-system'));
  const config = {
    leaderElect: true,
    leaderElectionNamespace: 'dnsop-system',
    trustedNamespaces: 'dnsop-system',
    identity: 'install-test',
  };
  await runAsServiceAccount(config, lines, async (manager) => {
    const synced = await waitFor(
      'DNSPolicy Ready with its record',
      async () => {
        const p = await kubeRequest<{
          status?: { records?: number; conditions?: Array<{ type: string; status: string }> };
        }>(plane.kubeConfig, {
          method: 'GET',
          path: '/apis/dnsop.io/v1alpha1/namespaces/shop/dnspolicies/public',
        });
        const ready = p.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
        return ready && (p.status?.records ?? 0) >= 1 ? p : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(synced.status?.records).toBeGreaterThanOrEqual(1);
    await waitFor('the route53 policy seen (its Secret read and watched)', async () => {
      const p = await kubeRequest<{ status?: { observedGeneration?: number } }>(plane.kubeConfig, {
        method: 'GET',
        path: '/apis/dnsop.io/v1alpha1/namespaces/dnsop-system/dnspolicies/route53',
      });
      return p.status?.observedGeneration === 1 ? true : undefined;
    });
    const lease = await kubeRequest<{ spec: { holderIdentity: string } }>(plane.kubeConfig, {
      method: 'GET',
      path: '/apis/coordination.k8s.io/v1/namespaces/dnsop-system/leases/dnsop-leader',
    });
    expect(lease.spec.holderIdentity).toBe('install-test');
    const probe = await waitFor(
      'DNSProbe status reports the failing target',
      async () => {
        const p = await kubeRequest<{
          status?: { targets?: Array<{ address: string; state: string }> };
        }>(plane.kubeConfig, {
          method: 'GET',
          path: '/apis/dnsop.io/v1alpha1/namespaces/dnsop-system/dnsprobes/nothing-listens',
        });
        return p.status?.targets?.some((t) => t.state === 'Failing') ? p : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(probe.status?.targets?.[0]?.address).toMatch(/^127\.0\.0\.1/);
    const readyz = await fetch(`http://127.0.0.1:${manager.port}/readyz`);
    expect(readyz.status).toBe(200);
  });
  const refused = lines.filter((l) => /\b403\b|forbidden/i.test(l));
  expect(refused).toEqual([]);
});

it('deploy/secrets-by-namespace: Secrets are read through Roles in the listed namespaces only', async () => {
  // An overlay as a user writes it: the base plus the component.
  const dir = mkdtempSync(join(tmpdir(), 'dnsop-overlay-'));
  const rel = (p: string): string => relative(dir, join(ROOT, p));
  writeFileSync(
    join(dir, 'kustomization.yaml'),
    `resources: [${rel('deploy')}]\ncomponents: [${rel('deploy/secrets-by-namespace')}]\n`,
  );
  const objects = deployObjects(dir);
  rmSync(dir, { recursive: true, force: true });
  type Rule = { resources?: string[] };
  const clusterWide = objects.filter((o) => o.kind?.startsWith('Cluster') === true);
  expect(clusterWide.map((o) => o.metadata?.name)).not.toContain('dnsop-secrets');
  for (const role of clusterWide.filter((o) => o.kind === 'ClusterRole')) {
    expect((role as { rules?: Rule[] }).rules?.some((r) => r.resources?.includes('secrets'))).toBe(
      false,
    );
  }
  const roles = objects.filter((o) => o.kind === 'Role' && o.metadata?.name === 'dnsop-secrets');
  expect(roles.map((o) => o.metadata?.namespace).sort()).toEqual(['team-a', 'team-b']);
  const args =
    (
      objects.find((o) => o.kind === 'Deployment') as {
        spec?: { template?: { spec?: { containers?: { args?: string[] }[] } } };
      }
    ).spec?.template?.spec?.containers?.[0]?.args ?? [];
  const flag = args.find((a) => a.startsWith('--secret-namespaces='));
  expect(flag).toBe('--secret-namespaces=team-a,team-b');

  // A fresh install of the overlay (namespaces first; what the base alone installed is pruned).
  const admin = KubernetesObjectApi.makeApiClient(plane.kubeConfig);
  const namespaces = ['team-a', 'team-b', 'team-c'];
  await applyObjects(
    plane.kubeConfig,
    namespaces.map((name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } })),
  );
  await applyObjects(plane.kubeConfig, objects);
  for (const kind of ['clusterrolebindings', 'clusterroles']) {
    await kubeRequest(plane.kubeConfig, {
      method: 'DELETE',
      path: `/apis/rbac.authorization.k8s.io/v1/${kind}/dnsop-secrets`,
    }).catch(() => undefined);
  }
  const moto = await MotoServer.start();
  const savedEndpoint = process.env.AWS_ENDPOINT_URL_ROUTE_53;
  process.env.AWS_ENDPOINT_URL_ROUTE_53 = moto.endpoint;
  const lines: string[] = [];
  try {
    const { Route53Client, CreateHostedZoneCommand } = await import('@aws-sdk/client-route-53');
    await new Route53Client({
      region: moto.region,
      endpoint: moto.endpoint,
      credentials: moto.credentials,
    }).send(new CreateHostedZoneCommand({ Name: 'example.com', CallerReference: 'install' }));
    for (const ns of ['team-a', 'team-c']) {
      await admin.create(awsCredentialsSecret(ns, 'aws', moto.credentials));
      await admin.create({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: {
          name: 'web',
          namespace: ns,
          annotations: { 'dnsop.io/hostname': `${ns}.example.com` },
        },
        spec: { ports: [{ port: 80 }] },
      } as KubernetesObject);
      await admin.create({
        apiVersion: 'dnsop.io/v1alpha1',
        kind: 'DNSPolicy',
        metadata: { name: 'route53', namespace: ns },
        spec: {
          sources: [{ kind: 'Service' }],
          domains: ['example.com'],
          publishInternalServices: true,
          provider: { route53: { region: moto.region, credentialsSecretRef: { name: 'aws' } } },
        },
      } as KubernetesObject);
    }
    const config = {
      trustedNamespaces: 'dnsop-system',
      secretNamespaces: (flag ?? '').split('=')[1] ?? '',
      identity: 'install-test-secrets',
    };
    await runAsServiceAccount(config, lines, async () => {
      const condition = async (ns: string, type: string): Promise<Record<string, string>> => {
        const p = await kubeRequest<{ status?: { conditions?: Record<string, string>[] } }>(
          plane.kubeConfig,
          { method: 'GET', path: `/apis/dnsop.io/v1alpha1/namespaces/${ns}/dnspolicies/route53` },
        );
        return p.status?.conditions?.find((c) => c['type'] === type) ?? {};
      };
      await waitFor('team-a synced with its Secret, read through its Role', async () =>
        (await condition('team-a', 'Ready'))['status'] === 'True' ? true : undefined,
      );
      const stalled = await waitFor('team-c refused: not in --secret-namespaces', async () => {
        const c = await condition('team-c', 'Stalled');
        return c['status'] === 'True' && c['reason'] === 'Forbidden' ? c : undefined;
      });
      expect(stalled['message']).toContain('--secret-namespaces');
    });
  } finally {
    if (savedEndpoint === undefined) delete process.env.AWS_ENDPOINT_URL_ROUTE_53;
    else process.env.AWS_ENDPOINT_URL_ROUTE_53 = savedEndpoint;
    await moto.stop();
  }
  // Our own refusal says "Forbidden"; the API server's would say 403 / "is forbidden".
  expect(lines.filter((l) => /\b403\b|is forbidden/i.test(l))).toEqual([]);
});
