/**
 * Adoption end to end: a zone populated exactly as external-dns v0.16 populates it (both TXT
 * formats, --txt-prefix=extdns-, --txt-owner-id=shop-cluster: a plain A, an A whose value the
 * policy changes, a wildcard, a CNAME, a Route 53 alias A + AAAA with the pre-#2903 "cname-"
 * TXT, an apex record it could not claim, a record it still manages alone, another owner's
 * record), Services in a real kube-apiserver, and a DNSPolicy adopting it through the controller
 * into moto (Route 53) and into the Cloud DNS fake. While the operator adopts, the zone is read
 * continuously: no record may ever be absent or hold a value other than its old or its new one,
 * external-dns's TXT records may go only for adopted records, and everything else stays as it was.
 */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ChangeResourceRecordSetsCommand,
  CreateHostedZoneCommand,
  Route53Client,
  type ResourceRecordSet,
} from '@aws-sdk/client-route-53';
import { KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import { OAuth2Client } from 'google-auth-library';
import type { DNSPolicy } from '../../operator/api/types';
import { CloudDnsProvider } from '../../operator/records/providers/clouddns';
import { cloudDnsApiFromClient } from '../../operator/records/providers/clouddns-api';
import { Route53Provider } from '../../operator/records/providers/route53';
import { route53ApiFromSdk } from '../../operator/records/providers/route53-api';
import { unescapeRoute53Name } from '../../operator/records/providers/route53-records';
import { DNSPolicyController } from '../../operator/records/reconciler';
import { kubeRequest, MERGE_PATCH } from '../../operator/runtime/kube-http';
import type { DnsopOperator } from '../../operator/runtime/operator';
import { applyObjects, readManifests, readObject } from '../envtest/apply';
import { ControlPlane } from '../envtest/control-plane';
import { MotoServer } from '../envtest/moto';
import { waitFor } from '../envtest/wait';
import { FakeCloudDns, type FakeRrset } from '../fakes/clouddns-server';
import { isChangeBatch, Route53Proxy } from '../fakes/route53-proxy';
import { listRecordSets } from '../support/route53-zone';
import { startOperator } from './operator-fixture';

jest.setTimeout(300_000);

const ROOT = join(__dirname, '..', '..');
const OWNER = 'shop-cluster';
const PREFIX = 'extdns-';
const ELB = 'dualstack.my-lb-1234.us-east-1.elb.amazonaws.com';
const ELB_ZONE = 'Z35SXDOTRQ7X7K';

let plane: ControlPlane;
let api: KubernetesObjectApi;
let operator: DnsopOperator;
let moto: MotoServer;
let proxy: Route53Proxy;
let admin: Route53Client;
let zoneId: string;
let gcp: FakeCloudDns;

/** One record set as the zone holds it, in a form both providers' listings reduce to. */
interface Rec {
  readonly name: string;
  readonly type: string;
  /** Sorted values, or the alias target. */
  readonly value: string;
}
const id = (r: Pick<Rec, 'name' | 'type'>): string => `${r.name} ${r.type}`;

const extTxt = (owner = OWNER, resource = 'service/shop/x'): string =>
  `"heritage=external-dns,external-dns/owner=${owner},external-dns/resource=${resource}"`;

/** What external-dns v0.16 writes for one record: the record and its TXT records, one batch. */
function externalDns(
  name: string,
  type: 'A' | 'AAAA' | 'CNAME',
  value: string | { alias: string },
  owner = OWNER,
): ResourceRecordSet[] {
  const [first, ...rest] = name.split('.');
  const domain = rest.join('.');
  const record: ResourceRecordSet =
    typeof value === 'string'
      ? { Name: name, Type: type, TTL: 300, ResourceRecords: [{ Value: value }] }
      : {
          Name: name,
          Type: type,
          AliasTarget: { DNSName: value.alias, HostedZoneId: ELB_ZONE, EvaluateTargetHealth: true },
        };
  // An alias A was claimed by a "cname-" TXT before external-dns #2903.
  const typed = typeof value === 'string' || type !== 'A' ? type.toLowerCase() : 'cname';
  const txt = (txtName: string): ResourceRecordSet => ({
    Name: txtName,
    Type: 'TXT',
    TTL: 300,
    ResourceRecords: [{ Value: extTxt(owner, `service/shop/${first}`) }],
  });
  const out = [record, txt(`${PREFIX}${typed}-${first}.${domain}`)];
  if (type !== 'AAAA') out.push(txt(`${PREFIX}${first}.${domain}`));
  return out;
}

/** The zone external-dns left behind, and what each Service makes dnsop want. */
const ZONE_BEFORE: ResourceRecordSet[][] = [
  externalDns('app.example.com', 'A', '192.0.2.10'),
  externalDns('moved.example.com', 'A', '192.0.2.20'),
  externalDns('*.apps.example.com', 'A', '192.0.2.30'),
  externalDns('www.example.com', 'CNAME', 'lb.example.net'),
  [
    ...externalDns('lb.example.com', 'A', { alias: ELB }),
    ...externalDns('lb.example.com', 'AAAA', { alias: ELB }),
  ],
  // external-dns could not write "extdns-a-example.com" (outside the zone): the apex is unowned.
  [{ Name: 'example.com', Type: 'A', TTL: 300, ResourceRecords: [{ Value: '192.0.2.40' }] }],
  // Still external-dns's alone: no Service of the policy wants it.
  externalDns('other.example.com', 'A', '192.0.2.50'),
  // Another external-dns owner's record, wanted by the policy too.
  externalDns('team-b.example.com', 'A', '192.0.2.60', 'cluster-b'),
];

interface Wanted {
  readonly service: string;
  readonly hostname: string;
  readonly ingress: { ip?: string; hostname?: string };
}
const SERVICES: Wanted[] = [
  { service: 'app', hostname: 'app.example.com', ingress: { ip: '192.0.2.10' } },
  { service: 'moved', hostname: 'moved.example.com', ingress: { ip: '192.0.2.21' } },
  { service: 'wild', hostname: '*.apps.example.com', ingress: { ip: '192.0.2.30' } },
  { service: 'www', hostname: 'www.example.com', ingress: { hostname: 'lb.example.net' } },
  { service: 'lb', hostname: 'lb.example.com', ingress: { hostname: ELB } },
  { service: 'apex', hostname: 'example.com', ingress: { ip: '192.0.2.40' } },
  { service: 'team-b', hostname: 'team-b.example.com', ingress: { ip: '192.0.2.60' } },
];

const ADOPTED = [
  'app.example.com A',
  'moved.example.com A',
  '*.apps.example.com A',
  'www.example.com CNAME',
  'lb.example.com A',
  'lb.example.com AAAA',
];
/** Values a record may hold during the switch: its old one, then (where wanted) its new one. */
const ALLOWED: Record<string, readonly string[]> = {
  'app.example.com A': ['192.0.2.10'],
  'moved.example.com A': ['192.0.2.20', '192.0.2.21'],
  '*.apps.example.com A': ['192.0.2.30'],
  'www.example.com CNAME': ['lb.example.net'],
  'lb.example.com A': [`alias:${ELB}`],
  'lb.example.com AAAA': [`alias:${ELB}`],
  'example.com A': ['192.0.2.40'],
  'other.example.com A': ['192.0.2.50'],
  'team-b.example.com A': ['192.0.2.60'],
};
/** external-dns's TXT records that must outlive the adoption. */
const KEPT_TXT = [
  `${PREFIX}a-other.example.com`,
  `${PREFIX}other.example.com`,
  `${PREFIX}a-team-b.example.com`,
  `${PREFIX}team-b.example.com`,
];

function fromRoute53(rrs: ResourceRecordSet): Rec {
  const value = rrs.AliasTarget
    ? `alias:${(rrs.AliasTarget.DNSName ?? '').toLowerCase().replace(/\.$/, '')}`
    : (rrs.ResourceRecords ?? [])
        .map((r) => (rrs.Type === 'CNAME' ? (r.Value ?? '').replace(/\.$/, '') : (r.Value ?? '')))
        .sort()
        .join(',');
  return { name: unescapeRoute53Name(rrs.Name ?? ''), type: rrs.Type ?? '', value };
}

async function route53Zone(): Promise<Rec[]> {
  return (await listRecordSets(admin, zoneId)).map(fromRoute53);
}

/** Counts what every snapshot of the zone showed while the operator adopted. */
class SwitchWatch {
  snapshots = 0;
  /** Snapshots that showed the zone before any adoption (no dnsop ownership record yet). */
  before = 0;
  absent: string[] = [];
  wrong: string[] = [];
  txtLost: string[] = [];
  #before = new Map<string, string>();

  constructor(before: readonly Rec[]) {
    for (const r of before) this.#before.set(id(r), r.value);
  }

  check(zone: readonly Rec[]): void {
    this.snapshots++;
    if (!zone.some((r) => r.name.startsWith('_dnsop-'))) this.before++;
    const now = new Map(zone.map((r) => [id(r), r.value]));
    for (const [key, allowed] of Object.entries(ALLOWED)) {
      const value = now.get(key);
      if (value === undefined) this.absent.push(`${key} (snapshot ${this.snapshots})`);
      else if (!allowed.includes(value)) this.wrong.push(`${key} = ${value}`);
    }
    for (const name of KEPT_TXT) {
      if (now.get(`${name} TXT`) !== this.#before.get(`${name} TXT`)) this.txtLost.push(name);
    }
  }
}

/** Reads the zone continuously until `done` holds (then twice more), checking every snapshot. */
async function watchSwitch(
  read: () => Promise<Rec[]>,
  done: (zone: readonly Rec[]) => boolean,
): Promise<SwitchWatch> {
  const watch = new SwitchWatch(await read());
  const deadline = Date.now() + 120_000;
  let after = 0;
  while (after < 3) {
    const zone = await read();
    watch.check(zone);
    if (done(zone)) after++;
    if (Date.now() > deadline) throw new Error('the adoption did not finish within 120 s');
    await sleep(5);
  }
  return watch;
}

const adoptedIn = (
  zone: readonly Rec[],
  prefixOf: (name: string, type: string) => string[],
): boolean =>
  ADOPTED.every((key) => {
    const [name, type] = key.split(' ') as [string, string];
    const names = new Set(zone.map(id));
    return (
      prefixOf(name, type).every((txt) => !names.has(`${txt} TXT`)) &&
      names.has(`${dnsopTxt(name, type)} TXT`)
    );
  }) && zone.some((r) => id(r) === 'moved.example.com A' && r.value === '192.0.2.21');

function dnsopTxt(name: string, type: string): string {
  const label = `_dnsop-${type.toLowerCase()}`;
  return name.startsWith('*.') ? `${label}-wildcard.${name.slice(2)}` : `${label}.${name}`;
}

/** external-dns's TXT names for a record of ZONE_BEFORE. */
function extTxtNames(name: string, type: string): string[] {
  const [first, ...rest] = name.split('.');
  const domain = rest.join('.');
  const typed = name === 'lb.example.com' && type === 'A' ? 'cname' : type.toLowerCase();
  const out = [`${PREFIX}${typed}-${first}.${domain}`];
  if (type !== 'AAAA') out.push(`${PREFIX}${first}.${domain}`);
  return out;
}

async function services(namespace: string, domain: string): Promise<void> {
  for (const s of SERVICES) {
    await api.create({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: s.service,
        namespace,
        annotations: {
          'external-dns.alpha.kubernetes.io/hostname': s.hostname.replace(/example\.com$/, domain),
        },
      },
      spec: { type: 'LoadBalancer', selector: { app: s.service }, ports: [{ port: 80 }] },
    } as KubernetesObject);
    await kubeRequest(plane.kubeConfig, {
      method: 'PATCH',
      path: `/api/v1/namespaces/${namespace}/services/${s.service}/status`,
      contentType: MERGE_PATCH,
      body: { status: { loadBalancer: { ingress: [s.ingress] } } },
    });
  }
}

function policy(
  namespace: string,
  domain: string,
  provider: DNSPolicy['spec']['provider'],
): KubernetesObject {
  return {
    apiVersion: 'dnsop.io/v1alpha1',
    kind: 'DNSPolicy',
    metadata: { name: 'public', namespace },
    spec: {
      sources: [{ kind: 'Service' }],
      domains: [domain],
      provider,
      adopt: { externalDNS: { ownerId: OWNER, txtPrefix: PREFIX } },
    },
  } as KubernetesObject;
}

async function diagnostics(namespace: string): Promise<{ object: string; reason: string }[]> {
  const live = await readObject<DNSPolicy>(plane.kubeConfig, {
    apiVersion: 'dnsop.io/v1alpha1',
    kind: 'DNSPolicy',
    name: 'public',
    namespace,
  });
  return live?.status?.diagnostics ?? [];
}

beforeAll(async () => {
  [plane, moto, gcp] = await Promise.all([
    ControlPlane.start(),
    MotoServer.start(),
    FakeCloudDns.start({ project: 'dnsop-test' }),
  ]);
  proxy = await Route53Proxy.start(moto.endpoint);
  admin = new Route53Client({
    region: moto.region,
    endpoint: moto.endpoint,
    credentials: moto.credentials,
  });
  const zone = await admin.send(
    new CreateHostedZoneCommand({ Name: 'example.com', CallerReference: `adopt-${Date.now()}` }),
  );
  zoneId = (zone.HostedZone?.Id ?? '').replace('/hostedzone/', '');
  for (const batch of ZONE_BEFORE) {
    await admin.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        ChangeBatch: {
          Changes: batch.map((rrs) => ({ Action: 'CREATE', ResourceRecordSet: rrs })),
        },
      }),
    );
  }
  // The same zone, as external-dns's Google provider leaves it, under example.org.
  gcp.addZone('example-org', 'example.org');
  for (const rrs of ZONE_BEFORE.flat()) {
    // Cloud DNS has no alias records: the load balancer's name is left out there.
    if (rrs.Name?.includes('lb.example.com')) continue;
    gcp.put('example-org', {
      name: `${rrs.Name?.replace(/example\.com$/, 'example.org')}.`,
      type: rrs.Type ?? '',
      ttl: rrs.TTL ?? 300,
      rrdatas: (rrs.ResourceRecords ?? []).map((r) =>
        rrs.Type === 'CNAME' ? `${r.Value ?? ''}.` : (r.Value ?? ''),
      ),
    });
  }
  const kc = plane.kubeConfig;
  api = KubernetesObjectApi.makeApiClient(kc);
  const crds = readManifests(join(ROOT, 'crds')).filter(
    (o) => o.kind === 'CustomResourceDefinition',
  );
  await applyObjects(kc, [
    ...crds,
    ...['shop', 'gcp'].flatMap((ns) => [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: ns } },
    ]),
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'aws-credentials', namespace: 'shop' },
      stringData: {
        AWS_ACCESS_KEY_ID: moto.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: moto.credentials.secretAccessKey,
      },
    } as KubernetesObject,
  ]);
  await services('shop', 'example.com');
  await services('gcp', 'example.org');
  const auth = new OAuth2Client();
  auth.setCredentials({ access_token: gcp.token, expiry_date: Date.now() + 3_600_000 });
  const controller = new DNSPolicyController({
    syncSpacingMs: 100,
    providerFactory: (spec, ctx) =>
      spec.cloudDNS
        ? Promise.resolve(
            new CloudDnsProvider({
              api: cloudDnsApiFromClient({
                project: spec.cloudDNS.project,
                endpoint: gcp.endpoint,
                authClient: auth,
              }),
              spec: spec.cloudDNS,
              domains: ctx.domains,
              pollIntervalMs: 20,
            }),
          )
        : Promise.resolve(
            new Route53Provider({
              api: route53ApiFromSdk({
                region: moto.region,
                endpoint: proxy.endpoint,
                credentials: moto.credentials,
              }),
              spec: spec.route53!,
              domains: ctx.domains,
              // Small batches, so that a change not tied to its record's batch would be seen apart.
              limits: { maxChanges: 5, maxRecords: 5, maxValueChars: 32_000 },
            }),
          ),
  });
  ({ operator } = await startOperator(kc, [controller], {
    config: { cacheResync: '10m', trustedNamespaces: 'shop,gcp' },
  }));
});

