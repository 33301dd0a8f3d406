/**
 * `dnsop plan --current <zone-file>... [--exit-code]` through the CLI: the change set against a
 * Route 53 export or an RFC 1035 zone file, adoption included, and the exit codes a pull-request
 * check relies on.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../main';

const dir = mkdtempSync(join(tmpdir(), 'dnsop-plan-current-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['node', 'dnsop', 'plan', ...argv], {
    stdout: (t) => (out += t),
    stderr: (t) => (err += t),
  });
  return { code, out, err };
}

const manifests = file(
  'shop.yaml',
  `apiVersion: dnsop.io/v1alpha1
kind: DNSPolicy
metadata: { name: public, namespace: shop }
spec:
  sources: [{ kind: Service }]
  domains: [example.com]
  provider: { route53: { region: us-east-1 } }
  adopt: { externalDNS: { ownerId: shop-cluster, txtPrefix: "extdns-" } }
---
apiVersion: v1
kind: Service
metadata:
  name: app
  namespace: shop
  annotations: { external-dns.alpha.kubernetes.io/hostname: app.example.com }
spec: { type: LoadBalancer, selector: { app: app }, ports: [{ port: 80 }] }
status: { loadBalancer: { ingress: [{ ip: 203.0.113.7 }] } }
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
  annotations: { dnsop.io/hostname: web.example.com }
spec: { type: LoadBalancer, selector: { app: web }, ports: [{ port: 80 }] }
status: { loadBalancer: { ingress: [{ ip: 203.0.113.9 }] } }
`,
);

const ext = (owner = 'shop-cluster'): string =>
  `"heritage=external-dns,external-dns/owner=${owner},external-dns/resource=service/shop/app"`;

/** The zone as external-dns v0.16 left it (both TXT formats), plus a record external-dns still wants. */
const route53Export = file(
  'zone.json',
  JSON.stringify(
    {
      ResourceRecordSets: [
        {
          Name: 'example.com.',
          Type: 'NS',
          TTL: 172800,
          ResourceRecords: [{ Value: 'ns-1.awsdns-1.com.' }],
        },
        {
          Name: 'app.example.com.',
          Type: 'A',
          TTL: 300,
          ResourceRecords: [{ Value: '203.0.113.7' }],
        },
        {
          Name: 'extdns-a-app.example.com.',
          Type: 'TXT',
          TTL: 300,
          ResourceRecords: [{ Value: ext() }],
        },
        {
          Name: 'extdns-app.example.com.',
          Type: 'TXT',
          TTL: 300,
          ResourceRecords: [{ Value: ext() }],
        },
        {
          Name: 'legacy.example.com.',
          Type: 'A',
          TTL: 300,
          ResourceRecords: [{ Value: '198.51.100.1' }],
        },
        {
          Name: 'extdns-a-legacy.example.com.',
          Type: 'TXT',
          TTL: 300,
          ResourceRecords: [{ Value: ext() }],
        },
      ],
    },
    null,
    2,
  ),
);

const bindZone = file(
  'example.com.zone',
  `$ORIGIN example.com.
$TTL 300
@               IN SOA ns1 hostmaster ( 1 7200 3600 1209600 300 )
@               IN NS  ns1.example.net.
app             IN A   203.0.113.7
extdns-a-app    IN TXT ${ext()}
extdns-app      IN TXT ${ext()}
legacy          IN A   198.51.100.1
extdns-a-legacy IN TXT ${ext()}
`,
);

/** A zone file holding A records this policy owns (each with its dnsop ownership TXT). */
function ownedZone(...records: [string, string][]): string {
  const lines = records.map(
    ([label, ip]) =>
      `${label} IN A ${ip}\n_dnsop-a.${label} IN TXT "heritage=dnsop,dnsop/owner=shop/public,dnsop/resource=Service/shop/${label}"\n`,
  );
  return `$ORIGIN example.com.\n$TTL 300\n${lines.join('')}`;
}

interface Out {
  policies: {
    policy: string;
    records: { name: string }[];
    diagnostics: { reason: string; object: string }[];
    changes?: {
      create: { name: string; type: string; source: string }[];
      update: {
        name: string;
        type: string;
        from: { targets: string[] };
        to: { targets: string[] };
      }[];
      delete: { name: string }[];
      adopt: { name: string; type: string; targets: string[]; source: string }[];
    };
  }[];
}

