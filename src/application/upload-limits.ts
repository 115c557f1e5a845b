import { createHash } from 'node:crypto';
import { LimitsUnavailable, QuotaExceeded, TooManyRequests, UploadInProgress, type LimitState } from '../domain/errors.ts';
import type { Principal } from '../domain/principal.ts';
import type { Count, CountingRule, UsageCounters } from './ports/usage-counters.ts';

/** So many per so many seconds: UPLOAD_RATE_LIMIT, AUTH_FAILURE_LIMIT, UPLOAD_QUOTA (in bytes). */
export interface LimitRule {
  readonly limit: number;
  readonly windowSeconds: number;
}

/** What to do when the shared counters cannot answer: count in this process alone, or refuse. */
export type LimitFailurePolicy = 'allow' | 'reject';

export interface UploadLimitsOptions {
  /** The counters every instance shares (Valkey), or this process's own. */
  readonly counters: UsageCounters;
  /** This process's own counters, used while `counters` cannot answer and `onError` is allow. */
  readonly fallback: UsageCounters;
  readonly onError: LimitFailurePolicy;
  /** Uploads per principal per window. */
  readonly uploads?: LimitRule | undefined;
  /** Refused tokens per client address per window. */
  readonly authFailures?: LimitRule | undefined;
  /** Bytes per principal per window. */
  readonly quota?: LimitRule | undefined;
  readonly now?: () => number;
}

/**
 * What an admitted upload holds of its principal's limits: settled with the real size once
 * stored, released when it fails. Either is done once; later calls do nothing. Neither throws:
 * counters that cannot take a reservation back leave it counted until its window ends.
 */
export interface UploadAllowance {
  /** The limits as they stand after this upload was counted, for the caller's headers. */
  readonly limits: readonly LimitState[];
  /** True when the shared counters could not answer and this process counted alone (RATE_LIMIT_ON_ERROR=allow). */
  readonly countedLocally: boolean;
  settle(storedBytes: number): Promise<void>;
  release(): Promise<void>;
}

/**
 * How long one upload's charge to the quota is held against a second one (`reserveUploadBytes`):
 * longer than a completion joins its parts, short enough that a retry after a crash mid-way
 * is not kept waiting long.
 */
export const CHARGE_HOLD_SECONDS = 300;

/** The names of the limits, as in the `RateLimit-Policy` header. */
export const POLICY = { uploads: 'uploads', authFailures: 'auth-failures', quota: 'quota' } as const;

/**
 * The limits on who may upload how much, counted across every instance: uploads per principal,
 * bytes per principal (reserved before the body is read, settled with the real size), refused
 * tokens per client address. While the shared counters cannot answer, RATE_LIMIT_ON_ERROR says
 * whether each instance counts alone (allow) or refuses (reject, LimitsUnavailable).
 */
export class UploadLimits {
  readonly #options: UploadLimitsOptions;
  readonly #rules: { uploads?: CountingRule; authFailures?: CountingRule; quota?: CountingRule };
  readonly #now: () => number;

