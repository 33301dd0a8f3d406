import { silentLogger } from '../runtime/logger';
import {
  SecretWatcher,
  type SecretVersion,
  type SecretWatchApi,
  type SecretWatchEvent,
} from './secret-watch';

/** An API server holding Secrets by "namespace/name", with watches the test can push events to. */
class FakeSecrets implements SecretWatchApi {
  readonly versions = new Map<string, string>();
  readonly watches: {
    key: string;
    from: string | undefined;
    push: (e: SecretWatchEvent) => void;
    end: (err?: Error) => void;
  }[] = [];
  gets = 0;

  version(namespace: string, name: string): Promise<SecretVersion> {
    this.gets++;
    return Promise.resolve(this.versions.get(`${namespace}/${name}`) ?? null);
  }

  watch(
    namespace: string,
    name: string,
    from: string | undefined,
    onEvent: (e: SecretWatchEvent) => void,
    signal: AbortSignal,
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      const w = {
        key: `${namespace}/${name}`,
        from,
        push: onEvent,
        end: (err?: Error) => (err ? reject(err) : resolve()),
      };
      this.watches.push(w);
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
  }

  open(key: string): FakeSecrets['watches'][number] | undefined {
    return this.watches.filter((w) => w.key === key).at(-1);
  }
}

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 5));

describe('SecretWatcher', () => {
  let watcher: SecretWatcher;
  afterEach(() => watcher.stop());

  function start(api: FakeSecrets): { changes: string[] } {
    const changes: string[] = [];
    watcher = new SecretWatcher({
      logger: silentLogger(),
      api,
      onChange: (secret, version) => changes.push(`${secret}=${version}`),
      maxBackoffMs: 10,
    });
    watcher.start();
    return { changes };
  }

  it('learns a missing Secret, then its creation and changes; one watch per Secret', async () => {
    const api = new FakeSecrets();
    const { changes } = start(api);
    watcher.track('shop/a', ['shop/aws']);
    watcher.track('shop/b', ['shop/aws']);
    await tick();
    expect(watcher.version('shop/aws')).toBeNull();
    expect(watcher.readers('shop/aws').sort()).toEqual(['shop/a', 'shop/b']);
    expect(api.watches).toHaveLength(1);
    // Absent: the watch starts from "now", so a Secret created meanwhile arrives as ADDED.
    expect(api.open('shop/aws')?.from).toBeUndefined();
    api.open('shop/aws')!.push({ type: 'ADDED', resourceVersion: '7' });
    api.open('shop/aws')!.push({ type: 'MODIFIED', resourceVersion: '9' });
    api.open('shop/aws')!.push({ type: 'BOOKMARK', resourceVersion: '12' });
    expect(changes).toEqual(['shop/aws=null', 'shop/aws=7', 'shop/aws=9']);
    api.open('shop/aws')!.push({ type: 'DELETED', resourceVersion: '13' });
    expect(watcher.version('shop/aws')).toBeNull();
  });

  it('resumes from the last version seen, and re-reads after 410 Gone or a failure', async () => {
    const api = new FakeSecrets();
    api.versions.set('shop/aws', '5');
    const { changes } = start(api);
    watcher.track('shop/a', ['shop/aws']);
    await tick();
    expect(api.open('shop/aws')?.from).toBe('5');
    api.open('shop/aws')!.push({ type: 'BOOKMARK', resourceVersion: '8' });
    api.open('shop/aws')!.end(); // the server's timeout
    await tick();
    expect(api.open('shop/aws')?.from).toBe('8');
    expect(api.gets).toBe(1);
    // Rotated while the watch history was compacted: 410, then a fresh read finds the change.
    api.versions.set('shop/aws', '20');
    api.open('shop/aws')!.push({ type: 'ERROR', code: 410 });
    api.open('shop/aws')!.end();
    await tick();
    expect(api.gets).toBe(2);
    expect(changes).toEqual(['shop/aws=5', 'shop/aws=20']);
    api.open('shop/aws')!.end(new Error('connection reset'));
    await new Promise((r) => setTimeout(r, 30));
    expect(api.gets).toBe(3);
  });

  it('stops watching a Secret nobody reads any more', async () => {
    const api = new FakeSecrets();
    start(api);
    watcher.track('shop/a', ['shop/aws']);
    await tick();
    watcher.track('shop/a', ['shop/gcp']);
    await tick();
    expect(watcher.size).toBe(1);
    expect(watcher.version('shop/aws')).toBeUndefined();
    watcher.track('shop/a', []);
    expect(watcher.size).toBe(0);
  });
});