afterAll(async () => {
  await operator?.shutdown();
  admin?.destroy();
  await proxy?.stop();
  await Promise.all([plane?.stop(), moto?.stop(), gcp?.stop()]);
});

/** The Route 53 change batches the operator sent: each change's action, name and type. */
function sentBatches(): { action: string; name: string; type: string }[][] {
  return proxy.requests
    .filter((r) => isChangeBatch(r.method, r.path, r.body) && r.status === 200)
    .map((r) =>
      [...r.body.matchAll(/<Change>([\s\S]*?)<\/Change>/g)].map((m) => {
        const change = m[1] ?? '';
        const field = (tag: string): string =>
          new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(change)?.[1] ?? '';
        return {
          action: field('Action'),
          name: unescapeRoute53Name(field('Name')),
          type: field('Type'),
        };
      }),
    );
}

describe('adopting a zone external-dns populated, Route 53 (moto)', () => {
  let watch: SwitchWatch;

  beforeAll(async () => {
    const before = await route53Zone();
    expect(before.map(id)).toEqual(expect.arrayContaining(Object.keys(ALLOWED)));
    const watching = watchSwitch(route53Zone, (zone) => adoptedIn(zone, extTxtNames));
    await api.create(
      policy('shop', 'example.com', {
        route53: {
          region: moto.region,
          endpoint: proxy.endpoint,
          zoneType: 'any',
          aliasMode: 'Auto',
          credentialsSecretRef: { name: 'aws-credentials' },
        },
      }),
    );
    watch = await watching;
    console.log(
      `adoption switch (Route 53): ${watch.snapshots} snapshots polled (${watch.before} before the first change, ${sentBatches().length} change batches), records ever absent: ${watch.absent.length}, ever wrong: ${watch.wrong.length}`,
    );
  });

  it('no record was ever absent or wrong while the operator adopted', () => {
    // The watch began before the policy existed and ended after the last adoption.
    expect(watch.before).toBeGreaterThanOrEqual(1);
    expect(watch.snapshots - watch.before).toBeGreaterThanOrEqual(3);
    expect(watch.absent).toEqual([]);
    expect(watch.wrong).toEqual([]);
  });

  it('external-dns TXT records are gone only for adopted records', async () => {
    expect(watch.txtLost).toEqual([]);
    const names = new Set((await route53Zone()).map(id));
    for (const key of ADOPTED) {
      const [name, type] = key.split(' ') as [string, string];
      for (const txt of extTxtNames(name, type)) expect(names.has(`${txt} TXT`)).toBe(false);
      expect(names.has(`${dnsopTxt(name, type)} TXT`)).toBe(true);
    }
    for (const txt of KEPT_TXT) expect(names.has(`${txt} TXT`)).toBe(true);
    expect(names.has(`${dnsopTxt('other.example.com', 'A')} TXT`)).toBe(false);
    expect(names.has(`${dnsopTxt('team-b.example.com', 'A')} TXT`)).toBe(false);
  });

  it('each adoption went in one change batch, and no adopted record was deleted or created', () => {
    const batches = sentBatches();
    for (const key of ADOPTED) {
      const [name, type] = key.split(' ') as [string, string];
      const touching = batches.filter((b) =>
        b.some((c) => c.name === dnsopTxt(name, type) && c.action === 'CREATE'),
      );
      expect(touching).toHaveLength(1);
      const batch = touching[0]!;
      for (const txt of extTxtNames(name, type)) {
        expect(batch).toContainEqual({ action: 'DELETE', name: txt, type: 'TXT' });
      }
    }
    const recordChanges = batches.flat().filter((c) => c.type !== 'TXT');
    expect(recordChanges).toEqual([{ action: 'UPSERT', name: 'moved.example.com', type: 'A' }]);
    // The value update travelled with its adoption.
    const moved = batches.find((b) =>
      b.some((c) => c.name === 'moved.example.com' && c.type === 'A'),
    );
    expect(moved).toContainEqual({
      action: 'CREATE',
      name: dnsopTxt('moved.example.com', 'A'),
      type: 'TXT',
    });
  });

  it('status says why the apex and the other owner’s record were left alone', async () => {
    const diags = await waitFor('policy diagnostics', async () => {
      const list = await diagnostics('shop');
      return list.length >= 2 ? list : undefined;
    });
    expect(diags).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ object: 'Service/shop/apex', reason: 'NotOwned' }),
        expect.objectContaining({ object: 'Service/shop/team-b', reason: 'OwnedByAnotherOwner' }),
      ]),
    );
  });
});

