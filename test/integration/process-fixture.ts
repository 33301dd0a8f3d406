/**
 * What the process-level tests share: a real control plane reached through a fault-injecting
 * proxy (the operator's only way to the API server), moto as Route 53 behind the recording
 * Route 53 proxy, a hosted zone, and helpers that read what a user would look at: the records in
 * the zone, the DELETEs the operator sent, the DNSPolicy's conditions, the Lease.
 */
import { join } from 'node:path';
import { CreateHostedZoneCommand, Route53Client } from '@aws-sdk/client-route-53';
import { KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import type { DNSPolicy } from '../../operator/api/types';
import { kubeRequest, MERGE_PATCH } from '../../operator/runtime/kube-http';
import { ApiProxy } from '../envtest/api-proxy';
import { applyObjects, readManifests, readObject } from '../envtest/apply';
import { ControlPlane } from '../envtest/control-plane';
import { MotoServer } from '../envtest/moto';
import { Route53Proxy, isChangeBatch } from '../fakes/route53-proxy';
import { awsCredentialsSecret, listRecordSets } from '../support/route53-zone';

const ROOT = join(__dirname, '..', '..');
export const NS = 'shop';

export interface ProcessCluster {
  readonly plane: ControlPlane;
  readonly api: KubernetesObjectApi;
  readonly apiProxy: ApiProxy;
  readonly moto: MotoServer;
  readonly route53: Route53Proxy;
  readonly r53: Route53Client;
  readonly zoneId: string;
  stop(): Promise<void>;
}

export async function startProcessCluster(): Promise<ProcessCluster> {
  const [plane, moto] = await Promise.all([ControlPlane.start(), MotoServer.start()]);
  const [apiProxy, route53] = await Promise.all([
    ApiProxy.start(plane),
    Route53Proxy.start(moto.endpoint),
  ]);
  const r53 = new Route53Client({
    region: moto.region,
    endpoint: moto.endpoint,
    credentials: moto.credentials,
  });
  const zone = await r53.send(
    new CreateHostedZoneCommand({ Name: 'example.com', CallerReference: `p-${Date.now()}` }),
  );
  const zoneId = (zone.HostedZone?.Id ?? '').replace('/hostedzone/', '');
  const crds = readManifests(join(ROOT, 'crds')).filter(
    (o) => o.kind === 'CustomResourceDefinition',
  );
  await applyObjects(plane.kubeConfig, [
    ...crds,
    ...[NS, 'dnsop-system'].map((name) => ({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name },
    })),
    awsCredentialsSecret(NS, 'aws-credentials', moto.credentials),
  ]);
  return {
    plane,
    api: KubernetesObjectApi.makeApiClient(plane.kubeConfig),
    apiProxy,
    moto,
    route53,
    r53,
    zoneId,
    stop: async () => {
      r53.destroy();
      await Promise.all([apiProxy.stop(), route53.stop()]);
      await Promise.all([plane.stop(), moto.stop()]);
    },
  };
}

/** Flags for `dnsop run` against this cluster (through the API proxy), short lease timings. */
export function operatorFlags(c: ProcessCluster, identity: string): string[] {
  return [
    '--kubeconfig',
    c.apiProxy.kubeconfigPath,
    '--leader-elect',
    '--leader-election-namespace',
    'dnsop-system',
    '--identity',
    identity,
    '--lease-duration',
    '6s',
    '--renew-deadline',
    '4s',
    '--retry-period',
    '1s',
    '--trusted-namespaces',
    `${NS},dnsop-system`,
    '--debounce',
    '100ms',
  ];
}

export function route53Policy(
  c: ProcessCluster,
  name: string,
  spec: Record<string, unknown> = {},
): KubernetesObject {
  return {
    apiVersion: 'dnsop.io/v1alpha1',
    kind: 'DNSPolicy',
    metadata: { name, namespace: NS },
    spec: {
      sources: [{ kind: 'Service' }],
      domains: ['example.com'],
      provider: {
        route53: {
          region: c.moto.region,
          endpoint: c.route53.endpoint,
          credentialsSecretRef: { name: 'aws-credentials' },
        },
      },
      ...spec,
    },
  } as KubernetesObject;
}

/** A LoadBalancer Service whose status has an IP: one A record `<name>.example.com`. */
export async function loadBalancer(c: ProcessCluster, name: string, ip: string): Promise<void> {
  await c.api.create({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace: NS,
      annotations: { 'dnsop.io/hostname': `${name}.example.com` },
    },
    spec: { type: 'LoadBalancer', selector: { app: name }, ports: [{ port: 80 }] },
  } as KubernetesObject);
  await patchStatus(c, `/api/v1/namespaces/${NS}/services/${name}`, {
    loadBalancer: { ingress: [{ ip }] },
  });
}

export async function patchStatus(c: ProcessCluster, path: string, status: unknown): Promise<void> {
  await kubeRequest(c.plane.kubeConfig, {
    method: 'PATCH',
    path: `${path}/status`,
    contentType: MERGE_PATCH,
    body: { status },
  });
}

/** The A records in the zone, as "name ip" (trailing dots dropped), sorted. */
export async function aRecords(c: ProcessCluster): Promise<string[]> {
  return (await listRecordSets(c.r53, c.zoneId))
    .filter((r) => r.Type === 'A')
    .map(
      (r) =>
        `${(r.Name ?? '').replace(/\.$/, '')} ${(r.ResourceRecords ?? []).map((v) => v.Value).join(',')}`,
    )
    .sort();
}

/** DELETE actions the operator sent to Route 53 (accepted or not) since the proxy started. */
export function deletesSent(c: ProcessCluster, name?: string): number {
  return c.route53.requests
    .filter((r) => isChangeBatch(r.method, r.path, r.body))
    .flatMap((r) => r.body.split('<Change>').slice(1))
    .filter((change) => change.includes('<Action>DELETE</Action>'))
    .filter((change) => name === undefined || change.includes(`<Name>${name}`)).length;
}

export async function policyCondition(
  c: ProcessCluster,
  name: string,
  type: string,
): Promise<{ status: string; reason: string; message: string } | undefined> {
  const policy = await readObject<DNSPolicy & KubernetesObject>(c.plane.kubeConfig, {
    apiVersion: 'dnsop.io/v1alpha1',
    kind: 'DNSPolicy',
    namespace: NS,
    name,
  });
  return policy?.status?.conditions?.find((cond) => cond.type === type);
}

export async function leaseHolder(c: ProcessCluster): Promise<string | null | undefined> {
  const lease = await kubeRequest<{ spec?: { holderIdentity?: string | null } }>(
    c.plane.kubeConfig,
    {
      method: 'GET',
      path: '/apis/coordination.k8s.io/v1/namespaces/dnsop-system/leases/dnsop-leader',
    },
  );
  return lease.spec?.holderIdentity;
}
