import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAttacheCluster, storeToken, type AttacheCluster } from '../support/cluster/attache-cluster.ts';
import { fileNamed } from '../support/file-heads.ts';
import { filesUnder } from '../support/stores-under-test.ts';

/** One upload through the balancer with an Idempotency-Key: its status, body, and which instance answered. */
async function upload(cluster: AttacheCluster, key: string, session: string, content: Buffer) {
  const form = new FormData();
  form.append('session_id', session);
  form.append('file', new Blob([content]), 'a.pdf');
  const response = await fetch(cluster.uploadUrl, {
    method: 'POST',
    headers: { Authorization: `Token ${storeToken(1)}`, 'Idempotency-Key': `"${key}"` },
    body: form,
  });
  const body = (await response.json()) as Record<string, unknown>;
  return { status: response.status, body, servedBy: response.headers.get('x-served-by') };
}

/** The attachments stored in a session's folder of the shared store (not their hidden `.meta.json` sidecars). */
async function storedIn(cluster: AttacheCluster, session: string): Promise<string[]> {
  const folder = `chat/session-${session}/`;
  return (await filesUnder(cluster.storageDir)).filter((key) => key.startsWith(folder) && !key.slice(folder.length).startsWith('.'));
}

describe('Idempotency-Key across three instances behind HAProxy (one Valkey)', () => {
  let cluster: AttacheCluster;
  beforeAll(async () => {
    cluster = await startAttacheCluster();
  });
  afterAll(() => cluster?.stop());

  it('the same upload retried through the balancer lands once, whichever instance each retry reaches', async () => {
    const file = fileNamed('a.pdf', 20_000);
    const results = [];
    for (let i = 0; i < 6; i++) results.push(await upload(cluster, 'retried-1', 'retried', file));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(new Set(results.map((r) => JSON.stringify(r.body))).size).toBe(1);
    expect(new Set(results.map((r) => r.servedBy)).size).toBeGreaterThan(1);
    expect(await storedIn(cluster, 'retried')).toHaveLength(1);
  });

  it('concurrent requests with one key: one upload stored; every answer is its 200 or 409 Upload in progress', async () => {
    const file = fileNamed('a.pdf', 2_000_000);
    const results = await Promise.all(Array.from({ length: 9 }, () => upload(cluster, 'concurrent-1', 'concurrent', file)));
    const ok = results.filter((r) => r.status === 200);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    expect(new Set(ok.map((r) => JSON.stringify(r.body))).size).toBe(1);
    expect(results.filter((r) => r.status !== 200)).toEqual(results.filter((r) => r.status === 409).map((r) => ({ ...r, body: { error: 'Upload in progress', detail: expect.any(String) } })));
    expect(new Set(results.map((r) => r.servedBy)).size).toBe(3);
    expect(await storedIn(cluster, 'concurrent')).toHaveLength(1);
    // Once it has finished, a retry from anywhere gets its answer.
    expect((await upload(cluster, 'concurrent-1', 'concurrent', file)).body).toEqual(ok[0]!.body);
  });

  it('another file under a used key is refused by every instance, nothing stored', async () => {
    expect((await upload(cluster, 'reused-1', 'reused', fileNamed('a.pdf', 1000))).status).toBe(200);
    const others = await Promise.all(Array.from({ length: 3 }, () => upload(cluster, 'reused-1', 'reused', fileNamed('a.pdf', 1001))));
    expect(others.map((r) => r.status)).toEqual([422, 422, 422]);
    expect(others[0]!.body['error']).toBe('Idempotency key reused');
    expect(await storedIn(cluster, 'reused')).toHaveLength(1);
  });
});
