import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { kubeRequest, kubeWatch, type WatchEvent } from './kube-http';

describe('kubeRequest', () => {
  let server: http.Server;
  let connections = 0;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      // A watch the server ends (its timeoutSeconds): one event, then the end of the stream.
      if (req.url?.includes('watch=true'))
        res.end('{"type":"ADDED","object":{"metadata":{"resourceVersion":"7"}}}\n');
      else res.end('{"kind":"Status"}');
    });
    server.on('connection', () => connections++);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const kubeConfigFor = (port: number): KubeConfig => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    return kc;
  };

  it('keeps one connection alive per KubeConfig instead of one per request (idle CPU)', async () => {
    const kc = kubeConfigFor((server.address() as AddressInfo).port);
    connections = 0;
    for (let i = 0; i < 5; i++) await kubeRequest(kc, { method: 'GET', path: '/api/v1/x' });
    expect(connections).toBe(1);
  });

  it('a watch the server ended is followed by the next one on the same connection', async () => {
    const kc = kubeConfigFor((server.address() as AddressInfo).port);
    connections = 0;
    const seen: WatchEvent[] = [];
    for (let i = 0; i < 5; i++)
      await kubeWatch(
        kc,
        {
          path: '/api/v1/namespaces/a/secrets?watch=true',
          signal: new AbortController().signal,
          idleTimeoutMs: 5_000,
        },
        (e) => seen.push(e),
      );
    expect(seen.map((e) => e.object.metadata?.resourceVersion)).toEqual(['7', '7', '7', '7', '7']);
    expect(connections).toBe(1);
  });
});
