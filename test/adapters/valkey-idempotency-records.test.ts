import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { ValkeyIdempotencyRecords } from '../../src/adapters/idempotency/valkey-idempotency-records.ts';
import { IdempotencyUnavailable } from '../../src/domain/errors.ts';
import { idempotencyRecordsContract } from '../contracts/idempotency-records-contract.ts';
import { startRedis, type RunningRedis } from '../support/redis/redis-server.ts';

idempotencyRecordsContract('ValkeyIdempotencyRecords (redis-server)', async () => {
  const redis = await startRedis();
  const records = new ValkeyIdempotencyRecords({ url: redis.url });
  const other = new ValkeyIdempotencyRecords({ url: redis.url });
  await Promise.all([records.connected(5000), other.connected(5000)]);
  return { records, other, close: redis.stop };
});

describe('ValkeyIdempotencyRecords when the server goes away', () => {
  let redis: RunningRedis;
  let records: ValkeyIdempotencyRecords;
  beforeAll(async () => {
    redis = await startRedis();
    records = new ValkeyIdempotencyRecords({ url: redis.url, commandTimeoutMs: 300 });
    await records.connected(5000);
  });
  afterAll(async () => {
    await records.close();
    await redis.stop();
  });

  it('answers IdempotencyUnavailable at once, then claims again once it is back', async () => {
    await redis.kill();
    const t0 = Date.now();
    await expect(records.claim('k', 60_000)).rejects.toBeInstanceOf(IdempotencyUnavailable);
    await expect(records.checkReady()).rejects.toBeInstanceOf(IdempotencyUnavailable);
    expect(Date.now() - t0).toBeLessThan(2000);
    await redis.restart();
    expect(await records.connected(5000)).toBe(true);
    expect((await records.claim('k', 60_000)).state).toBe('claimed');
  });
});

describe('ValkeyIdempotencyRecords when the key holds what it did not write', () => {
  let redis: RunningRedis;
  let records: ValkeyIdempotencyRecords;
  let writer: Redis;
  beforeAll(async () => {
    redis = await startRedis();
    records = new ValkeyIdempotencyRecords({ url: redis.url });
    writer = new Redis(redis.url);
    await records.connected(5000);
  });
  afterAll(async () => {
    writer.disconnect();
    await records.close();
    await redis.stop();
  });

  // Another program sharing the server, a value cut short, a format of another version: the upload
  // is answered as when Valkey cannot answer (503), never a 500 of a SyntaxError or a TypeError.
  it.each([
    ['a finished record that is not JSON', 'f:not json'],
    ['a finished record without its answer', 'f:{"fingerprint":"x"}'],
    ['a finished record that is JSON null', 'f:null'],
    ['neither a claim nor a record', 'something else'],
  ])('answers IdempotencyUnavailable for %s', async (_, value) => {
    await writer.set('attache:idempotency:foreign', value);
    await expect(records.claim('foreign', 60_000)).rejects.toBeInstanceOf(IdempotencyUnavailable);
  });
});
