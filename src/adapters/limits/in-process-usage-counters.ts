import type { Count, CountingRule, UsageCounters } from '../../application/ports/usage-counters.ts';
import { LimitsUnavailable } from '../../domain/errors.ts';

interface Window {
  used: number;
  readonly endsAt: number;
}

/**
 * Most windows held for one rule, live ones included; past it, the one ending first is forgotten
 * (its count starts again). Only AUTH_FAILURE_LIMIT's keys, client addresses, are the caller's
 * to make up (an IPv6 client has billions); the others are principals. At some 200 bytes a
 * window, this is ~40 MB a rule.
 */
export const MAX_WINDOWS_PER_RULE = 200_000;

/**
 * UsageCounters in this process's memory: right for one instance (REDIS_URL unset), and what
 * each instance falls back to while Valkey cannot answer (RATE_LIMIT_ON_ERROR=allow). Exact and
 * synchronous underneath (one event loop), so it needs no library.
 *
 * Each rule's windows are kept in the order they end: all are as long (the rule's window), and a
 * window made again after its end moves to the back. Ended ones are dropped from the front as new
 * ones come, each once: a new key costs the same however many are held. (A sweep of every window
 * held, each time a new key came past 10,000 of them, made a client sending from 80,000 addresses
 * within a window cost the service seconds per thousand requests, growing with each address.)
 */
export class InProcessUsageCounters implements UsageCounters {
  /** Per rule name, each key's window, in the order they end. */
  readonly #windows = new Map<string, Map<string, Window>>();
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
    const now = this.#now();
    let windows = this.#windows.get(rule.name);
    if (windows === undefined) this.#windows.set(rule.name, (windows = new Map()));
    const existing = windows.get(key);
    if (existing !== undefined && existing.endsAt > now) return existing;
    // Made again at the back, where the windows ending last are.
    if (existing !== undefined) windows.delete(key);
    for (const [ended, window] of windows) {
      if (window.endsAt > now) break;
      windows.delete(ended);
    }
    if (windows.size >= MAX_WINDOWS_PER_RULE) windows.delete(windows.keys().next().value!);
    const window = { used: 0, endsAt: now + rule.windowSeconds * 1000 };
    windows.set(key, window);
    return window;
  }

  #count(rule: CountingRule, window: Window, counted: boolean): Count {
    return { counted, used: window.used, remaining: Math.max(rule.limit - window.used, 0), resetMs: Math.max(window.endsAt - this.#now(), 0) };
  }
}
