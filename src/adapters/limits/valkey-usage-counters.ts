import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import rateLimiterFlexible from 'rate-limiter-flexible';
import type { Count, CountingRule, UsageCounters } from '../../application/ports/usage-counters.ts';
import { LimitsUnavailable } from '../../domain/errors.ts';
import { answersPing, valkeyClient } from '../valkey/valkey-client.ts';

const { RateLimiterRedis, RateLimiterRes } = rateLimiterFlexible;
type Limiter = InstanceType<typeof RateLimiterRedis>;
type LimiterRes = InstanceType<typeof RateLimiterRes>;

/**
 * rate-limiter-flexible's own script, changed in two ways the port asks for: an add that would
 * pass the limit (ARGV[3]) is reported but not stored, so a refused upload never uses up another's
 * room; and a take-back (a negative amount) never goes below 0. Atomic: one script, one key.
 */
const ADD_WITHIN_LIMIT_SCRIPT = `
redis.call('set', KEYS[1], 0, 'EX', ARGV[2], 'NX')
local current = tonumber(redis.call('get', KEYS[1]))
local amount = tonumber(ARGV[1])
local consumed
if amount < 0 then
  consumed = math.max(current + amount, 0)
  redis.call('set', KEYS[1], consumed, 'KEEPTTL')
elseif current + amount > tonumber(ARGV[3]) then
  consumed = current + amount
else
  consumed = redis.call('incrby', KEYS[1], amount)
end
local ttl = redis.call('pttl', KEYS[1])
if ttl == -1 then
  redis.call('expire', KEYS[1], ARGV[2])
  ttl = 1000 * ARGV[2]
end
return {consumed, ttl}`;

export interface ValkeyUsageCountersOptions {
  /** `redis://` or `rediss://` URL of a Valkey or Redis server. */
  readonly url: string;
  /** Longest a command may take before the counters count as unavailable. */
  readonly commandTimeoutMs?: number;
  /** Told each time the connection is lost or found again, for logs. */
  readonly onConnectionChange?: (up: boolean, reason?: string) => void;
  /** How often this instance says it is there (see sharedBy); every instance must use the same. */
  readonly heartbeatMs?: number;
}

/** The instances sharing the counters: a sorted set of instance ids scored by when each was last there. */
const INSTANCES_KEY = 'attache:instances';

/**
 * UsageCounters in Valkey (or Redis), shared by every instance: rate-limiter-flexible's
 * RateLimiterRedis over ioredis (valkeyClient: no offline queue, commands time out after
 * `commandTimeoutMs`), with the script above: an upload waits at most that long before the
 * caller's RATE_LIMIT_ON_ERROR policy applies.
 */
export class ValkeyUsageCounters implements UsageCounters {
  readonly #client: Redis;
  readonly #limiters = new Map<string, Limiter>();
  readonly #instanceId = randomUUID();
  readonly #heartbeat: NodeJS.Timeout;
  readonly #heartbeatMs: number;
  #sharedBy = 1;
  #lastError = 'not connected yet';

  constructor(options: ValkeyUsageCountersOptions) {
    const timeout = options.commandTimeoutMs ?? 1000;
    this.#client = valkeyClient(options.url, timeout);
    let up = false;
    this.#client.on('ready', () => {
      up = true;
      options.onConnectionChange?.(true);
      void this.#beat();
    });
    this.#heartbeatMs = options.heartbeatMs ?? 5000;
    this.#heartbeat = setInterval(() => void this.#beat(), this.#heartbeatMs);
    this.#heartbeat.unref();
    // Without a listener, ioredis prints every failed reconnection to stderr.
    this.#client.on('error', (error: Error) => {
      this.#lastError = error.message;
    });
    this.#client.on('close', () => {
      if (up) options.onConnectionChange?.(false, 'connection closed');
      up = false;
    });
  }

  /** Resolves true once the server answers a PING, or false after `timeoutMs` (see answersPing). */
  connected(timeoutMs: number): Promise<boolean> {
    return answersPing(this.#client, timeoutMs);
  }

  async add(rule: CountingRule, key: string, amount: number): Promise<Count> {
    try {
      return countOf(rule, await this.#limiter(rule).consume(key, amount), true);
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw this.#unavailable(error);
      return countOf(rule, error, false, amount);
    }
  }

  async peek(rule: CountingRule, key: string): Promise<Count> {
    try {
      const res = await this.#limiter(rule).get(key);
      if (res === null) return { counted: rule.limit >= 1, used: 0, remaining: rule.limit, resetMs: rule.windowSeconds * 1000 };
      return { ...countOf(rule, res, true), counted: res.consumedPoints + 1 <= rule.limit };
    } catch (error) {
      throw this.#unavailable(error);
    }
  }

  async takeBack(rule: CountingRule, key: string, amount: number): Promise<void> {
    try {
      await this.#limiter(rule).reward(key, amount);
    } catch (error) {
      throw this.#unavailable(error);
    }
  }

  async checkReady(): Promise<void> {
    try {
      await this.#client.ping();
    } catch (error) {
      throw this.#unavailable(error);
    }
  }

  sharedBy(): number {
    return this.#sharedBy;
  }

  async close(): Promise<void> {
    clearInterval(this.#heartbeat);
    // Gone at once from the others' count, rather than after three missed beats.
    if (this.#client.status === 'ready') await this.#client.zrem(INSTANCES_KEY, this.#instanceId).catch(() => {});
    this.#client.disconnect();
  }

  /** Says this instance is there, forgets those silent for three beats, and counts the rest. */
  async #beat(): Promise<void> {
    if (this.#client.status !== 'ready') return;
    const now = Date.now();
    try {
      const results = await this.#client
        .multi()
        .zadd(INSTANCES_KEY, now, this.#instanceId)
        .zremrangebyscore(INSTANCES_KEY, '-inf', now - 3 * this.#heartbeatMs)
        .zcard(INSTANCES_KEY)
        .exec();
      const count = Number(results?.[2]?.[1]);
      if (Number.isSafeInteger(count) && count >= 1) this.#sharedBy = count;
    } catch {
      // Valkey away: the last count stands, which is what the fallback needs.
    }
  }

  #limiter(rule: CountingRule): Limiter {
    let limiter = this.#limiters.get(rule.name);
    if (limiter === undefined) {
      limiter = new RateLimiterRedis({
        storeClient: this.#client,
        keyPrefix: `attache:${rule.name}`,
        points: rule.limit,
        duration: rule.windowSeconds,
        customIncrTtlLuaScript: ADD_WITHIN_LIMIT_SCRIPT,
        rejectIfRedisNotReady: true,
      });
      this.#limiters.set(rule.name, limiter);
    }
    return limiter;
  }

  #unavailable(error: unknown): LimitsUnavailable {
    const reason = error instanceof Error ? error.message : this.#lastError;
    return new LimitsUnavailable(`Valkey did not answer: ${reason}`, { cause: error });
  }
}

/** A refused add reports what it would have made (`consumedPoints`); what is stored is that less `amount`. */
function countOf(rule: CountingRule, res: LimiterRes, counted: boolean, amount = 0): Count {
  const used = counted ? res.consumedPoints : res.consumedPoints - amount;
  return { counted, used, remaining: Math.max(rule.limit - used, 0), resetMs: Math.max(res.msBeforeNext, 0) };
}
