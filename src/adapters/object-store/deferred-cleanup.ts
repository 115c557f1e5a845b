/**
 * Keys whose failed write may still leave something behind, cleaned up again in the background.
 *
 * When a backend dies or hangs mid-upload, the store cannot undo the write at that moment: the undo fails
 * too. Worse, a hung backend keeps the requests it had accepted (in its socket buffers) and carries them out
 * once it resumes, long after the store gave up on them and answered 503: an object appears for an upload
 * that failed, or a multipart upload stays open. Keys are unique per upload, so undoing later is safe: each
 * key is cleaned up again, backing off, until the backend confirms it, and once more `settleMs` after that,
 * for a write the backend had queued behind the confirmation. `kick()` (the backend answered again) retries
 * at once. A key is given up after `giveUpAfterMs` (a bucket lifecycle rule is the backstop), and at most
 * `maxKeys` are kept.
 */
export interface DeferredCleanupOptions {
  /** Removes whatever a failed write left at `key`; throws when the backend could not confirm it. */
  readonly cleanUp: (key: string) => Promise<void>;
  /** First retry after this long; the wait doubles up to `maxDelayMs`. */
  readonly firstDelayMs: number;
  readonly maxDelayMs: number;
  /** After a confirmed cleanup, one more after this long. */
  readonly settleMs: number;
  readonly giveUpAfterMs: number;
  readonly maxKeys?: number;
}

interface Pending {
  readonly since: number;
  delayMs: number;
  confirmed: boolean;
  running: boolean;
  timer?: NodeJS.Timeout;
}

export class DeferredCleanup {
  readonly #options: DeferredCleanupOptions;
  readonly #pending = new Map<string, Pending>();
  #closed = false;

  constructor(options: DeferredCleanupOptions) {
    this.#options = options;
  }

  /** Keys not cleaned up for good yet. */
  get pendingKeys(): string[] {
    return [...this.#pending.keys()];
  }

  /** Cleans `key` up later (again, when it is already pending). */
  schedule(key: string): void {
    if (this.#closed) return;
    const existing = this.#pending.get(key);
    if (existing !== undefined) {
      existing.confirmed = false;
      return;
    }
    if (this.#pending.size >= (this.#options.maxKeys ?? 10_000)) return;
    const entry: Pending = { since: Date.now(), delayMs: this.#options.firstDelayMs, confirmed: false, running: false };
    this.#pending.set(key, entry);
    this.#arm(key, entry, entry.delayMs);
  }

  /** The backend answered: retry every unconfirmed key now rather than at its next turn. */
  kick(): void {
    for (const [key, entry] of this.#pending) {
      if (!entry.confirmed && !entry.running) this.#arm(key, entry, 0);
    }
  }

  /** Stops retrying; what is still pending is left to the backend's own expiry. */
  close(): void {
    this.#closed = true;
    for (const entry of this.#pending.values()) clearTimeout(entry.timer);
    this.#pending.clear();
  }

  #arm(key: string, entry: Pending, delayMs: number): void {
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => void this.#attempt(key, entry), delayMs);
    // Never what keeps a process alive.
    entry.timer.unref();
  }

  async #attempt(key: string, entry: Pending): Promise<void> {
    entry.running = true;
    let ok = false;
    try {
      await this.#options.cleanUp(key);
      ok = true;
    } catch {
      // Backend still away: try again later.
    } finally {
      entry.running = false;
    }
    if (this.#closed || this.#pending.get(key) !== entry) return;
    if (ok && entry.confirmed) {
      this.#pending.delete(key);
      return;
    }
    if (ok) {
      entry.confirmed = true;
      this.#arm(key, entry, this.#options.settleMs);
      return;
    }
    if (Date.now() - entry.since > this.#options.giveUpAfterMs) {
      this.#pending.delete(key);
      return;
    }
    entry.delayMs = Math.min(entry.delayMs * 2, this.#options.maxDelayMs);
    this.#arm(key, entry, entry.delayMs);
  }
}