describe('dnsop plan --current', () => {
  it.each([
    ['a Route 53 export', route53Export],
    ['an RFC 1035 zone file', bindZone],
  ])(
    'against %s: adopts what external-dns owns, creates the rest, leaves the unwanted',
    async (_what, zone) => {
      const { code, out, err } = await run('-f', manifests, '--current', zone, '-o', 'json');
      expect(err).toBe('');
      expect(code).toBe(0);
      const [policy] = (JSON.parse(out) as Out).policies;
      expect(policy?.changes).toEqual({
        create: [
          expect.objectContaining({
            name: 'web.example.com',
            type: 'A',
            source: 'Service/shop/web',
          }),
        ],
        update: [],
        delete: [],
        adopt: [
          {
            name: 'app.example.com',
            type: 'A',
            targets: ['203.0.113.7'],
            ttl: 300,
            alias: false,
            source: 'Service/shop/app',
          },
        ],
      });
      expect(policy?.records.map((r) => r.name)).toEqual(['app.example.com', 'web.example.com']);
    },
  );

  it('--exit-code: 1 while the policy has changes, 0 once the zone is as planned', async () => {
    expect((await run('-f', manifests, '--current', route53Export, '--exit-code')).code).toBe(1);
    const done = file(
      'done.zone',
      ownedZone(['app', '203.0.113.7'], ['web', '203.0.113.9']) +
        `legacy IN A 198.51.100.1\nextdns-a-legacy IN TXT ${ext()}\n`,
    );
    const result = await run('-f', manifests, '--current', done, '--exit-code', '-o', 'json');
    expect(result.code).toBe(0);
    expect((JSON.parse(result.out) as Out).policies[0]?.changes).toEqual({
      create: [],
      update: [],
      delete: [],
      adopt: [],
    });
  });

  it('lists an update with from and to, and a delete of an owned record no longer wanted', async () => {
    const zone = file(
      'drift.zone',
      ownedZone(['app', '203.0.113.70'], ['web', '203.0.113.9'], ['gone', '203.0.113.5']),
    );
    const { code, out } = await run(
      '-f',
      manifests,
      '--current',
      zone,
      '-o',
      'json',
      '--exit-code',
    );
    expect(code).toBe(1);
    const changes = (JSON.parse(out) as Out).policies[0]?.changes;
    expect(changes?.update).toEqual([
      expect.objectContaining({
        name: 'app.example.com',
        type: 'A',
        from: expect.objectContaining({ targets: ['203.0.113.70'], source: 'Service/shop/app' }),
        to: expect.objectContaining({ targets: ['203.0.113.7'] }),
      }),
    ]);
    expect(changes?.delete).toEqual([
      expect.objectContaining({ name: 'gone.example.com', source: 'Service/shop/gone' }),
    ]);
  });

  it('another external-dns owner keeps its record: no adoption, a diagnostic', async () => {
    const zone = file(
      'other-owner.zone',
      `$ORIGIN example.com.\n$TTL 300\napp IN A 203.0.113.7\nextdns-a-app IN TXT ${ext('cluster-b')}\n`,
    );
    const { out } = await run('-f', manifests, '--current', zone, '-o', 'json');
    const [policy] = (JSON.parse(out) as Out).policies;
    expect(policy?.changes?.adopt).toEqual([]);
    expect(policy?.diagnostics).toContainEqual(
      expect.objectContaining({ object: 'Service/shop/app', reason: 'OwnedByAnotherOwner' }),
    );
  });

  it('prints the changes in the table output too', async () => {
    const { out } = await run('-f', manifests, '--current', bindZone);
    expect(out).toMatch(
      /shop\/public\s+adopt\s+app\.example\.com\s+A\s+203\.0\.113\.7 \(ttl 300\)/,
    );
    expect(out).toMatch(/shop\/public\s+create\s+web\.example\.com\s+A/);
  });

  it('without --current, --exit-code reports the records an empty zone would get', async () => {
    expect((await run('-f', manifests, '--exit-code')).code).toBe(1);
    expect((await run('-f', manifests)).code).toBe(0);
  });

  it.each([
    [
      'a zone file fault',
      'bad.zone',
      '$ORIGIN example.com.\n$TTL 300\n\napp IN A 203.0.113.700\n',
      ':4: "203.0.113.700" is not an IPv4 address',
    ],
    [
      'invalid JSON',
      'bad.json',
      '{\n  "ResourceRecordSets": [\n    {"Name": "a.example.com.",}\n  ]\n}\n',
      ':3: not valid JSON',
    ],
    [
      'a malformed record set',
      'shape.json',
      '{\n  "ResourceRecordSets": [\n    {"Name": "a.example.com.", "Type": "A", "TTL": 300,\n     "ResourceRecords": []}\n  ]\n}\n',
      ':3: a.example.com. A: needs "ResourceRecords" or "AliasTarget"',
    ],
    [
      'no record sets',
      'empty.json',
      '{"HostedZones": []}',
      ':1: a Route 53 export needs a "ResourceRecordSets" list',
    ],
  ])('exits 2 on %s, naming the file, line and reason', async (_what, name, text, reason) => {
    const path = file(name, text);
    const { code, err, out } = await run('-f', manifests, '--current', path, '--exit-code');
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err.startsWith(`dnsop plan: ${path}${reason}`)).toBe(true);
  });

  it('the migration example does what docs/migration-from-external-dns.md says', async () => {
    const examples = join(__dirname, '..', '..', 'docs', 'migration-example');
    const { code, out } = await run(
      '-f',
      join(examples, 'migration-external-dns.yaml'),
      '--current',
      join(examples, 'migration-external-dns.zone'),
      '--exit-code',
      '-o',
      'json',
    );
    expect(code).toBe(1);
    const changes = (JSON.parse(out) as Out).policies[0]?.changes;
    expect(changes?.adopt.map((r) => `${r.name} ${r.type}`)).toEqual([
      'checkout.example.com A',
      'pay.example.com CNAME',
    ]);
    expect(changes?.create.map((r) => r.name)).toEqual(['portal.example.com']);
    expect([...(changes?.update ?? []), ...(changes?.delete ?? [])]).toEqual([]);
  });

  it('exits 2 for a zone file that does not exist', async () => {
    const { code, err } = await run('-f', manifests, '--current', join(dir, 'missing.zone'));
    expect(code).toBe(2);
    expect(err).toContain('missing.zone: cannot read the file');
  });
});
