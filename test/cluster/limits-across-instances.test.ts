import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAttacheCluster, storeToken, type AttacheCluster } from '../support/cluster/attache-cluster.ts';
import { eventually } from '../support/eventually.ts';
import { fileNamed } from '../support/file-heads.ts';

/** One upload through the balancer: its status, body, and which instance answered. */
async function upload(cluster: AttacheCluster, token: string, size = 1000) {
  const form = new FormData();
  form.append('session_id', '1');
  form.append('file', new Blob([fileNamed('a.pdf', size)]), 'a.pdf');
  const response = await fetch(cluster.uploadUrl, { method: 'POST', headers: { Authorization: `Token ${token}` }, body: form });
  const body = (await response.json().catch(() => undefined)) as { error?: string; size?: number } | undefined;
  return { status: response.status, body, servedBy: response.headers.get('x-served-by') };
}

describe('limits shared by three instances behind HAProxy (RATE_LIMIT_ON_ERROR=allow)', () => {
  let cluster: AttacheCluster;
  beforeAll(async () => {
    cluster = await startAttacheCluster({ env: { UPLOAD_RATE_LIMIT: '12/1h', UPLOAD_QUOTA: '20KB/1h' } });
  });
  afterAll(() => cluster?.stop());

  it('a limit of N uploads spread over three instances admits exactly N', async () => {
    const results = await Promise.all(Array.from({ length: 36 }, () => upload(cluster, storeToken(1), 100)));
    const admitted = results.filter((r) => r.status === 200);
    expect(admitted).toHaveLength(12);
    expect(results.filter((r) => r.status === 429).every((r) => r.body?.error === 'Too many requests')).toBe(true);
    expect(results.filter((r) => r.status !== 200 && r.status !== 429)).toEqual([]);
    // The balancer spread them: all three instances answered.
    expect(new Set(results.map((r) => r.servedBy)).size).toBe(3);
  });

  it('a byte quota holds across instances under concurrent uploads', async () => {
    const results = await Promise.all(Array.from({ length: 12 }, () => upload(cluster, storeToken(2), 3000)));
    const stored = results.filter((r) => r.status === 200).reduce((sum, r) => sum + (r.body?.size ?? 0), 0);
    expect(stored).toBeLessThanOrEqual(20_000);
    expect(stored).toBeGreaterThanOrEqual(15_000);
    expect(results.filter((r) => r.status === 429).length).toBeGreaterThan(0);
    expect(results.filter((r) => r.status === 429).every((r) => r.body?.error === 'Quota exceeded')).toBe(true);
    expect(new Set(results.map((r) => r.servedBy)).size).toBeGreaterThan(1);
  });

  it('Valkey killed: each instance counts its share alone and says so; restarted: counted together again', async () => {
    // Every instance has counted the others (a heartbeat every 5 s) before Valkey goes.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, cluster.startedAt + 5500 - Date.now())));
    await cluster.redis.kill();
    const during = await Promise.all(Array.from({ length: 6 }, () => upload(cluster, storeToken(3))));
    expect(during.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    for (const instance of cluster.instances) {
      const ready = await fetch(`${instance.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: 'ready', unavailable: ['limits', 'idempotency'] });
    }
    expect(cluster.instances.some((i) => i.process.output().includes('Valkey (REDIS_URL) cannot answer'))).toBe(true);
    // Each of the three takes its share of 12, 4: together, still 12.
    const shared = await Promise.all(Array.from({ length: 30 }, () => upload(cluster, storeToken(6), 100)));
    expect(shared.filter((r) => r.status === 200)).toHaveLength(12);

    await cluster.redis.restart();
    await eventually(async () => {
      for (const instance of cluster.instances) expect(await (await fetch(`${instance.url}/readyz`)).json()).toEqual({ status: 'ready' });
    }, 10_000);
    // A server without persistence lost its counts: a fresh window of 12, shared again.
    const after = await Promise.all(Array.from({ length: 20 }, () => upload(cluster, storeToken(4), 100)));
    expect(after.filter((r) => r.status === 200)).toHaveLength(12);
  });
});

describe('RATE_LIMIT_ON_ERROR=reject across three instances', () => {
  let cluster: AttacheCluster;
  beforeAll(async () => {
    cluster = await startAttacheCluster({ env: { UPLOAD_RATE_LIMIT: '100/1m', RATE_LIMIT_ON_ERROR: 'reject' } });
  });
  afterAll(() => cluster?.stop());

  it('Valkey killed: uploads refused with a JSON 503, every instance still ready (so the balancer keeps them); restarted: uploads taken again', async () => {
    expect((await upload(cluster, storeToken(5))).status).toBe(200);
    await cluster.redis.kill();
    const during = await upload(cluster, storeToken(5));
    expect(during.status).toBe(503);
    expect(during.body).toEqual({ error: 'Limits unavailable' });
    for (const instance of cluster.instances) expect(await (await fetch(`${instance.url}/readyz`)).json()).toEqual({ status: 'ready', unavailable: ['limits', 'idempotency'] });
    await cluster.redis.restart();
    await eventually(async () => expect((await upload(cluster, storeToken(5))).status).toBe(200), 15_000);
  });
});
