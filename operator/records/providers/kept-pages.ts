/**
 * Listing pages a cloud account's API answered, each kept with its bytes and what they parsed
 * to, so that a page answered again with the same bytes is handed out without being parsed again
 * (route53-api.ts). What bytes parse to does not depend on who asked, so one store serves every
 * policy of an account (accounts.ts): each policy has its own API client, and the account's
 * listing is made by whichever of them asks first. Bounded by the bytes kept (the parsed answers
 * are the record sets the zone caches hold anyway); the least recently used page goes first.
 */

export interface KeptPage {
  /** The response body as it came. */
  readonly body: Buffer;
  /** What the SDK parsed it to (never modified by its readers). */
  readonly output: unknown;
}

/** 16 MiB of listing pages: some 50,000 record sets. */
const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;

export class KeptPages {
  readonly #pages = new Map<string, KeptPage>();
  #bytes = 0;

  constructor(readonly maxBytes = DEFAULT_MAX_BYTES) {}

  /** The page kept for a request (its path and query), if any. */
  get(request: string): KeptPage | undefined {
    const page = this.#pages.get(request);
    if (page !== undefined) {
      // Most recently used last: eviction takes from the front.
      this.#pages.delete(request);
      this.#pages.set(request, page);
    }
    return page;
  }

  set(request: string, page: KeptPage): void {
    this.#drop(request);
    if (page.body.length > this.maxBytes) return;
    this.#pages.set(request, page);
    this.#bytes += page.body.length;
    for (const oldest of this.#pages.keys()) {
      if (this.#bytes <= this.maxBytes) break;
      this.#drop(oldest);
    }
  }

  /** Bytes of the pages kept. */
  get bytes(): number {
    return this.#bytes;
  }

  #drop(request: string): void {
    const page = this.#pages.get(request);
    if (page === undefined) return;
    this.#pages.delete(request);
    this.#bytes -= page.body.length;
  }
}
