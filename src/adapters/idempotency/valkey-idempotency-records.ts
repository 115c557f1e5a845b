import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { IdempotencyClaim, IdempotencyRecord, IdempotencyRecords } from '../../application/ports/idempotency-records.ts';
import { IdempotencyUnavailable } from '../../domain/errors.ts';
import { answersPing, valkeyClient } from '../valkey/valkey-client.ts';

/** Claims the key (SET NX PX) or answers what holds it, in one step: no claim can slip in between. */
const CLAIM_SCRIPT = `
if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return false end
return redis.call('get', KEYS[1])`;

/** Deletes the key only while it still holds this claim (not another's, nor a finished record). */
const RELEASE_SCRIPT = `
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0`;

/** A value is a claim (`c:<claim id>`) or a finished record (`f:<JSON>`). */
const CLAIM_PREFIX = 'c:';
const FINISHED_PREFIX = 'f:';

export interface ValkeyIdempotencyRecordsOptions {
  /** `redis://` or `rediss://` URL of a Valkey or Redis server. */
  readonly url: string;
  /** Longest a command may take before the records count as unavailable. */
  readonly commandTimeoutMs?: number;
}

/**
 * IdempotencyRecords in Valkey (or Redis), shared by every instance: one string per key under
 * `attache:idempotency:`, expiring with its claim or its record (PX), written by the two scripts
 * above so that claims are atomic across instances.
 */
export class ValkeyIdempotencyRecords implements IdempotencyRecords {
  readonly #client: Redis;
  #lastError = 'not connected yet';

  constructor(options: ValkeyIdempotencyRecordsOptions) {
    this.#client = valkeyClient(options.url, options.commandTimeoutMs ?? 1000);
    // Without a listener, ioredis prints every failed reconnection to stderr.
    this.#client.on('error', (error: Error) => {
      this.#lastError = error.message;
    });
  }

  /** Resolves true once the server answers a PING, or false after `timeoutMs` (see answersPing). */
  connected(timeoutMs: number): Promise<boolean> {
    return answersPing(this.#client, timeoutMs);
  }

  async claim(key: string, inFlightMs: number): Promise<IdempotencyClaim> {
    const claimId = randomUUID();
    const held: unknown = await this.#run(() => this.#client.eval(CLAIM_SCRIPT, 1, keyOf(key), CLAIM_PREFIX + claimId, Math.max(Math.ceil(inFlightMs), 1)));
    if (held === null) return { state: 'claimed', claimId };
    if (typeof held === 'string' && held.startsWith(FINISHED_PREFIX)) return { state: 'finished', record: parseRecord(held.slice(FINISHED_PREFIX.length)) };
    if (typeof held === 'string' && held.startsWith(CLAIM_PREFIX)) return { state: 'in-flight' };
    throw new IdempotencyUnavailable('Valkey holds something else than a claim or a record under an idempotency key');
  }

  async finish(key: string, _claimId: string, record: IdempotencyRecord, ttlMs: number): Promise<void> {
    const value = FINISHED_PREFIX + JSON.stringify({ fingerprint: record.fingerprint, answer: record.answer });
    await this.#run(() => this.#client.set(keyOf(key), value, 'PX', Math.max(Math.ceil(ttlMs), 1)));
  }

  async release(key: string, claimId: string): Promise<void> {
    await this.#run(() => this.#client.eval(RELEASE_SCRIPT, 1, keyOf(key), CLAIM_PREFIX + claimId));
  }

  async checkReady(): Promise<void> {
    await this.#run(() => this.#client.ping());
  }

  async close(): Promise<void> {
    this.#client.disconnect();
  }

  async #run<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      const reason = error instanceof Error ? error.message : this.#lastError;
      throw new IdempotencyUnavailable(`Valkey did not answer: ${reason}`, { cause: error });
    }
  }
}

function keyOf(key: string): string {
  return `attache:idempotency:${key}`;
}

/** A finished record as `finish` wrote it; anything else (another program's value, a cut one) is IdempotencyUnavailable, not a crash. */
function parseRecord(json: string): IdempotencyRecord {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    throw new IdempotencyUnavailable('Valkey holds a malformed idempotency record', { cause: error });
  }
  const { fingerprint, answer } = (parsed ?? {}) as Partial<IdempotencyRecord>;
  if (typeof fingerprint !== 'string' || typeof answer !== 'string') throw new IdempotencyUnavailable('Valkey holds a malformed idempotency record');
  return { fingerprint, answer };
}
