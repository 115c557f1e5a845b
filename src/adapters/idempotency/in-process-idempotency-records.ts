import { randomUUID } from 'node:crypto';
import type { IdempotencyClaim, IdempotencyRecord, IdempotencyRecords } from '../../application/ports/idempotency-records.ts';
import { IdempotencyUnavailable } from '../../domain/errors.ts';

type Entry = ({ readonly state: 'in-flight'; readonly claimId: string } | { readonly state: 'finished'; readonly record: IdempotencyRecord }) & {
  readonly expiresAt: number;
};

/**
 * Past this many entries held, the expired ones are dropped before a new one is added; the next
 * sweep then waits until twice as many as are left are held. Entries live a day (IDEMPOTENCY_TTL):
 * a sweep at each new key once the first 10,000 were held walked every one of them each time, so
 * 60,000 keyed uploads in a day cost 2.5 ms of the event loop each, and growing.
 */
const SWEEP_ABOVE = 10_000;

/**
 * IdempotencyRecords in this process's memory: right for one instance (REDIS_URL unset). Exact
 * without locks (one event loop: a claim reads and writes in one synchronous step).
 */
export class InProcessIdempotencyRecords implements IdempotencyRecords {
  readonly #entries = new Map<string, Entry>();
  readonly #now: () => number;
  #sweepAbove = SWEEP_ABOVE;
  #closed = false;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  async claim(key: string, inFlightMs: number): Promise<IdempotencyClaim> {
    const entry = this.#live(key);
    if (entry?.state === 'finished') return { state: 'finished', record: entry.record };
    if (entry?.state === 'in-flight') return { state: 'in-flight' };
    if (this.#entries.size >= this.#sweepAbove) this.#sweep();
    const claimId = randomUUID();
    this.#entries.set(key, { state: 'in-flight', claimId, expiresAt: this.#now() + inFlightMs });
    return { state: 'claimed', claimId };
  }

  async finish(key: string, _claimId: string, record: IdempotencyRecord, ttlMs: number): Promise<void> {
    this.#check();
    this.#entries.set(key, { state: 'finished', record: { ...record }, expiresAt: this.#now() + ttlMs });
  }

  async release(key: string, claimId: string): Promise<void> {
    const entry = this.#live(key);
    if (entry?.state === 'in-flight' && entry.claimId === claimId) this.#entries.delete(key);
  }

  async checkReady(): Promise<void> {
    this.#check();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#entries.clear();
  }

  #live(key: string): Entry | undefined {
    this.#check();
    const entry = this.#entries.get(key);
    if (entry === undefined || entry.expiresAt > this.#now()) return entry;
    this.#entries.delete(key);
    return undefined;
  }

  #sweep(): void {
    const now = this.#now();
    for (const [key, entry] of this.#entries) if (entry.expiresAt <= now) this.#entries.delete(key);
    // Each entry is walked over a bounded number of times, however many stay live.
    this.#sweepAbove = Math.max(SWEEP_ABOVE, 2 * this.#entries.size);
  }

  #check(): void {
    if (this.#closed) throw new IdempotencyUnavailable('the in-process idempotency records are closed');
  }
}
