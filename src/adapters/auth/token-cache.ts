/** Answers about tokens, kept by the token's SHA-256 (never the token), each for its own time. */
export class TokenCache<T> {
  readonly #maxEntries: number;
  readonly #now: () => number;
  // A Map iterates in insertion order: the first key is the oldest entry.
  readonly #entries = new Map<string, { readonly value: T; readonly expiresAt: number }>();

  constructor(maxEntries: number, now: () => number) {
    this.#maxEntries = maxEntries;
    this.#now = now;
  }

  /** The value while it is fresh; `undefined` when absent or expired. */
  get(digest: string): { readonly value: T } | undefined {
    const entry = this.#entries.get(digest);
    if (entry === undefined) return undefined;
    if (entry.expiresAt > this.#now()) return entry;
    this.#entries.delete(digest);
    return undefined;
  }

  /** Keeps `value` for `ttlSeconds` (0: not at all), dropping the oldest entries when full. */
  set(digest: string, value: T, ttlSeconds: number): void {
    if (ttlSeconds <= 0) return;
    this.#entries.delete(digest);
    while (this.#entries.size >= this.#maxEntries) {
      this.#entries.delete(this.#entries.keys().next().value as string);
    }
    this.#entries.set(digest, { value, expiresAt: this.#now() + ttlSeconds * 1000 });
  }

  get size(): number {
    return this.#entries.size;
  }
}
