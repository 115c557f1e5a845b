import type { Count, CountingRule, UsageCounters } from '../../application/ports/usage-counters.ts';
import { LimitsUnavailable } from '../../domain/errors.ts';

interface Window {
  used: number;
  readonly endsAt: number;
}

/** Past this many windows held, the ended ones are dropped before a new one is made. */
const SWEEP_ABOVE = 10_000;

/**
 * UsageCounters in this process's memory: right for one instance (REDIS_URL unset), and what
 * each instance falls back to while Valkey cannot answer (RATE_LIMIT_ON_ERROR=allow). Exact and
 * synchronous underneath (one event loop), so it needs no library.
 */
export class InProcessUsageCounters implements UsageCounters {
  readonly #windows = new Map<string, Window>();
  readonly #now: () => number;
  #closed = false;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  async add(rule: CountingRule, key: string, amount: number): Promise<Count> {
    const window = this.#window(rule, key);
    const counted = window.used + amount <= rule.limit;
    if (counted) window.used += amount;
    return this.#count(rule, window, counted);
  }

  async peek(rule: CountingRule, key: string): Promise<Count> {
    const window = this.#window(rule, key);
    return this.#count(rule, window, window.used + 1 <= rule.limit);
  }

  async takeBack(rule: CountingRule, key: string, amount: number): Promise<void> {
    const window = this.#window(rule, key);
    window.used = Math.max(window.used - amount, 0);
  }

  /** Nobody else sees this process's memory. */
  sharedBy(): number {
    return 1;
  }

  async checkReady(): Promise<void> {
    if (this.#closed) throw new LimitsUnavailable('the in-process counters are closed');
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#windows.clear();
  }

  #window(rule: CountingRule, key: string): Window {
    if (this.#closed) throw new LimitsUnavailable('the in-process counters are closed');
    const id = `${rule.name}\u0000${key}`;
    const now = this.#now();
    const existing = this.#windows.get(id);
    if (existing !== undefined && existing.endsAt > now) return existing;
    if (this.#windows.size >= SWEEP_ABOVE) this.#sweep(now);
    const window = { used: 0, endsAt: now + rule.windowSeconds * 1000 };
    this.#windows.set(id, window);
    return window;
  }

  #sweep(now: number): void {
    for (const [id, window] of this.#windows) if (window.endsAt <= now) this.#windows.delete(id);
  }

  #count(rule: CountingRule, window: Window, counted: boolean): Count {
    return { counted, used: window.used, remaining: Math.max(rule.limit - window.used, 0), resetMs: Math.max(window.endsAt - this.#now(), 0) };
  }
}
