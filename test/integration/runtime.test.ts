/**
 * The shared runtime against a real kube-apiserver: CRD validation (schema and CEL), the status
 * writer's conflict retry, leader election failover, informer recovery across an API server
 * restart, Events, and the Operator subclass feeding keys from the CR watch.
 */
import { join } from 'node:path';
import {
  KubernetesObjectApi,
  type KubeConfig,
  type KubernetesObject,
  type V1Service,
} from '@kubernetes/client-node';
import { ControlPlane } from '../envtest/control-plane';
import { applyObjects, readManifests } from '../envtest/apply';
import { waitFor } from '../envtest/wait';
import type { DNSPolicy } from '../../operator/api/types';
import { InformerCache, RESOURCES } from '../../operator/runtime/cache';
import { buildConfig } from '../../operator/runtime/config';
import type { Controller, ControllerContext } from '../../operator/runtime/controller';
import { EventRecorder } from '../../operator/runtime/events';
import { kubeRequest } from '../../operator/runtime/kube-http';
import { LeaderElector } from '../../operator/runtime/leader';
import { silentLogger } from '../../operator/runtime/logger';
import { Manager } from '../../operator/runtime/manager';
import { createMetrics } from '../../operator/runtime/metrics';
import { DnsopOperator } from '../../operator/runtime/operator';
import { StatusWriter } from '../../operator/runtime/status';

jest.setTimeout(120_000);

const ROOT = join(__dirname, '..', '..');
let plane: ControlPlane;
let kc: KubeConfig;
let api: KubernetesObjectApi;

const policy = (name: string, spec: Record<string, unknown> = {}): KubernetesObject =>
  ({
    apiVersion: 'dnsop.io/v1alpha1',
    kind: 'DNSPolicy',
    metadata: { name, namespace: 'runtime' },
    spec: {
      sources: [{ kind: 'Service' }],
      domains: ['example.com'],
      provider: { inMemory: {} },
      ...spec,
    },
  }) as KubernetesObject;

async function readPolicy(name: string): Promise<DNSPolicy> {
  const obj: KubernetesObject = await api.read({
    apiVersion: 'dnsop.io/v1alpha1',
    kind: 'DNSPolicy',
    metadata: { name, namespace: 'runtime' },
  });
  return obj as DNSPolicy;
}

async function createError(obj: KubernetesObject): Promise<string> {
  try {
    await api.create(obj);
  } catch (err) {
    return JSON.stringify((err as { body?: unknown }).body ?? String(err));
  }
  return 'accepted';
}

beforeAll(async () => {
  plane = await ControlPlane.start();
  kc = plane.kubeConfig;
  api = KubernetesObjectApi.makeApiClient(kc);
  const crds = readManifests(join(ROOT, 'crds')).filter(
    (o) => o.kind === 'CustomResourceDefinition',
  );
  await applyObjects(kc, [
    ...crds,
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'runtime' } },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'dnsop-system' } },
  ]);
});

afterAll(async () => {
  await plane?.stop();
});

describe('CRDs in a real API server', () => {
  it('accept a valid DNSPolicy and fill in the documented defaults', async () => {
    const created = (await api.create(policy('defaults'))) as DNSPolicy;
    expect(created.spec).toMatchObject({
      policy: 'Sync',
      ttl: 300,
      interval: '60s',
      maxDeletePercent: 50,
      dryRun: false,
    });
  });

  it.each([
    [
      'two providers',
      policy('two', { provider: { inMemory: {}, route53: {} } }),
      // The CEL rule's message alone: no "Too many" nor "some validation rules were not checked".
      /is invalid: spec\.provider: Invalid value: [^:]*: provider must set exactly one of route53, cloudDNS, inMemory[\\"]*,[\\"]*reason/,
    ],
    ['negative ttl', policy('ttl', { ttl: -1 }), /spec.ttl/],
    ['interval abc', policy('interval', { interval: 'abc' }), /spec.interval/],
    ['no domains', policy('nodomains', { domains: undefined }), /spec.domains: Required value/],
  ])('reject a DNSPolicy with %s, with a clear message', async (_name, obj, message) => {
    expect(await createError(obj)).toMatch(message);
  });

  it('reject a DNSProbe naming both a Service and fixed addresses (CEL rule)', async () => {
    const probe = {
      apiVersion: 'dnsop.io/v1alpha1',
      kind: 'DNSProbe',
      metadata: { name: 'both', namespace: 'runtime' },
      spec: {
        server: { serviceRef: { name: 'kube-dns' }, addresses: ['10.0.0.10'] },
        queries: [{ name: 'kubernetes.default.svc.cluster.local' }],
      },
    };
    expect(await createError(probe)).toMatch(/exactly one of serviceRef or addresses/);
  });
});

