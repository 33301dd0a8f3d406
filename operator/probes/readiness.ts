/**
 * Readiness of each CoreDNS pod from its own ready endpoint (the `ready` plugin, default
 * :8181/ready): HTTP GET with a short hard timeout, 200 = ready; anything else (non-200, refused,
 * timeout: a hung pod accepts the TCP connection but never answers) = not ready.
 * I/O, so it lives here and feeds the pure detector through `snapshot()`.
 */
import http from 'node:http';

export interface ReadinessTarget {
  /** The probe target key this readiness belongs to. */
  readonly key: string;
  /** Pod IP. */
  readonly address: string;
  /** The pod's own ready endpoint (its readinessProbe); default the checker's port and path. */
  readonly port?: number;
  readonly path?: string;
}

export interface ReadinessOptions {
  readonly port: number;
  readonly path: string;
  /** Hard deadline per check. */
  readonly timeoutMs: number;
  /** Each pod is checked this often (and at once on `checkNow`). */
  readonly periodMs: number;
  /** Called when a pod's readiness changes. */
  readonly onChange?: (key: string, ready: boolean) => void;
  /** Replaces the HTTP check (tests). */
  readonly check?: (url: string, timeoutMs: number) => Promise<boolean>;
}

interface Entry {
  readonly target: ReadinessTarget;
  ready: boolean | undefined;
  inFlight: boolean;
  again: boolean;
}

export class ReadinessChecker {
  readonly #options: ReadinessOptions;
  readonly #check: (url: string, timeoutMs: number) => Promise<boolean>;
  readonly #entries = new Map<string, Entry>();
  #timer: NodeJS.Timeout | undefined;
  #stopped = true;

  constructor(options: ReadinessOptions) {
    this.#options = options;
    this.#check = options.check ?? httpReady;
  }

  /** Pods to check; ones no longer listed are forgotten, new ones checked at once. */
  setTargets(targets: readonly ReadinessTarget[]): void {
    const wanted = new Map(targets.map((t) => [t.key, t]));
    for (const key of [...this.#entries.keys()]) {
      const next = wanted.get(key);
      const now = this.#entries.get(key)?.target;
      if (
        next === undefined ||
        next.address !== now?.address ||
        next.port !== now.port ||
        next.path !== now.path
      )
        this.#entries.delete(key);
    }
    for (const [key, target] of wanted) {
      if (this.#entries.has(key)) continue;
      this.#entries.set(key, { target, ready: undefined, inFlight: false, again: false });
      if (!this.#stopped) this.checkNow(key);
    }
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    for (const key of this.#entries.keys()) this.checkNow(key);
    this.#timer = setInterval(() => {
      for (const key of this.#entries.keys()) this.checkNow(key);
    }, this.#options.periodMs);
    this.#timer.unref();
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Checks a pod now (or right after the check in flight). */
  checkNow(key: string): void {
    const entry = this.#entries.get(key);
    if (entry === undefined || this.#stopped) return;
    if (entry.inFlight) {
      entry.again = true;
      return;
    }
    entry.inFlight = true;
    const { address, port = this.#options.port, path = this.#options.path } = entry.target;
    const url = `http://${hostOf(address)}:${port}${path}`;
    void this.#check(url, this.#options.timeoutMs)
      .catch(() => false)
      .then((ready) => {
        entry.inFlight = false;
        if (this.#entries.get(key) !== entry) return;
        const changed = entry.ready !== ready;
        entry.ready = ready;
        if (changed) this.#options.onChange?.(key, ready);
        if (entry.again) {
          entry.again = false;
          this.checkNow(key);
        }
      });
  }

  get(key: string): boolean | undefined {
    return this.#entries.get(key)?.ready;
  }

  snapshot(): ReadonlyMap<string, boolean | undefined> {
    return new Map([...this.#entries].map(([k, e]) => [k, e.ready]));
  }
}

function hostOf(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

/** GET url; true on 200 within the deadline. Never rejects. */
export function httpReady(url: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (ok: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(ok);
    };
    const req = http.get(url, { agent: false }, (res) => {
      res.resume();
      done(res.statusCode === 200);
    });
    req.on('error', () => done(false));
    const deadline = performance.now() + timeoutMs;
    // A timer that fires late means the event loop was stuck: let the poll phase read an answer
    // that may already be there before calling the pod not ready (setImmediate runs after it).
    const timer = setTimeout(() => {
      if (performance.now() - deadline > 5) setImmediate(() => done(false));
      else done(false);
    }, timeoutMs);
    timer.unref();
  });
}
