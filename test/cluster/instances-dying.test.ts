import { readdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAttacheCluster, storeToken, type AttacheCluster } from '../support/cluster/attache-cluster.ts';
import { eventually } from '../support/eventually.ts';
import { fileNamed } from '../support/file-heads.ts';
import { multipartBody } from '../support/multipart.ts';
import { slowUpload } from '../support/cluster/slow-upload.ts';

/** The spec's form, file first: a file this large streams to the store under a provisional key until session_id comes. */
const form = (size: number) => multipartBody([{ name: 'file', filename: 'report.pdf', content: fileNamed('report.pdf', size), contentType: 'application/pdf' }, { name: 'session_id', value: '9' }]);

async function upload(cluster: AttacheCluster, token: string, size = 1000) {
  const { body, contentType } = form(size);
  const response = await fetch(cluster.uploadUrl, { method: 'POST', headers: { Authorization: `Token ${token}`, 'Content-Type': contentType }, body });
  return { status: response.status, servedBy: response.headers.get('x-served-by') };
}

/** Files in the shared store that belong to no finished upload: provisional objects and temp files. */
async function leftovers(cluster: AttacheCluster): Promise<string[]> {
  const entries = await readdir(cluster.storageDir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => `${e.parentPath}/${e.name}`.slice(cluster.storageDir.length)).filter((f) => f.startsWith('/incoming/') || f.endsWith('.partial'));
}

describe('instances dying behind HAProxy', () => {
  let cluster: AttacheCluster;
  beforeAll(async () => {
    // Uploads may take at most 4 s, so what a dead instance left is swept once 8 s old.
    cluster = await startAttacheCluster({ env: { HTTP_REQUEST_TIMEOUT_MS: '4000', HTTP_HEADERS_TIMEOUT_MS: '2000', SHUTDOWN_GRACE_MS: '8000', UPLOAD_RATE_LIMIT: '1000/1m' } });
  });
  afterAll(() => cluster?.stop());

  it('SIGKILL mid-upload loses only that upload; the retry through the balancer succeeds; what it left is swept by the others', async () => {
    const victim = cluster.instances[1]!;
    const interrupted = slowUpload(victim.url, storeToken(10), form(2_000_000), 3000, 30);
    await eventually(async () => expect(await leftovers(cluster)).not.toEqual([]), 2500, 20);
    victim.process.child.kill('SIGKILL');
    expect(await interrupted).toBeInstanceOf(Error);
    expect(await leftovers(cluster)).not.toEqual([]);

    const retry = await upload(cluster, storeToken(10), 2_000_000);
    expect(retry.status).toBe(200);
    expect(retry.servedBy).not.toBe(victim.name);
    // Others go on being served meanwhile.
    expect((await Promise.all(Array.from({ length: 6 }, () => upload(cluster, storeToken(11))))).map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    await eventually(async () => expect(await leftovers(cluster)).toEqual([]), 30_000, 200);
  });

  it('SIGTERM drains the uploads in flight while the balancer sends new ones elsewhere: no failed request', async () => {
    const draining = cluster.instances[0]!;
    const inFlight = slowUpload(draining.url, storeToken(12), form(500_000), 1200);
    await new Promise((r) => setTimeout(r, 300));
    draining.process.child.kill('SIGTERM');
    const during: Array<Promise<{ status: number; servedBy: string | null }>> = [];
    for (let i = 0; i < 15; i++) {
      during.push(upload(cluster, storeToken(13)));
      await new Promise((r) => setTimeout(r, 60));
    }
    const answers = await Promise.all(during);
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
    expect(await inFlight).toBe(200);
    expect(await draining.process.exited).toBe(0);
    expect(draining.process.output()).toContain('"outcome":"drained"');
  });
});