describe('StatusWriter', () => {
  it('writes nothing when the computed status is undefined', async () => {
    await api.create(policy('untouched'));
    const writer = new StatusWriter(kc);
    const ref = { resource: RESOURCES.dnspolicies, namespace: 'runtime', name: 'untouched' };
    expect(await writer.update<DNSPolicy>(ref, () => undefined)).toBeUndefined();
    const live = await readPolicy('untouched');
    // Only the CRD's structural default, served on read: nothing was written.
    expect(live.status).toEqual({ observedGeneration: 0 });
  });

  it('a forced stale resourceVersion gets a 409 and the writer converges', async () => {
    await api.create(policy('stale'));
    const writer = new StatusWriter(kc);
    const ref = { resource: RESOURCES.dnspolicies, namespace: 'runtime', name: 'stale' };
    let calls = 0;
    const result = await writer.update<DNSPolicy>(ref, (live) => {
      calls++;
      if (calls === 1) {
        // Make the object we just read stale, synchronously from the server's point of view.
        (live.metadata as { resourceVersion?: string }).resourceVersion = '1';
      }
      return { records: 42 };
    });
    expect(calls).toBe(2);
    expect(result?.status?.records).toBe(42);
  });

  it('does not bump metadata.generation when writing status', async () => {
    const before = await readPolicy('defaults');
    const writer = new StatusWriter(kc);
    const after = await writer.update<DNSPolicy>(
      { resource: RESOURCES.dnspolicies, namespace: 'runtime', name: 'defaults' },
      () => ({ records: 1 }),
    );
    expect(after?.metadata.generation).toBe(before.metadata.generation);
  });
});

describe('LeaderElector', () => {
  const timing = { leaseDurationMs: 2000, renewDeadlineMs: 1500, retryPeriodMs: 250 };

  function elector(identity: string, log: string[]): LeaderElector {
    return new LeaderElector({
      kubeConfig: kc,
      namespace: 'dnsop-system',
      name: 'failover-test',
      identity,
      ...timing,
      logger: silentLogger(),
      onStartedLeading: () => log.push(`${identity} leads`),
      onStoppedLeading: () => log.push(`${identity} lost`),
    });
  }

  it('exactly one candidate leads; a standby takes over within the lease duration when the leader dies', async () => {
    const log: string[] = [];
    const a = elector('a', log);
    const b = elector('b', log);
    a.start();
    await waitFor('a leads', () => (a.isLeader() ? true : undefined), { timeoutMs: 10_000 });
    b.start();
    await new Promise((r) => setTimeout(r, 1000));
    expect([a.isLeader(), b.isLeader()]).toEqual([true, false]);

    const died = Date.now();
    await a.stop(false); // a crash: no release
    await waitFor('b leads', () => (b.isLeader() ? true : undefined), {
      timeoutMs: 10_000,
      intervalMs: 20,
    });
    const takeover = Date.now() - died;
    console.log(
      `leader failover after a crash: ${takeover} ms (lease duration ${timing.leaseDurationMs} ms)`,
    );
    expect(takeover).toBeLessThan(timing.leaseDurationMs + 2 * timing.retryPeriodMs + 1000);
    expect(log).toEqual(['a leads', 'b leads']);

    const c = elector('c', log);
    c.start();
    const released = Date.now();
    await b.stop(true); // graceful: release
    await waitFor('c leads', () => (c.isLeader() ? true : undefined), {
      timeoutMs: 10_000,
      intervalMs: 20,
    });
    const handover = Date.now() - released;
    console.log(`leader handover after a graceful release: ${handover} ms`);
    expect(handover).toBeLessThan(timing.leaseDurationMs);
    await c.stop(true);
  });
});

