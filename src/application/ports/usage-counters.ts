/** A limit on how much a key may add up in a fixed window: 120 uploads a minute, 5 GB a day. */
export interface CountingRule {
  /** Names the counters of this rule (keys of different rules never mix). */
  readonly name: string;
  /** Most that may be added up in one window. */
  readonly limit: number;
  readonly windowSeconds: number;
}

/** A key's count in its current window. */
export interface Count {
  /** True when what was asked for was counted (it stayed within the limit). */
  readonly counted: boolean;
  /** Added up so far in the window, what was just counted included. */
  readonly used: number;
  /** What the rule still allows in this window. */
  readonly remaining: number;
  /** Milliseconds until the window ends and the count starts again from 0. */
  readonly resetMs: number;
}

/**
 * Counters that every instance of attache shares: how many uploads a principal made this
 * minute, how many bytes it stored today, how many refused tokens came from an address. One
 * in-process adapter for a single instance, one over Valkey for many; both pass
 * test/contracts/usage-counters-contract.ts.
 *
 * Windows are fixed: a key's window starts with its first count and lasts `windowSeconds`.
 * Every method throws LimitsUnavailable when the counters cannot answer (Valkey down, too slow);
 * what to do then is the caller's policy, never the adapter's.
 */
export interface UsageCounters {
  /**
   * Adds `amount` (a positive whole number) to `key`'s count when the sum stays within
   * `rule.limit`; otherwise adds nothing (a refused request never uses up what others may use)
   * and answers `counted: false`. Atomic across instances: concurrent adds never pass the limit.
   */
  add(rule: CountingRule, key: string, amount: number): Promise<Count>;

  /** `key`'s count now, without adding to it (`counted` is whether another 1 would fit). */
  peek(rule: CountingRule, key: string): Promise<Count>;

  /**
   * Takes `amount` back from `key`'s count, e.g. a reservation larger than what was used, or an
   * upload that failed. Never below 0. Call it only within the window that the amount was added
   * in (the caller knows when that window ends): a new window starts from 0 and owes nothing.
   */
  takeBack(rule: CountingRule, key: string, amount: number): Promise<void>;

  /**
   * How many instances share these counters, as last seen while they answered (1 for counters
   * in one process's memory). Never throws: what an instance falls back to while they cannot
   * answer is its share of each limit, the limit divided by this.
   */
  sharedBy(): number;

  /** Resolves when the counters can answer now; throws LimitsUnavailable saying why not. */
  checkReady(): Promise<void>;

  /** Lets go of connections; further calls fail. */
  close(): Promise<void>;
}
