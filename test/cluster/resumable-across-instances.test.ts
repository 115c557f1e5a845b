/**
 * Resumable uploads on three attache processes behind HAProxy (round robin, request bodies
 * streamed), on S3 (the run's Ceph RGW) and on local storage (a shared folder), as issue #23 asks:
 * tus-js-client (Node) sends 30 MB in 5 MB pieces; the instance taking a PATCH, found by asking
 * HAProxy which instance is serving it, is killed (SIGKILL) in the middle of the piece's body; the
 * client resumes through another instance from the offset really stored and finishes; the stored
 * bytes are the file's, and nothing staged remains but the upload's record and answer. Then two
 * PATCHes of one upload at once, on two instances: one stores its piece, the other gets 409.
 */
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand, GetObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startAttacheCluster, storeToken, type AttacheCluster } from '../support/cluster/attache-cluster.ts';
import { eventually } from '../support/eventually.ts';
import { fileNamed } from '../support/file-heads.ts';
import { s3ClientFor, s3ServiceEnv } from '../support/s3/rgw-global-setup.ts';
import { filesUnder } from '../support/stores-under-test.ts';
import { sha256 } from '../support/streams.ts';
import { stallingHttpStack, tusUpload } from '../support/tus-client.ts';

const MB = 1024 * 1024;
const RESUMABLE = '/v1/chat/upload/resumable/';

/** What the test reads behind attache's back: the shared folder, or the bucket. */
interface SharedStorage {
  readonly env: Record<string, string>;
  /** Every key, hidden files (a local store's temp files and sidecars) included. */
  keys(cluster: AttacheCluster): Promise<string[]>;
  bytesAt(cluster: AttacheCluster, key: string): Promise<Buffer>;
  /** Writes begun and never finished: S3's open multipart uploads (a local store's are its hidden `.partial` files, in `keys`). */
  unfinished(): Promise<string[]>;
  close(): Promise<void>;
}

function sharedFolder(): SharedStorage {
  return {
    env: {},
    keys: (cluster) => filesUnder(cluster.storageDir),
    bytesAt: (cluster, key) => readFile(join(cluster.storageDir, key)),
    unfinished: async () => [],
    close: async () => {},
  };
}

function sharedBucket(): SharedStorage {
  const s3 = inject('s3');
  const client = s3ClientFor(s3);
  const bucket = `attache-tus3-${randomBytes(4).toString('hex')}`;
  const keys = async () => ((await client.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map((o) => o.Key!).sort();
  return {
    // STORAGE_CHECK=off: the bucket is private, and the public URLs the start-up check would rightly refuse are not what this test looks at.
    env: { ...s3ServiceEnv(s3, bucket), STORAGE_CHECK: 'off', BUCKET_TO_CREATE: bucket },
    keys,
    bytesAt: async (_cluster, key) => Buffer.from(await (await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToByteArray()),
    unfinished: async () => ((await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? []).map((u) => u.Key!),
    close: async () => {
      for (const key of await keys()) await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      await client.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => {});
      client.destroy();
    },
  };
}

async function createBucketOf(storage: SharedStorage): Promise<void> {
  const bucket = storage.env['BUCKET_TO_CREATE'];
  if (bucket === undefined) return;
  const client = s3ClientFor(inject('s3'));
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  client.destroy();
}

/** A PATCH sent by hand, through the balancer, on a connection of its own; its body is written when the test says. */
function manualPatch(url: string, token: string, id: string, offset: number, length: number) {
  const req = request(`${url}${RESUMABLE}${id}`, {
    method: 'PATCH',
    agent: false,
    headers: { Authorization: `Token ${token}`, 'Tus-Resumable': '1.0.0', 'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream', 'Content-Length': length },
  });
  const answer = new Promise<{ status: number; offset: string | undefined; servedBy: string | undefined; body: string }>((resolve, reject) => {
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, offset: res.headers['upload-offset'] as string | undefined, servedBy: res.headers['x-served-by'] as string | undefined, body }));
    });
    req.on('error', reject);
  });
  // Awaited by the test; a failure before that fails the test, not the run.
  answer.catch(() => {});
  return { req, answer };
}

async function createUpload(url: string, token: string, length: number, fileName: string): Promise<string> {
  const created = await fetch(`${url}${RESUMABLE}`, {
    method: 'POST',
    headers: { Authorization: `Token ${token}`, 'Tus-Resumable': '1.0.0', 'Upload-Length': String(length), 'Upload-Metadata': `filename ${Buffer.from(fileName).toString('base64')},session_id ${Buffer.from('9').toString('base64')}` },
  });
  expect(created.status).toBe(201);
  return /([0-9a-f-]{36})$/.exec(created.headers.get('location')!)![1]!;
}

/** What each instance still running had read so far. */
async function bytesReadByEach(cluster: AttacheCluster): Promise<Map<string, number>> {
  const running = cluster.instances.filter((i) => i.process.child.exitCode === null && i.process.child.signalCode === null);
  return new Map(await Promise.all(running.map(async (i) => [i.name, await i.bytesRead()] as const)));
}

