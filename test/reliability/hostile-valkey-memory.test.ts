/**
 * A Valkey (REDIS_URL) that answers a 1 GB string, or an array that never ends, costs the service a
 * bounded read per connection, not the reply: ioredis's decoder once held every byte of it, 3 GB of
 * RSS within seconds, until the kernel killed the process. Uploads are answered as when Valkey is
 * away (RATE_LIMIT_ON_ERROR=reject: 503 JSON), and counted again once a real server answers. Peak
 * RSS (VmHWM) of a service process run as the image runs it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.ts';
import { fileNamed } from '../support/file-heads.ts';
import { processMemory } from '../support/process-memory.ts';
import { startHostileValkey, type HostileReply, type HostileValkey } from '../support/redis/hostile-valkey.ts';
import { startRedis, type RunningRedis } from '../support/redis/redis-server.ts';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.ts';

const TOKEN = 'hostile-valkey-store-token-42';
/** Hostile connections dropped before memory is read: each a chance to have held a whole reply. */
const DROPPED = 5;

describe.each<HostileReply>(['huge-string', 'endless-array'])('a Valkey that answers a %s', (reply) => {
  let dir: string | undefined;
  let service: ServiceProcess | undefined;
  let hostile: HostileValkey | undefined;
  let redis: RunningRedis | undefined;
  afterEach(async () => {
    service?.child.kill('SIGTERM');
    await service?.exited;
    await hostile?.close();
    await redis?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  async function upload(key?: string): Promise<{ status: number; json: unknown }> {
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(fileNamed('photo.jpg', 4000))]), 'photo.jpg');
    const headers: Record<string, string> = { Authorization: `Token ${TOKEN}` };
    if (key !== undefined) headers['Idempotency-Key'] = key;
    const response = await fetch(`${service!.url}/v1/chat/upload/`, { method: 'POST', headers, body: form });
    return { status: response.status, json: await response.json() };
  }

  it('costs a bounded read, answers uploads 503 JSON, and takes them again once a real server answers', async () => {
    // A real server behind it while the service starts, so that what the service holds idle is known.
    redis = await startRedis();
    hostile = await startHostileValkey(reply);
    hostile.forwardTo(redis.port);
    dir = mkdtempSync(join(tmpdir(), 'attache-hostile-valkey-'));
    writeFileSync(join(dir, 'tokens.json'), JSON.stringify({ tokens: [{ token: TOKEN, role: 'store', id: '42' }] }));
    service = await startServiceProcess(
      {
        HOST: '127.0.0.1',
        AUTH_TOKENS_FILE: join(dir, 'tokens.json'),
        STORAGE_DRIVER: 'memory',
        REDIS_URL: hostile.url,
        RATE_LIMIT_ON_ERROR: 'reject',
        UPLOAD_RATE_LIMIT: '100/1m',
        UPLOAD_QUOTA: '1GB/1d',
      },
      30_000,
      { asImage: true },
    );
    expect((await upload()).status).toBe(200);
    const idle = processMemory(service.child.pid!).peakRssMb;
    hostile.turnHostile();
    await eventually(async () => expect(hostile!.floods.length).toBeGreaterThan(0), 30_000);
    expect(await upload()).toEqual({ status: 503, json: { error: 'Limits unavailable' } });
    expect(await upload('"hostile-1"')).toEqual({ status: 503, json: { error: 'Limits unavailable' } });
    // Each dropped connection is followed by another (ioredis reconnects, the heartbeat asks again).
    await eventually(async () => expect(hostile!.floods.length).toBeGreaterThanOrEqual(DROPPED), 60_000);
    const sent = await Promise.all(hostile.floods.slice(0, DROPPED).map((flood) => flood.outcome));
    expect(sent.every((bytes) => bytes !== undefined), 'the service read on until the server gave up').toBe(true);
    const peak = processMemory(service.child.pid!).peakRssMb;
    console.log(`[hostile Valkey, ${reply}] ${DROPPED} connections dropped after ${sent.map((b) => Math.round(b! / 1024)).join(', ')} KiB sent: peak RSS before ${idle} MB, after ${peak} MB`);
    // A whole reply is 1 GB (or, as an array, more than the process may hold); the bound is 64 KiB
    // a connection. 64 MB leaves room for the decoder's garbage between collections on a busy machine.
    expect(peak - idle).toBeLessThanOrEqual(64);

    hostile.forwardTo(redis.port);
    await eventually(async () => expect((await upload('"hostile-2"')).status).toBe(200), 30_000);
  }, 180_000);
});