describe('InformerCache', () => {
  it('keeps delivering events after the API server restarts', async () => {
    const cache = new InformerCache<V1Service>({
      kubeConfig: kc,
      resource: RESOURCES.services,
      namespace: 'runtime',
      logger: silentLogger(),
      relistMs: 600_000,
    });
    const svc = (name: string): V1Service => ({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: 'runtime' },
      spec: { ports: [{ port: 80 }] },
    });
    await api.create(svc('before'));
    cache.start();
    try {
      await waitFor('cache synced with the first service', () =>
        cache.synced() && cache.get('runtime', 'before') ? true : undefined,
      );
      await plane.restartApiServer();
      await waitFor('create after restart', async () => api.create(svc('after')).then(() => true));
      await api.delete(svc('before'));
      await waitFor(
        'cache saw the create and the delete',
        () => (cache.get('runtime', 'after') && !cache.get('runtime', 'before') ? true : undefined),
        { timeoutMs: 60_000 },
      );
    } finally {
      await cache.stop();
    }
  });
});

describe('EventRecorder', () => {
  it('writes an events.k8s.io/v1 Event (MicroTime accepted) and deduplicates repeats', async () => {
    const created = (await api.create(policy('evented'))) as DNSPolicy;
    const recorder = new EventRecorder({
      kubeConfig: kc,
      logger: silentLogger(),
      instance: 'test',
    });
    const regarding = {
      apiVersion: 'dnsop.io/v1alpha1',
      kind: 'DNSPolicy',
      namespace: 'runtime',
      name: 'evented',
      uid: created.metadata.uid,
    };
    for (let i = 0; i < 5; i++) {
      recorder.emit({
        regarding,
        type: 'Warning',
        reason: 'DeleteGuard',
        action: 'Sync',
        note: 'refused',
      });
    }
    const list = await waitFor('event stored', async () => {
      const l = await kubeRequest<{
        items: Array<{ reason: string; regarding: { name: string } }>;
      }>(kc, {
        method: 'GET',
        path: '/apis/events.k8s.io/v1/namespaces/runtime/events',
      });
      return l.items.some((e) => e.regarding.name === 'evented') ? l : undefined;
    });
    expect(
      list.items.filter((e) => e.regarding.name === 'evented' && e.reason === 'DeleteGuard'),
    ).toHaveLength(1);
  });
});

describe('DnsopOperator + Manager', () => {
  it('feeds DNSPolicy keys from the watch into the controller and serves metrics and readiness', async () => {
    const keys: string[] = [];
    let started = 0;
    const controller: Controller = {
      name: 'recording',
      primary: 'dnspolicies',
      enqueue: (key) => keys.push(key),
      setup: (_ctx: ControllerContext) => undefined,
      start: () => {
        started++;
        return Promise.resolve();
      },
      stop: () => Promise.resolve(),
      ready: () => started > 0,
    };
    const config = buildConfig({ metricsAddr: '127.0.0.1:0', namespace: 'runtime' });
    const logger = silentLogger();
    const manager = new Manager({
      config,
      kubeConfig: kc,
      logger,
      metrics: createMetrics(undefined, { processMetrics: false }),
      controllers: [controller],
    });
    const operator = new DnsopOperator(manager, [controller], logger);
    await operator.start();
    try {
      await api.create(policy('watched'));
      await waitFor('key enqueued', () => (keys.includes('runtime/watched') ? true : undefined));
      const ready = await waitFor('ready', async () => {
        const res = await fetch(`http://127.0.0.1:${manager.port}/readyz`);
        return res.status === 200 ? res.text() : undefined;
      });
      expect(ready).toMatch(/controllers running/);
      const metrics = await (await fetch(`http://127.0.0.1:${manager.port}/metrics`)).text();
      expect(metrics).toMatch(/dnsop_records_managed/);
      expect(metrics).toMatch(/dnsop_probe_total/);
      expect(started).toBe(1);
    } finally {
      await operator.shutdown();
    }
  });
});
