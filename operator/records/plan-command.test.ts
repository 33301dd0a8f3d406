import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runPlanCommand } from './plan-command';

const examples = resolve(__dirname, '..', '..', 'examples');
const fixtures = resolve(__dirname, '..', '..', 'test', 'fixtures', 'plan');

async function run(
  files: string[],
  output: 'json' | 'table' = 'json',
): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runPlanCommand(
    { files, output },
    { stdout: (t) => (out += t), stderr: (t) => (err += t) },
  );
  return { code, out, err };
}

function tempFile(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'dnsop-plan-'));
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('dnsop plan', () => {
  it('prints the DESIGN.md JSON shape, Route 53 alias records included', async () => {
    const { code, out } = await run([join(fixtures, 'services-route53.yaml')]);
    expect(code).toBe(0);
    const parsed = JSON.parse(out) as {
      policies: { policy: string; provider: string; records: unknown[]; diagnostics: unknown[] }[];
    };
    expect(parsed.policies).toHaveLength(1);
    const [policy] = parsed.policies;
    expect(policy?.policy).toBe('shop/public');
    expect(policy?.provider).toBe('route53');
    expect(policy?.records).toContainEqual({
      name: 'app.example.com',
      type: 'A',
      targets: ['203.0.113.7'],
      ttl: 300,
      alias: false,
      source: 'Service/shop/app',
    });
    expect(policy?.records).toContainEqual(
      expect.objectContaining({
        name: 'api.example.com',
        type: 'A',
        alias: true,
        aliasHostedZoneId: 'Z35SXDOTRQ7X7K',
      }),
    );
    expect(policy?.diagnostics).toContainEqual(
      expect.objectContaining({ object: 'Service/shop/pending', reason: 'LoadBalancerPending' }),
    );
  });

  it('never makes an alias of an IP target, even when dnsop.io/alias asks (seed 004)', async () => {
    const file = tempFile(
      'alias.yaml',
      `apiVersion: dnsop.io/v1alpha1
kind: DNSPolicy
metadata: { name: public, namespace: shop }
spec:
  sources: [{ kind: Service }]
  domains: [example.com]
  provider: { route53: { region: us-east-1, aliasMode: Auto } }
---
apiVersion: v1
kind: Service
metadata:
  name: gke-lb
  namespace: shop
  annotations: { dnsop.io/hostname: gke.example.com, dnsop.io/alias: "true" }
spec: { type: LoadBalancer, ports: [{ port: 443 }] }
status: { loadBalancer: { ingress: [{ ip: 34.120.1.2 }] } }
`,
    );
    const { code, out } = await run([file]);
    expect(code).toBe(0);
    const [policy] = (
      JSON.parse(out) as { policies: { records: unknown[]; diagnostics: unknown[] }[] }
    ).policies;
    expect(policy?.records).toEqual([
      expect.objectContaining({
        name: 'gke.example.com',
        type: 'A',
        targets: ['34.120.1.2'],
        alias: false,
      }),
    ]);
    expect(policy?.diagnostics).toContainEqual(
      expect.objectContaining({
        object: 'Service/shop/gke-lb',
        message: expect.stringMatching(/IP address; published as a plain record, never an alias/),
      }),
    );
  });

  it('publishes a GKE Ingress IP to Route 53 as a plain A record, never an alias (seed 004)', async () => {
    const { out } = await run([join(fixtures, 'ingress-gke-route53.yaml')]);
    const [policy] = (
      JSON.parse(out) as {
        policies: { records: unknown[]; diagnostics: { object: string; reason: string }[] }[];
      }
    ).policies;
    expect(policy?.records).toEqual([
      {
        name: 'shop.example.com',
        type: 'A',
        targets: ['34.120.1.2'],
        ttl: 120,
        alias: false,
        source: 'Ingress/web/storefront',
      },
      {
        name: 'www.example.com',
        type: 'A',
        targets: ['34.120.1.2'],
        ttl: 120,
        alias: false,
        source: 'Ingress/web/storefront',
      },
    ]);
    expect(policy?.diagnostics.map((d) => `${d.object} ${d.reason}`)).toEqual([
      'Ingress/web/blog NoLoadBalancerAddress',
      'Ingress/web/storefront AliasNotPossibleForIP',
      'Ingress/web/storefront AliasNotPossibleForIP',
    ]);
  });

  it('merges one name wanted by three Services into one record set naming all three', async () => {
    const { out } = await run([join(fixtures, 'more-sources.yaml')]);
    const [policy] = (JSON.parse(out) as { policies: { records: unknown[] }[] }).policies;
    expect(policy?.records).toContainEqual({
      name: 'lobby.example.com',
      type: 'A',
      targets: ['1.2.3.4', '1.2.3.5', '1.2.3.6'],
      ttl: 300,
      alias: false,
      source: 'Service/games/lobby-a,Service/games/lobby-b,Service/games/lobby-c',
    });
  });

  it('sorts records by name then type, sorts targets, and lists no ownership TXT', async () => {
    const { out } = await run([examples]);
    const { policies } = JSON.parse(out) as {
      policies: { policy: string; records: { name: string; type: string; targets: string[] }[] }[];
    };
    expect(policies.map((p) => p.policy)).toEqual([...policies.map((p) => p.policy)].sort());
    for (const p of policies) {
      const keys = p.records.map((r) => `${r.name} ${r.type}`);
      expect(keys).toEqual([...keys].sort());
      // Ownership TXT records are not listed; a TXT a DNSEndpoint asks for is.
      expect(p.records.every((r) => !r.name.startsWith('_dnsop-'))).toBe(true);
      expect(p.records.every((r) => r.targets.join() === [...r.targets].sort().join())).toBe(true);
    }
  });

  it('shows every HTTPRoute diagnostic reason', async () => {
    const { out } = await run([
      join(fixtures, 'httproute-diagnostics.yaml'),
      join(fixtures, 'httproute-gateway.yaml'),
    ]);
    const reasons = new Set(
      (JSON.parse(out) as { policies: { diagnostics: { reason: string }[] }[] }).policies.flatMap(
        (p) => p.diagnostics.map((d) => d.reason),
      ),
    );
    for (const reason of [
      'NoParentRefs',
      'GatewayNotFound',
      'NotAccepted',
      'StatusLagging',
      'NotAllowedByListeners',
      'NoMatchingListener',
      'NoMatchingHostname',
      'GatewayHasNoAddresses',
    ]) {
      expect(reasons).toContain(reason);
    }
  });

  it('prints a table by default', async () => {
    const { out } = await run([join(fixtures, 'pods.yaml')], 'table');
    expect(out).toMatch(/^POLICY\s+PROVIDER\s+NAME\s+TYPE\s+TTL\s+TARGETS\s+SOURCE/);
    expect(out).toContain('a.workers.example.com');
    expect(out).toContain('NoTargets');
  });

  it.each([
    [
      'broken YAML',
      'bad.yaml',
      'kind: Service\n  metadata: [',
      /bad\.yaml: invalid YAML in document 1/,
    ],
    ['broken JSON', 'bad.json', '{"kind": ', /bad\.json: invalid JSON/],
    [
      'no kind',
      'nokind.yaml',
      'apiVersion: v1\nmetadata: {name: x}\n',
      /nokind\.yaml: document 1: missing "kind"/,
    ],
    [
      'no name',
      'noname.yaml',
      'apiVersion: v1\nkind: Service\nmetadata: {}\n',
      /noname\.yaml: document 1: Service is missing metadata.name/,
    ],
    [
      'policy without provider',
      'policy.yaml',
      'apiVersion: dnsop.io/v1alpha1\nkind: DNSPolicy\nmetadata: {name: p, namespace: shop}\nspec:\n  sources: [{kind: Service}]\n  domains: [example.com]\n  provider: {}\n',
      /policy\.yaml: DNSPolicy shop\/p: spec\.provider: provider must set exactly one of route53, cloudDNS, inMemory\n/,
    ],
  ])(
    'exits 2 on %s with the file and the reason on stderr',
    async (_name, fileName, text, message) => {
      const { code, out, err } = await run([tempFile(fileName, text)]);
      expect(code).toBe(2);
      expect(out).toBe('');
      expect(err).toMatch(message);
    },
  );

  it('exits 2 with a usage error when no -f is given', async () => {
    const { code, out, err } = await run([]);
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err).toMatch(/-f\/--filename is required/);
  });

  it('reports every error of every object and file (file, object, field, reason), then exits 2', async () => {
    const bad = tempFile(
      'bad.yaml',
      `apiVersion: dnsop.io/v1alpha1
kind: DNSPolicy
metadata: { name: p, namespace: shop }
spec:
  sources: [{ kind: Service }]
  domains: [Example.COM]
  interval: abc
  provider: { route53: { regoin: us-east-1 } }
---
apiVersion: dnsop.io/v1alpha1
kind: DNSProbe
metadata: { name: q, namespace: shop }
spec:
  server: { serviceRef: { name: kube-dns } }
  queries: [{ name: kubernetes.default.svc.cluster.local }]
  interval: 100ms
  timeout: 10s
`,
    );
    const broken = tempFile('broken.yaml', 'kind: Service\n  metadata: [');
    const { code, out, err } = await run([bad, broken]);
    expect(code).toBe(2);
    expect(out).toBe('');
    const lines = err.trim().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(
        /bad\.yaml: DNSPolicy shop\/p: spec\.domains\[0\]: .*lower-case DNS name/,
      ),
      expect.stringMatching(
        /bad\.yaml: DNSPolicy shop\/p: spec\.provider\.route53\.regoin: unknown field/,
      ),
      expect.stringMatching(/bad\.yaml: DNSPolicy shop\/p: spec\.interval: .*must be a duration/),
      expect.stringMatching(
        /bad\.yaml: DNSProbe shop\/q: spec\.timeout: timeout must not be longer than interval/,
      ),
      expect.stringMatching(/broken\.yaml: invalid YAML in document 1/),
      'dnsop plan: 5 problems found; nothing planned',
    ]);
  });

  it('exits 2 for a path that does not exist', async () => {
    const { code, err } = await run(['/nonexistent/dnsop-examples']);
    expect(code).toBe(2);
    expect(err).toContain('/nonexistent/dnsop-examples: no such file or directory');
  });
});
