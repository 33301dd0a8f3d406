/**
 * The envtest harness itself: real etcd, kube-apiserver, kube-controller-manager, CoreDNS and moto
 * on loopback. Each test checks one promise the other integration tests rely on.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

import {
  CreateHostedZoneCommand,
  ListHostedZonesCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type KubernetesObject,
  type V1PodDisruptionBudget,
  type V1Pod,
} from '@kubernetes/client-node';

import {
  applyFiles,
  applyYaml,
  hasCondition,
  readObject,
  refOf,
  waitForDeletion,
  waitForObject,
} from '../envtest/apply';
import { ControlPlane } from '../envtest/control-plane';
import { coreDnsReplicaSetName, CoreDnsCluster } from '../envtest/coredns-cluster';
import { queryA, queryATcp } from '../envtest/dns-query';
import { argoHealthOf, kstatusOf } from '../envtest/health';
import { MotoServer } from '../envtest/moto';
import { waitFor } from '../envtest/wait';

jest.setTimeout(120_000);

const repoRoot = join(__dirname, '..', '..');

const widgetCrd = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: { name: widgets.envtest.dnsop.io }
spec:
  group: envtest.dnsop.io
  scope: Namespaced
  names: { plural: widgets, singular: widget, kind: Widget, listKind: WidgetList }
  versions:
    - name: v1
      served: true
      storage: true
      subresources: { status: {} }
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec: { type: object, properties: { size: { type: integer } } }
            status: { type: object, properties: { observedSize: { type: integer } } }
`;

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('envtest control plane with CoreDNS', () => {
  let plane: ControlPlane;
  let dns: CoreDnsCluster;
  let kc: KubeConfig;
  let core: CoreV1Api;

  beforeAll(async () => {
    plane = await ControlPlane.start({ controllerManager: true });
    kc = plane.kubeConfig;
    core = kc.makeApiClient(CoreV1Api);
    dns = await CoreDnsCluster.start(plane, { replicas: 2, pdbMinAvailable: 1 });
  });

  afterAll(async () => {
    await dns?.stop();
    await plane?.stop();
  });

  it('resolves a Service created in the API server through a CoreDNS pod and the kube-dns ClusterIP', async () => {
    const svc = await core.createNamespacedService({
      namespace: 'default',
      body: {
        metadata: { name: 'web' },
        spec: { selector: { app: 'web' }, ports: [{ port: 80 }] },
      },
    });
    const clusterIp = svc.spec!.clusterIP!;
    expect(clusterIp).toMatch(/^127\./);
    const [pod] = dns.readyPods();
    await waitFor('web.default resolves through a pod', async () => {
      const r = await queryA(pod!.address, 'web.default.svc.cluster.local');
      return r.ok && r.addresses.includes(clusterIp) ? true : undefined;
    });
    const viaService = await queryA(dns.serviceAddress, 'web.default.svc.cluster.local');
    expect(viaService).toEqual({ ok: true, addresses: [clusterIp] });
    expect(await queryATcp(dns.serviceAddress, 'web.default.svc.cluster.local')).toEqual({
      ok: true,
      addresses: [clusterIp],
    });
    expect(await queryA(dns.serviceAddress, 'missing.default.svc.cluster.local')).toEqual({
      ok: false,
      code: 'ENOTFOUND',
    });
    expect(await queryA(dns.serviceAddress, 'www.upstream.test')).toEqual({
      ok: true,
      addresses: ['127.0.0.1'],
    });
  });

  it('bumps metadata.generation on a spec change but not on a status patch', async () => {
    await applyYaml(kc, widgetCrd);
    const [created] = await applyYaml(
      kc,
      'apiVersion: envtest.dnsop.io/v1\nkind: Widget\nmetadata: { name: w, namespace: default }\nspec: { size: 1 }\n',
    );
    expect(created!.metadata!.generation).toBe(1);
    const [bumped] = await applyYaml(
      kc,
      'apiVersion: envtest.dnsop.io/v1\nkind: Widget\nmetadata: { name: w, namespace: default }\nspec: { size: 2 }\n',
    );
    expect(bumped!.metadata!.generation).toBe(2);
    const custom = kc.makeApiClient(CustomObjectsApi);
    const patched = (await custom.patchNamespacedCustomObjectStatus(
      {
        group: 'envtest.dnsop.io',
        version: 'v1',
        namespace: 'default',
        plural: 'widgets',
        name: 'w',
        body: { status: { observedSize: 2 } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    )) as KubernetesObject & { status?: { observedSize?: number } };
    expect(patched.status?.observedSize).toBe(2);
    expect(patched.metadata!.generation).toBe(2);
  });

  it('judges live objects as kstatus and Argo CD do (the health checker)', async () => {
    await applyYaml(kc, widgetCrd);
    const [w] = await applyYaml(
      kc,
      'apiVersion: envtest.dnsop.io/v1\nkind: Widget\nmetadata: { name: judged, namespace: default }\nspec: { size: 1 }\n',
    );
    const live = (await readObject(kc, refOf(w!)))!;
    const stalled = {
      ...live,
      status: {
        observedGeneration: live.metadata!.generation,
        conditions: [
          { type: 'Stalled', status: 'True', reason: 'Broken', message: 'cannot go on' },
        ],
      },
    };
    const lagging = { ...live, status: { observedGeneration: 0 } };
    expect((await kstatusOf([live, stalled, lagging])).map((v) => v.status)).toEqual([
      'Current', // kstatus cannot tell a CR with no status from a healthy one
      'Failed',
      'InProgress',
    ]);
    const script = [
      'local hs = {}',
      'if obj.status == nil then hs.status = "Progressing"; hs.message = "no status"; return hs end',
      'hs.status = "Degraded"; hs.message = obj.status.conditions[1].message .. " " .. obj.spec.size',
      'return hs',
    ].join('\n');
    expect(await argoHealthOf(script, [live, stalled])).toEqual([
      { status: 'Progressing', message: 'no status' },
      { status: 'Degraded', message: 'cannot go on 1' },
    ]);
    // Argo CD opens no string library for argocd-cm health scripts: a script using it fails there.
    const [noString] = await argoHealthOf('return { status = string.upper("healthy") }', [live]);
    expect(noString!.status).toBe('Unknown');
    expect(noString!.error).toMatch(/string|upper/);
  });

  it('applies the Gateway API CRDs and the project CRDs', async () => {
    const gatewayCrds = await applyFiles(kc, plane.tools.gatewayApiCrdFiles);
    expect(gatewayCrds.map((c) => c.metadata!.name)).toEqual(
      expect.arrayContaining([
        'gateways.gateway.networking.k8s.io',
        'httproutes.gateway.networking.k8s.io',
      ]),
    );
    const crdDir = join(repoRoot, 'crds');
    if (existsSync(crdDir) && readdirSync(crdDir).some((f) => f.endsWith('.yaml'))) {
      const ours = await applyFiles(kc, [crdDir]);
      for (const crd of ours) {
        expect(
          hasCondition(
            (await readObject(kc, {
              apiVersion: crd.apiVersion!,
              kind: crd.kind!,
              name: crd.metadata!.name!,
            }))!,
            'Established',
            'True',
          ),
        ).toBe(true);
      }
    }
  });

  it('replaces an evicted CoreDNS pod: its process is killed and the ReplicaSet pod gets a new one', async () => {
    await waitForObject<V1PodDisruptionBudget>(
      kc,
      {
        apiVersion: 'policy/v1',
        kind: 'PodDisruptionBudget',
        name: coreDnsReplicaSetName,
        namespace: dns.namespace,
      },
      (pdb) => pdb.status?.disruptionsAllowed === 1,
    );
    const [victim] = dns.readyPods();
    const victimPid = victim!.pid!;
    await dns.evict(victim!.podName);

    await waitFor('the evicted pod process to exit', () =>
      processExists(victimPid) ? undefined : true,
    );
    await waitForDeletion(kc, {
      apiVersion: 'v1',
      kind: 'Pod',
      name: victim!.podName,
      namespace: dns.namespace,
    });
    const replaced = await dns.waitForPods(
      'a replacement pod',
      (ready) => ready.length === 2 && ready.every((p) => p.podName !== victim!.podName),
    );
    const replacement = replaced.find((p) => p.ip !== victim!.ip)!;
    expect(replacement.pid).toBeDefined();
    expect(processExists(replacement.pid!)).toBe(true);

    const podObject = await core.readNamespacedPod({
      name: replacement.podName,
      namespace: dns.namespace,
    });
    expect(podObject.status?.podIP).toBe(replacement.ip);
    expect(hasCondition(podObject, 'Ready', 'True')).toBe(true);
    const owner = podObject.metadata?.ownerReferences?.find((o) => o.controller === true);
    expect(owner).toMatchObject({ kind: 'ReplicaSet', name: coreDnsReplicaSetName });
    const rs = await kc
      .makeApiClient(AppsV1Api)
      .readNamespacedReplicaSet({ name: coreDnsReplicaSetName, namespace: dns.namespace });
    expect(owner?.uid).toBe(rs.metadata?.uid);
    expect((await queryA(replacement.address, 'kubernetes.default.svc.cluster.local')).ok).toBe(
      true,
    );
  });

  it('injects faults into one CoreDNS pod: hang, dead upstream, erratic, crash', async () => {
    const [pod] = dns.readyPods();
    const target = pod!;

    target.pause();
    expect(await queryA(target.address, 'kubernetes.default.svc.cluster.local', 300)).toEqual({
      ok: false,
      code: 'ETIMEOUT',
    });
    target.resume();
    expect((await queryA(target.address, 'kubernetes.default.svc.cluster.local')).ok).toBe(true);

    await target.setBehaviour({ upstream: 'dead' });
    expect(await queryA(target.address, 'www.upstream.test')).toEqual({
      ok: false,
      code: 'ESERVFAIL',
    });
    expect((await queryA(target.address, 'kubernetes.default.svc.cluster.local')).ok).toBe(true);

    await target.setBehaviour({ erratic: { drop: 1 } });
    expect(await queryA(target.address, 'kubernetes.default.svc.cluster.local', 300)).toEqual({
      ok: false,
      code: 'ETIMEOUT',
    });

    await target.setBehaviour({});
    expect((await queryA(target.address, 'kubernetes.default.svc.cluster.local')).ok).toBe(true);

    const pidBefore = target.pid!;
    await target.kill();
    await waitFor('the crashed pod to be restarted', async () => {
      const podObject = await core.readNamespacedPod({
        name: target.podName,
        namespace: dns.namespace,
      });
      const restarts = podObject.status?.containerStatuses?.[0]?.restartCount ?? 0;
      return restarts === 1 && hasCondition(podObject, 'Ready', 'True') ? true : undefined;
    });
    expect(target.pid).not.toBe(pidBefore);
    expect((await queryA(target.address, 'kubernetes.default.svc.cluster.local')).ok).toBe(true);
  });

  it('restarts kube-apiserver on the same port and etcd, and CoreDNS follows new Services', async () => {
    await plane.restartApiServer();
    const svc = await core.createNamespacedService({
      namespace: 'default',
      body: {
        metadata: { name: 'after-restart' },
        spec: { selector: { app: 'x' }, ports: [{ port: 80 }] },
      },
    });
    await waitFor(
      'after-restart.default to resolve',
      async () => {
        const r = await queryA(dns.serviceAddress, 'after-restart.default.svc.cluster.local');
        return r.ok && r.addresses.includes(svc.spec!.clusterIP!) ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    const pods = await core.listNamespacedPod({
      namespace: dns.namespace,
      labelSelector: dns.labelSelector,
    });
    expect(pods.items.filter((p: V1Pod) => hasCondition(p, 'Ready', 'True'))).toHaveLength(2);
  });
});

describe('envtest moto', () => {
  let moto: MotoServer;
  let route53: Route53Client;

  beforeAll(async () => {
    moto = await MotoServer.start();
    route53 = new Route53Client({
      region: moto.region,
      endpoint: moto.endpoint,
      credentials: moto.credentials,
    });
  });

  afterAll(async () => {
    route53?.destroy();
    await moto?.stop();
  });

  it('creates a Route 53 hosted zone and lists it', async () => {
    const created = await route53.send(
      new CreateHostedZoneCommand({
        Name: 'example.test',
        CallerReference: `envtest-${Date.now()}`,
      }),
    );
    expect(created.HostedZone?.Id).toBeDefined();
    const listed = await route53.send(new ListHostedZonesCommand({}));
    expect(listed.HostedZones?.map((z) => z.Name)).toContain('example.test.');
  });
});
