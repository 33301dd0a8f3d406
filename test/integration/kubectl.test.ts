/**
 * What a user types, with the kubectl they use: the README's install and examples commands, run
 * verbatim by bash with kubectl built from the same k8s.io/kubernetes module as the harness's
 * kube-apiserver. The install applied twice changes nothing and a server-side apply works after
 * it; the examples apply on a fresh cluster and, applied twice, change nothing; the operator on
 * that cluster publishes exactly what `dnsop plan -f examples/` says; and the API server and
 * `dnsop plan` reject the same invalid objects at the same fields.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import { loadCrdValidator } from '../../operator/api/validation';
import { planManifests } from '../../operator/records/plan-command';
import { InMemoryDnsStore } from '../../operator/records/providers/inmemory';
import { DNSPolicyController } from '../../operator/records/reconciler';
import { kubeRequest } from '../../operator/runtime/kube-http';
import type { DnsopOperator } from '../../operator/runtime/operator';
import { ControlPlane } from '../envtest/control-plane';
import { applyFiles } from '../envtest/apply';
import { waitFor } from '../envtest/wait';
import { VALIDATION_CASES } from '../support/invalid-objects';
import { startOperator } from './operator-fixture';

jest.setTimeout(180_000);

const ROOT = join(__dirname, '..', '..');
const TRUSTED = ['dnsop-system', 'kube-system'];
let plane: ControlPlane;

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a shell command line from the repository root, with the harness's kubectl and cluster. */
function sh(command: string): Promise<Run> {
  const env = {
    ...process.env,
    PATH: `${join(plane.tools.kubectl, '..')}:${process.env['PATH'] ?? ''}`,
    KUBECONFIG: plane.kubeconfigPath,
  };
  return new Promise((resolve) => {
    execFile('bash', ['-c', command], { cwd: ROOT, env }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** The README line that starts with `prefix`, verbatim (a README edit that drops it fails here). */
function readmeCommand(prefix: string): string {
  const blocks = [
    ...readFileSync(join(ROOT, 'README.md'), 'utf8').matchAll(/```sh\n([\s\S]*?)```/g),
  ];
  const line = blocks
    .flatMap((b) => b[1]!.split('\n'))
    .map((l) => l.trim())
    .find((l) => l.startsWith(prefix));
  if (line === undefined) throw new Error(`README.md has no command starting with "${prefix}"`);
  return line;
}

/** `kubectl apply` output lines whose object was not reported unchanged. */
const changed = (out: string): string[] =>
  out
    .split('\n')
    .filter((l) => l.trim() !== '')
    .filter((l) => !l.endsWith(' unchanged'));

/** metadata.generation: bumped by every change of spec (status writes do not count). */
async function generation(path: string): Promise<number | undefined> {
  const obj = await kubeRequest<KubernetesObject>(plane.kubeConfig, { method: 'GET', path });
  return obj.metadata?.generation;
}

beforeAll(async () => {
  // kube-controller-manager: default ServiceAccounts, Deployments and StatefulSets, as in any cluster.
  plane = await ControlPlane.start({ controllerManager: true });
});

afterAll(async () => {
  await plane?.stop();
});

describe("the README's install, with kubectl", () => {
  const install = (): string => readmeCommand('kubectl apply -f crds/');
  const pdb = '/apis/policy/v1/namespaces/dnsop-system/poddisruptionbudgets/dnsop';

  it('applied twice, the second run changes nothing', async () => {
    const first = await sh(install());
    expect(first).toMatchObject({ code: 0, stderr: '' });
    const generationBefore = await generation(pdb);
    const second = await sh(install());
    console.log(`$ ${install()}   # second run\n${second.stdout}`);
    expect(second).toMatchObject({ code: 0, stderr: '' });
    // kubectl's client-side apply always re-sends a PodDisruptionBudget's selector (policy/v1
    // declares it patchStrategy "replace"), so it prints "configured" for a patch that changes
    // nothing: the API server keeps the spec as it was (same generation).
    expect(changed(second.stdout)).toEqual(['poddisruptionbudget.policy/dnsop configured']);
    expect(await generation(pdb)).toBe(generationBefore);
    // 2 CRDs twice (crds/ and deploy/), then deploy/'s other 11 objects less the PDB.
    expect(second.stdout.split('\n').filter((l) => l.endsWith(' unchanged')).length).toBe(14);
  });

  it('kubectl apply --server-side -k deploy/ works after it', async () => {
    const ssa = await sh('kubectl apply --server-side -k deploy/');
    expect(ssa.stderr).toBe('');
    expect(ssa.code).toBe(0);
    expect(ssa.stdout).toMatch(/deployment\.apps\/dnsop serverside-applied/);
    const again = await sh(install());
    expect(again.code).toBe(0);
  });
});

describe('deploy/monitoring, the optional kustomize component', () => {
  it('renders into an overlay of deploy/ with kubectl kustomize', async () => {
    const out = await sh('kubectl kustomize test/fixtures/monitoring-overlay');
    expect(out).toMatchObject({ code: 0, stderr: '' });
    const kinds = [...out.stdout.matchAll(/^kind: (\S+)$/gm)].map((m) => m[1]);
    expect(kinds).toEqual(
      expect.arrayContaining(['ServiceMonitor', 'PrometheusRule', 'ConfigMap']),
    );
    expect(out.stdout).toMatch(/name: dnsop-grafana-dashboard\n\s+namespace: dnsop-system/);
  });
});

describe("the README's examples, with kubectl", () => {
  const store = new InMemoryDnsStore();
  let operator: DnsopOperator | undefined;

  afterAll(async () => {
    await operator?.shutdown();
  });

  it('kubectl apply -f examples/ works on a fresh cluster and, run twice, changes nothing', async () => {
    const command = readmeCommand('kubectl apply -f examples/');
    const first = await sh(command);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const second = await sh(command);
    console.log(`$ ${command}   # second run\n${second.stdout}`);
    expect(second).toMatchObject({ code: 0, stderr: '' });
    expect(changed(second.stdout)).toEqual([]);
  });

  it('examples/gateway-api/ applies once the Gateway API CRDs are installed, and twice changes nothing', async () => {
    await applyFiles(plane.kubeConfig, plane.tools.gatewayApiCrdFiles);
    const first = await sh('kubectl apply -f examples/gateway-api/');
    expect(first).toMatchObject({ code: 0, stderr: '' });
    const second = await sh('kubectl apply -f examples/gateway-api/');
    expect(changed(second.stdout)).toEqual([]);
  });

  it('the operator on that cluster publishes exactly the records dnsop plan -f examples/ lists', async () => {
    const planned = await planManifests({
      files: [join(ROOT, 'examples')],
      output: 'json',
      trustedNamespaces: TRUSTED,
    });
    const api = KubernetesObjectApi.makeApiClient(plane.kubeConfig);
    const controller = new DNSPolicyController({ inMemoryStore: store, syncSpacingMs: 100 });
    ({ operator } = await startOperator(plane.kubeConfig, [controller], {
      config: { trustedNamespaces: TRUSTED.join(',') },
    }));
    // Every policy reconciled at its current generation.
    await waitFor(
      'every DNSPolicy reconciled',
      async () => {
        const list = await api.list<
          KubernetesObject & { status?: { observedGeneration?: number } }
        >('dnsop.io/v1alpha1', 'DNSPolicy');
        return list.items.length === planned.length &&
          list.items.every((p) => p.status?.observedGeneration === p.metadata?.generation)
          ? true
          : undefined;
      },
      { timeoutMs: 60_000 },
    );
    const zoneOf = new Map(
      (
        await api.list<KubernetesObject & { spec: { provider: { inMemory?: { zone?: string } } } }>(
          'dnsop.io/v1alpha1',
          'DNSPolicy',
        )
      ).items.map((p) => [
        `${p.metadata!.namespace!}/${p.metadata!.name!}`,
        p.spec.provider.inMemory?.zone ?? '',
      ]),
    );
    const key = (r: {
      name: string;
      type: string;
      targets: readonly string[];
      ttl: number;
    }): string => `${r.name} ${r.type} ${[...r.targets].sort().join(',')} ttl=${r.ttl}`;
    const fromPlan = planned
      .flatMap((p) => p.records.map((r) => `${zoneOf.get(p.policy) ?? '?'}: ${key(r)}`))
      .sort();
    const zones = [...new Set(zoneOf.values())];
    const publishedNow = (): string[] =>
      zones
        .flatMap((z) =>
          store
            .records(z)
            .filter((r) => r.type !== 'TXT')
            .map((r) => `${z}: ${key(r)}`),
        )
        .sort();
    // Wait until as many records as planned are published, then compare them (or what is there).
    await waitFor(
      'published records settle on the plan',
      () => (publishedNow().length === fromPlan.length ? true : undefined),
      { timeoutMs: 30_000 },
    ).catch(() => undefined);
    console.log(
      `records (zone: name type targets ttl), plan and cluster alike:\n${fromPlan.join('\n')}`,
    );
    expect(publishedNow()).toEqual(fromPlan);
    expect(fromPlan.length).toBeGreaterThanOrEqual(6);
  });
});

describe('the API server and dnsop plan agree on what is invalid', () => {
  beforeAll(async () => {
    const ns = await sh(
      'kubectl create namespace shop --dry-run=client -o yaml | kubectl apply -f -',
    );
    expect(ns.code).toBe(0);
  });

  /** Fields the API server names in its answer to a dry-run create with strict field validation. */
  async function serverFields(
    obj: Record<string, unknown>,
  ): Promise<{ fields: string[]; text: string }> {
    const plural = obj['kind'] === 'DNSPolicy' ? 'dnspolicies' : 'dnsprobes';
    try {
      await kubeRequest(plane.kubeConfig, {
        method: 'POST',
        path: `/apis/dnsop.io/v1alpha1/namespaces/shop/${plural}?dryRun=All&fieldValidation=Strict`,
        body: obj,
      });
      return { fields: [], text: 'accepted' };
    } catch (err) {
      const text = String((err as Error).message);
      const body = (
        err as { body?: { details?: { causes?: { field?: string; message?: string }[] } } }
      ).body;
      const causes = body?.details?.causes ?? [];
      const fields = causes
        .map((c) => c.field ?? /unknown field "([^"]+)"/.exec(c.message ?? '')?.[1] ?? '')
        .filter((f) => f !== '' && f !== '<nil>');
      if (fields.length === 0) {
        fields.push(...[...text.matchAll(/unknown field "([^"]+)"/g)].map((m) => m[1]!));
      }
      return { fields: [...new Set(fields)].sort(), text };
    }
  }

  it.each(VALIDATION_CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const validator = await loadCrdValidator();
    const plan = validator.validate(c.object)!;
    const planFields = [...new Set(plan.errors.map((e) => e.field).filter((f) => f !== ''))].sort();
    const server = await serverFields(c.object);
    expect({ server: server.fields, plan: planFields }).toEqual({
      server: [...c.fields].sort(),
      plan: [...c.fields].sort(),
    });
    if (c.message !== undefined) {
      expect(server.text).toMatch(new RegExp(c.message.source.replace(/^\^|\$$/g, '')));
      expect(plan.errors.map((e) => e.message)).toEqual(
        expect.arrayContaining([expect.stringMatching(c.message)]),
      );
    }
  });
});
