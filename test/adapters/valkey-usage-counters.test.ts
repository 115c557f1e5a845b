import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValkeyUsageCounters } from '../../src/adapters/limits/valkey-usage-counters.ts';
import { LimitsUnavailable } from '../../src/domain/errors.ts';
import { usageCountersContract } from '../contracts/usage-counters-contract.ts';
import { eventually } from '../support/eventually.ts';
import { startRedis, type RunningRedis } from '../support/redis/redis-server.ts';

usageCountersContract('ValkeyUsageCounters (redis-server)', async () => {
  const redis = await startRedis();
  const counters = new ValkeyUsageCounters({ url: redis.url });
  const other = new ValkeyUsageCounters({ url: redis.url });
  await Promise.all([counters.connected(5000), other.connected(5000)]);
  return { counters, other, close: redis.stop };
});

describe('ValkeyUsageCounters sharedBy', () => {
  it('counts the instances connected to one server, and forgets one that closed', async () => {
    const redis = await startRedis();
    const instances = [0, 1, 2].map(() => new ValkeyUsageCounters({ url: redis.url, heartbeatMs: 100 }));
    try {
      await Promise.all(instances.map((i) => i.connected(5000)));
      await eventually(async () => expect(instances.map((i) => i.sharedBy())).toEqual([3, 3, 3]), 3000);
      await instances.pop()!.close();
      await eventually(async () => expect(instances.map((i) => i.sharedBy())).toEqual([2, 2]), 3000);
      // While the server is away, the last count stands.
      await redis.kill();
      await new Promise((r) => setTimeout(r, 300));
      expect(instances.map((i) => i.sharedBy())).toEqual([2, 2]);
    } finally {
      await Promise.all(instances.map((i) => i.close()));
      await redis.stop();
    }
  });
});

describe('ValkeyUsageCounters when the server goes away', () => {
  let redis: RunningRedis;
  let counters: ValkeyUsageCounters;
  const rule = { name: 'away', limit: 10, windowSeconds: 60 };
  beforeAll(async () => {
    redis = await startRedis();
    counters = new ValkeyUsageCounters({ url: redis.url, commandTimeoutMs: 300 });
    await counters.connected(5000);
  });
  afterAll(async () => {
    await counters.close();
    await redis.stop();
  });

  it('answers LimitsUnavailable at once (no queued command waits for it), then counts again once it is back', async () => {
    expect((await counters.add(rule, 'k', 1)).counted).toBe(true);
    await redis.kill();
    const t0 = Date.now();
    await expect(counters.add(rule, 'k', 1)).rejects.toBeInstanceOf(LimitsUnavailable);
    await expect(counters.peek(rule, 'k')).rejects.toBeInstanceOf(LimitsUnavailable);
    await expect(counters.checkReady()).rejects.toBeInstanceOf(LimitsUnavailable);
    expect(Date.now() - t0).toBeLessThan(2000);
    await redis.restart();
    expect(await counters.connected(5000)).toBe(true);
    // A server without persistence lost its counts: the window starts again.
    expect(await counters.add(rule, 'k', 1)).toMatchObject({ counted: true, used: 1 });
  });
});