describe('adopting the same zone in Cloud DNS (fake)', () => {
  const ZONE = 'example-org';
  const org = (s: string): string => s.replace(/example\.com$/, 'example.org');
  const cloudZone = (): Promise<Rec[]> =>
    Promise.resolve(
      gcp.rrsets(ZONE).map((r: FakeRrset) => ({
        name: r.name.replace(/\.$/, ''),
        type: r.type,
        value: [...(r.rrdatas ?? [])]
          .map((d) => (r.type === 'CNAME' ? d.replace(/\.$/, '') : d))
          .sort()
          .join(','),
      })),
    );
  const adoptedHere = ADOPTED.filter((k) => !k.startsWith('lb.'));

  it('adopts in place, one atomic change per record, unwanted records untouched', async () => {
    const toCom = (zone: readonly Rec[]): Rec[] =>
      zone.map((r) => ({ ...r, name: r.name.replace(/example\.org$/, 'example.com') }));
    const watching = watchSwitch(
      async () => toCom(await cloudZone()),
      (zone) =>
        adoptedHere.every((key) => {
          const [name, type] = key.split(' ') as [string, string];
          return zone.some((r) => id(r) === `${dnsopTxt(name, type)} TXT`);
        }),
    );
    await api.create(
      policy('gcp', 'example.org', {
        cloudDNS: { project: 'dnsop-test', managedZones: [ZONE], endpoint: gcp.endpoint },
      }),
    );
    const watch = await watching;
    console.log(
      `adoption switch (Cloud DNS): ${watch.snapshots} snapshots polled, records ever absent: ${watch.absent.filter((a) => !a.startsWith('lb.')).length}`,
    );
    expect(watch.absent.filter((a) => !a.startsWith('lb.'))).toEqual([]);
    expect(watch.wrong).toEqual([]);
    expect(watch.txtLost).toEqual([]);
    for (const key of adoptedHere) {
      const [name, type] = key.split(' ') as [string, string];
      const changes = gcp
        .acceptedChanges(ZONE)
        .filter((c) => c.additions.some((a) => a.name === `${org(dnsopTxt(name, type))}.`));
      expect(changes).toHaveLength(1);
      const deleted = changes[0]!.deletions.map((d) => d.name);
      for (const txt of extTxtNames(name, type)) expect(deleted).toContain(`${org(txt)}.`);
      // The record itself is never deleted, except as the old half of an in-place update.
      const record = (r: FakeRrset): boolean => r.name === `${org(name)}.` && r.type === type;
      const replaced = changes[0]!.deletions.filter(record).length;
      expect(replaced).toBe(key.startsWith('moved.') ? 1 : 0);
      expect(changes[0]!.additions.filter(record)).toHaveLength(replaced);
    }
  });
});