  constructor(options: UploadLimitsOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    const rule = (name: string, r: LimitRule | undefined) => r && { name, limit: r.limit, windowSeconds: r.windowSeconds };
    this.#rules = {
      ...(options.uploads && { uploads: rule(POLICY.uploads, options.uploads) }),
      ...(options.authFailures && { authFailures: rule(POLICY.authFailures, options.authFailures) }),
      ...(options.quota && { quota: rule(POLICY.quota, options.quota) }),
    };
  }

  /** Throws TooManyRequests when `address` has had too many tokens refused in this window; counts nothing. */
  async checkAuthFailures(address: string): Promise<void> {
    const rule = this.#rules.authFailures;
    if (rule === undefined) return;
    const { count } = await this.#counted(rule, (c, r) => c.peek(r, address));
    if (!count.counted) throw new TooManyRequests(stateOf(rule, count));
  }

  /** Counts a refused token from `address`. Never throws: failing to count is no reason to answer otherwise. */
  async countAuthFailure(address: string): Promise<void> {
    const rule = this.#rules.authFailures;
    if (rule === undefined) return;
    await this.#counted(rule, (c, r) => c.add(r, address, 1)).catch(() => {});
  }

  /**
   * Counts one upload by `principal` and reserves `declaredBytes` of its quota, before any of
   * the body is read. Throws TooManyRequests, QuotaExceeded, or LimitsUnavailable (the counters
   * cannot answer and RATE_LIMIT_ON_ERROR=reject).
   */
  async admit(principal: LimitKey, declaredBytes: number): Promise<UploadAllowance> {
    const { uploads } = this.#rules;
    const limits: LimitState[] = [];
    let countedLocally = false;
    if (uploads !== undefined) {
      const { count, local } = await this.#counted(uploads, (c, r) => c.add(r, principal.key, 1));
      if (!count.counted) throw new TooManyRequests(stateOf(uploads, count));
      limits.push(stateOf(uploads, count));
      countedLocally ||= local;
    }
    const reserved = await this.#reserveBytes(principal, declaredBytes);
    return { ...reserved, limits: [...limits, ...reserved.limits], countedLocally: countedLocally || reserved.countedLocally };
  }

  /**
   * Reserves `bytes` of `principal`'s quota for the upload `uploadId`, counted already (`admit`)
   * when its size was not known (a multipart upload's parts, at its completion), and at most
   * once at a time: while another reservation for the same upload is held (its completion sent
   * again while the first still runs, on any instance), UploadInProgress rather than a second
   * charge that could refuse, and drop, the upload the first is finishing. The hold ends with a
   * `release`, or CHARGE_HOLD_SECONDS after it began (a `settle`d charge stays held until then,
   * for a retry that had looked before the first ended). Throws QuotaExceeded (the hold stays:
   * the upload is being dropped) or LimitsUnavailable as `admit` does.
   */
  async reserveUploadBytes(principal: LimitKey, uploadId: string, bytes: number): Promise<UploadAllowance> {
    if (this.#rules.quota === undefined) return nothingHeld;
    const hold: CountingRule = { name: 'quota-charges', limit: 1, windowSeconds: CHARGE_HOLD_SECONDS };
    const { count, counters } = await this.#counted(hold, (c, r) => c.add(r, uploadId, 1));
    if (!count.counted) throw new UploadInProgress('another completion of this upload is still finishing; ask again');
    const unhold = this.#takeBackOnce(counters, hold, uploadId, count);
    const reserved = await this.#reserveBytes(principal, bytes).catch(async (error: unknown) => {
      if (!(error instanceof QuotaExceeded)) await unhold(1);
      throw error;
    });
    return { ...reserved, release: async () => void (await Promise.all([reserved.release(), unhold(1)])) };
  }

  /** Reserves `bytes` of `principal`'s quota (at least 1), counting no upload: `admit`'s second half. */
  async #reserveBytes(principal: LimitKey, bytes: number): Promise<UploadAllowance> {
    const { quota } = this.#rules;
    if (quota === undefined) return nothingHeld;
    const reserved = Math.max(Math.ceil(bytes), 1);
    const { count, local, counters } = await this.#counted(quota, (c, r) => c.add(r, principal.key, reserved));
    if (!count.counted) throw new QuotaExceeded(stateOf(quota, count));
    const takeBack = this.#takeBackOnce(counters, quota, principal.key, count);
    return {
      limits: [stateOf(quota, count)],
      countedLocally: local,
      settle: (storedBytes) => takeBack(reserved - storedBytes),
      release: () => takeBack(reserved),
    };
  }

  /**
   * Gives back up to what `count` counted of `rule` against `key`, at most once, and only within
   * the window it was counted in: a new window owes nothing to the one before (nor is a hold that
   * ended another's to end).
   */
  #takeBackOnce(counters: UsageCounters, rule: CountingRule, key: string, count: Count): (amount: number) => Promise<void> {
    const windowEndsAt = this.#now() + count.resetMs;
    let done = false;
    return async (amount) => {
      if (done) return;
      done = true;
      if (amount <= 0 || this.#now() >= windowEndsAt) return;
      await counters.takeBack(rule, key, amount).catch(() => {});
    };
  }

  /** Resolves when the shared counters can answer; throws LimitsUnavailable saying why not. */
  checkReady(): Promise<void> {
    return this.#options.counters.checkReady();
  }

  get onError(): LimitFailurePolicy {
    return this.#options.onError;
  }

  /**
   * Runs `count` on the shared counters, or, while they cannot answer and the policy allows, on
   * this process's, with this instance's share of the rule: the limit divided by the instances
   * that shared the counters when they last answered, so that together they still allow about
   * the limit.
   */
  async #counted(
    rule: CountingRule,
    count: (c: UsageCounters, rule: CountingRule) => Promise<Count>,
  ): Promise<{ count: Count; local: boolean; counters: UsageCounters }> {
    const { counters, fallback, onError } = this.#options;
    try {
      return { count: await count(counters, rule), local: false, counters };
    } catch (error) {
      if (!(error instanceof LimitsUnavailable) || onError === 'reject') throw error;
      const share = { ...rule, limit: Math.max(Math.floor(rule.limit / Math.max(counters.sharedBy(), 1)), 1) };
      return { count: await count(fallback, share), local: true, counters: fallback };
    }
  }
}

const nothingHeld: UploadAllowance = { limits: [], countedLocally: false, settle: async () => {}, release: async () => {} };

/** Whose limits an upload counts against: the principal's id, or the token's hash where there is no id. */
export interface LimitKey {
  readonly key: string;
}

export function limitKeyOf(principal: Principal, token: string): LimitKey {
  if (principal.id !== undefined) return { key: `${principal.kind}:${principal.id}` };
  // Never the token itself: the counters' keys are readable by whoever reads Valkey.
  return { key: `token:${createHash('sha256').update(token).digest('hex').slice(0, 32)}` };
}

function stateOf(rule: CountingRule, count: Count): LimitState {
  return {
    policy: rule.name,
    limit: rule.limit,
    windowSeconds: rule.windowSeconds,
    remaining: count.remaining,
    resetSeconds: Math.max(Math.ceil(count.resetMs / 1000), 1),
  };
}
