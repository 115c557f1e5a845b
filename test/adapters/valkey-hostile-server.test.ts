import { afterEach, describe, expect, it } from 'vitest';
import { ValkeyIdempotencyRecords } from '../../src/adapters/idempotency/valkey-idempotency-records.ts';
import { ValkeyUsageCounters } from '../../src/adapters/limits/valkey-usage-counters.ts';
import { MAX_VALKEY_REPLY_BYTES } from '../../src/adapters/valkey/valkey-client.ts';
import { IdempotencyUnavailable, LimitsUnavailable } from '../../src/domain/errors.ts';
import { eventually } from '../support/eventually.ts';
import { startHostileValkey, type HostileReply, type HostileValkey } from '../support/redis/hostile-valkey.ts';
import { startRedis, type RunningRedis } from '../support/redis/redis-server.ts';

/**
 * What a flooded connection may carry before attache hangs up: its bound on one reply, plus what
 * the kernel's loopback socket buffers and Node's write buffer hold on the way (a few MB). Without
 * the bound, the server reaches its own cap (FLOOD_CAP_BYTES, 512 MiB) and the outcome says so.
 */
const SENT_BEFORE_HANG_UP_BYTES = MAX_VALKEY_REPLY_BYTES + 32 * 1024 * 1024;

/** The first hostile connection was dropped by attache, having carried no more than the bound. */
async function expectBoundedRead(hostile: HostileValkey): Promise<void> {
  const sent = await hostile.floods[0]!.outcome;
  expect(sent, 'attache read on until the server gave up').toBeDefined();
  expect(sent).toBeLessThan(SENT_BEFORE_HANG_UP_BYTES);
}

const replies: HostileReply[] = ['huge-string', 'endless-array', 'stalled-reply'];

describe.each(replies)('a Valkey server that answers a %s', (reply) => {
  let hostile: HostileValkey;
  let redis: RunningRedis | undefined;
  const closing: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    await Promise.all(closing.splice(0).map((c) => c.close()));
    await hostile.close();
    await redis?.stop();
  });

  it('costs ValkeyUsageCounters LimitsUnavailable and a bounded read, and counts again once a real server answers', async () => {
    hostile = await startHostileValkey(reply);
    const counters = new ValkeyUsageCounters({ url: hostile.url });
    closing.push(counters);
    const rule = { name: 'hostile', limit: 10, windowSeconds: 60 };
    // Its first command is its heartbeat, sent as soon as the handshake is done.
    await eventually(async () => expect(hostile.floods.length).toBeGreaterThan(0), 5000);
    await expect(counters.add(rule, 'k', 1)).rejects.toBeInstanceOf(LimitsUnavailable);

    // The next connections reach a real server; the hostile one stays open until attache drops it.
    redis = await startRedis();
    hostile.forwardTo(redis.port);
    expect(await counters.connected(10_000)).toBe(true);
    expect(await counters.add(rule, 'k', 1)).toMatchObject({ counted: true, used: 1 });
    await expectBoundedRead(hostile);
  });

  it('costs ValkeyIdempotencyRecords IdempotencyUnavailable and a bounded read, and claims again once a real server answers', async () => {
    hostile = await startHostileValkey(reply);
    const records = new ValkeyIdempotencyRecords({ url: hostile.url });
    closing.push(records);
    expect(await records.connected(5000)).toBe(true);
    await expect(records.claim('k', 60_000)).rejects.toBeInstanceOf(IdempotencyUnavailable);

    redis = await startRedis();
    hostile.forwardTo(redis.port);
    expect(await records.connected(10_000)).toBe(true);
    expect((await records.claim('k', 60_000)).state).toBe('claimed');
    await expectBoundedRead(hostile);
  });
});