/**
 * The one instance HAProxy says is serving a request now, once that instance has read at least
 * `bytes` more than `before` said: the request's body is reaching it while the client still sends.
 */
async function instanceReceiving(cluster: AttacheCluster, before: ReadonlyMap<string, number>, bytes: number): Promise<string> {
  let busy: string | undefined;
  await eventually(async () => {
    const serving = (await cluster.balancer.serverStats()).filter((s) => s.current > 0);
    expect(serving).toHaveLength(1);
    const instance = cluster.instances.find((i) => i.name === serving[0]!.name)!;
    expect((await instance.bytesRead()) - before.get(instance.name)!).toBeGreaterThanOrEqual(bytes);
    busy = instance.name;
  }, 15_000, 20);
  return busy!;
}

describe.each([
  ['local (a shared folder)', sharedFolder],
  ['s3 (Ceph RGW)', sharedBucket],
] as const)('resumable uploads on three instances behind HAProxy, on %s', (name, makeStorage) => {
  let storage: SharedStorage;
  let cluster: AttacheCluster;

  beforeAll(async () => {
    storage = makeStorage();
    await createBucketOf(storage);
    const { BUCKET_TO_CREATE: _, ...env } = storage.env;
    cluster = await startAttacheCluster({
      env: {
        ...env,
        NODE_ENV: 'production',
        // A request lasts at most 12 s, so what a killed instance left unfinished is swept once 24 s old.
        HTTP_REQUEST_TIMEOUT_MS: '12000',
        HTTP_HEADERS_TIMEOUT_MS: '4000',
        MAX_FILE_SIZE: String(64 * MB),
      },
    });
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
    await storage?.close();
  });

  it('30 MB in 5 MB pieces: the instance taking a PATCH is killed mid-piece; the upload resumes through another and is whole', async () => {
    const token = storeToken(1);
    const bytes = Buffer.concat([fileNamed('survey.pdf', 1000), randomBytes(30 * MB - 1000)]);
    // The third piece (offset 10 MB), the first time it is sent: 2.5 MB of it, then the client waits.
    let releaseStall!: () => void;
    const stallUntil = new Promise<void>((release) => (releaseStall = release));
    let stallReached!: () => void;
    const stalling = new Promise<void>((reached) => (stallReached = reached));
    let stalled = false;
    const stack = stallingHttpStack((offset) => {
      if (offset !== 10 * MB || stalled) return undefined;
      stalled = true;
      stallReached();
      return { bytes: 2.5 * MB, until: stallUntil };
    });
    // What the balancer had sent each instance when the piece before was answered (tus-js-client waits for onAfterResponse).
    let beforeStalledPiece = new Map<string, number>();
    const answers: { method: string; servedBy: string | undefined; offset: string | undefined; status: number }[] = [];
    const uploading = tusUpload(`${cluster.url}${RESUMABLE}`, bytes, {
      token,
      fileName: 'survey.pdf',
      sessionId: '4',
      chunkSize: 5 * MB,
      retryDelays: [200, 500, 1000, 2000],
      httpStack: stack,
      onAfterResponse: async (req, res) => {
        answers.push({ method: req.getMethod(), servedBy: res.getHeader('X-Served-By'), offset: res.getHeader('Upload-Offset'), status: res.getStatus() });
        if (!stalled && res.getHeader('Upload-Offset') === String(10 * MB)) beforeStalledPiece = await bytesReadByEach(cluster);
      },
    });
    // Known to be handled: a failure before the upload's end fails the test, not the run.
    uploading.catch(() => {});
    await stalling;
    // HAProxy streams the body: the instance serving the PATCH has 2 MB of it while the client holds the rest.
    const killed = await instanceReceiving(cluster, beforeStalledPiece, 2 * MB);
    const victim = cluster.instances.find((i) => i.name === killed)!;
    victim.process.child.kill('SIGKILL');
    expect(await victim.process.exited).toBeNull();
    releaseStall();

    const done = await uploading;
    expect(done.headers('Attache-Sha256')).toBe(sha256(bytes));
    expect(done.headers('Attache-Size')).toBe(String(30 * MB));
    // The pieces before the kill were answered; the killed one was not; the client asked where the
    // upload stood (HEAD, on an instance alive) and was told 10 MB: the two pieces stored whole.
    const heads = answers.filter((a) => a.method === 'HEAD');
    expect(heads.map((a) => a.offset), JSON.stringify(answers)).toEqual([String(10 * MB)]);
    expect(heads[0]!.servedBy).not.toBe(killed);
    const afterKill = answers.slice(answers.indexOf(heads[0]!));
    expect(afterKill.filter((a) => a.method === 'PATCH').map((a) => a.offset)).toEqual(['15', '20', '25', '30'].map((m) => String(Number(m) * MB)));
    expect(afterKill.every((a) => a.servedBy !== killed && a.status < 300)).toBe(true);
    // Served by both instances alive, round robin.
    expect(new Set(afterKill.map((a) => a.servedBy)).size).toBe(2);

    const key = /\/(chat\/session-4\/[^/]+-survey\.pdf)$/.exec(done.headers('Attache-Url')!)![1]!;
    expect(sha256(await storage.bytesAt(cluster, key))).toBe(sha256(bytes));
    if (name.startsWith('local')) {
      // The download through the balancer, as a recipient gets it.
      const downloaded = await fetch(done.headers('Attache-Url')!);
      expect(downloaded.status).toBe(200);
      expect(sha256(Buffer.from(await downloaded.arrayBuffer()))).toBe(sha256(bytes));
    }

    // Nothing staged remains but the upload's record and its answer (what GET …/<id> and a retried
    // last PATCH answer; removed with the staged prefix's lifetime). What the killed instance left
    // unfinished (a local store's hidden temp file; on S3 nothing: a 5 MB piece is one PutObject,
    // never completed) is removed by the surviving instances' sweep of abandoned writes.
    const id = /([0-9a-f-]{36})$/.exec(done.url)![1]!;
    const visibleStaged = (keys: string[]) => keys.filter((k) => k.startsWith('staged/') && !k.split('/').pop()!.startsWith('.'));
    expect(visibleStaged(await storage.keys(cluster))).toEqual([`staged/${id}.answer.json`, `staged/${id}.tus`]);
    const partials = async () => (await storage.keys(cluster)).filter((k) => k.startsWith('staged/') && k.endsWith('.partial'));
    if (name.startsWith('local')) expect(await partials()).toHaveLength(1);
    await eventually(async () => {
      const left = await partials();
      expect(left).toEqual([]);
      expect(await storage.unfinished()).toEqual([]);
    }, 60_000, 500);
  }, 180_000);

  it('two PATCHes of one upload at once, on two instances: one stores its piece, the other gets 409; the file is whole', async () => {
    const token = storeToken(2);
    const bytes = Buffer.concat([fileNamed('twice.pdf', 1000), randomBytes(9 * MB - 1000)]);
    const id = await createUpload(cluster.url, token, bytes.length, 'twice.pdf');

    // The first sends 6 MB from 0, and is held after 2 MB, its instance writing the piece.
    const before = await bytesReadByEach(cluster);
    const slow = manualPatch(cluster.url, token, id, 0, 6 * MB);
    slow.req.write(bytes.subarray(0, 2 * MB));
    await instanceReceiving(cluster, before, 2 * MB);
    // Meanwhile a retry of the same offset, 3 MB, through the balancer's next instance: stored.
    const quick = manualPatch(cluster.url, token, id, 0, 3 * MB);
    quick.req.end(bytes.subarray(0, 3 * MB));
    const quickAnswer = await quick.answer;
    expect(quickAnswer, quickAnswer.body).toMatchObject({ status: 204, offset: String(3 * MB) });
    // The first one's piece, once whole, cannot be stored at an offset taken: 409, nothing of it kept.
    slow.req.end(bytes.subarray(2 * MB, 6 * MB));
    const slowAnswer = await slow.answer;
    expect(slowAnswer.status, slowAnswer.body).toBe(409);
    expect(slowAnswer.servedBy).not.toBe(quickAnswer.servedBy);

    // Two at once, released together, for the same offset: exactly one is stored.
    const [a, b] = [manualPatch(cluster.url, token, id, 3 * MB, 3 * MB), manualPatch(cluster.url, token, id, 3 * MB, 3 * MB)];
    a.req.end(bytes.subarray(3 * MB, 6 * MB));
    b.req.end(bytes.subarray(3 * MB, 6 * MB));
    const both = await Promise.all([a.answer, b.answer]);
    expect(both.map((x) => x.status).sort(), JSON.stringify(both)).toEqual([204, 409]);

    const head = await fetch(`${cluster.url}${RESUMABLE}${id}`, { method: 'HEAD', headers: { Authorization: `Token ${token}`, 'Tus-Resumable': '1.0.0' } });
    expect(head.headers.get('upload-offset')).toBe(String(6 * MB));
    const last = manualPatch(cluster.url, token, id, 6 * MB, 3 * MB);
    last.req.end(bytes.subarray(6 * MB));
    expect((await last.answer).status).toBe(204);
    const answer = await fetch(`${cluster.url}${RESUMABLE}${id}`, { headers: { Authorization: `Token ${token}` } });
    const text = await answer.text();
    expect(answer.status, text).toBe(200);
    const result = JSON.parse(text) as { url: string; sha256: string };
    expect(result.sha256).toBe(sha256(bytes));
    const key = /\/(chat\/session-9\/[^/]+-twice\.pdf)$/.exec(result.url)![1]!;
    expect(sha256(await storage.bytesAt(cluster, key))).toBe(sha256(bytes));
  }, 120_000);
});
