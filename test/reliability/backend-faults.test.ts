/**
 * Backend faults (issue 5): the storage server is killed, or hangs, while uploads are in flight. Those
 * requests get 503 {"error":"Storage unavailable"} within a bound computed from the store's configured
 * timeouts (a hang guard, not a speed target), never a hang or a 500; the service keeps answering; once
 * storage is back the next upload succeeds on the same attache instance, and nothing half-written remains.
 *
 * Each backend here is private to this file (a Ceph RGW, a GCS emulator, an Azurite), since it gets killed.
 */
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutBucketPolicyCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Storage, type Bucket } from '@google-cloud/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GcsObjectStore } from '../../src/adapters/object-store/gcs/gcs-object-store.ts';
import { S3ObjectStore } from '../../src/adapters/object-store/s3/s3-object-store.ts';
import { startAttacheUnderTest, TEST_TOKENS, type AttacheUnderTest } from '../support/attache-under-test.ts';
import { fileNamed } from '../support/file-heads.ts';
import { startGcsEmulator, type RunningGcsEmulator } from '../support/gcs/gcs-global-setup.ts';
import { multipartBody } from '../support/multipart.ts';
import { publicReadPolicy } from '../support/s3/s3-store-driver.ts';
import { RGW_ACCESS_KEY, RGW_SECRET_KEY, startRgw, type RunningRgw } from '../support/s3/rgw-server.ts';
import { eventually } from '../support/eventually.ts';
import { azuriteBackend } from '../support/azure/faulty-azurite.ts';
import type { FaultyBackend } from '../support/faulty-backend.ts';

const MiB = 1024 * 1024;
const MAX_FILE_SIZE = 32 * MiB;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** S3ObjectStore's timeouts here: small, so a dead backend shows in seconds. */
const S3_TIMEOUTS = { requestTimeoutMs: 1_500, connectionTimeoutMs: 500, maxAttempts: 2 };

async function rgwBackend(): Promise<FaultyBackend> {
  const rgw: RunningRgw = await startRgw();
  const credentials = { accessKeyId: RGW_ACCESS_KEY, secretAccessKey: RGW_SECRET_KEY };
  const bucket = 'attache-faults';
  const inspector = new S3Client({ endpoint: rgw.endpoint, region: 'us-east-1', forcePathStyle: true, credentials, maxAttempts: 1 });
  try {
    await inspector.send(new CreateBucketCommand({ Bucket: bucket }));
    await inspector.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: publicReadPolicy(bucket) }));
  } catch (error) {
    inspector.destroy();
    await rgw.stop();
    throw error;
  }
  const store = new S3ObjectStore({ bucket, region: 'us-east-1', endpoint: rgw.endpoint, credentials, urlMode: 'public', ...S3_TIMEOUTS });
  const uploads = async () => (await inspector.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? [];
  const objects = async () => ((await inspector.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map((o) => o.Key!);
  const { requestTimeoutMs: t, maxAttempts: n } = S3_TIMEOUTS;
  return {
    name: 's3 (Ceph RGW)',
    store,
    // S3ObjectStore's documented bound, (maxAttempts + 1) × requestTimeoutMs (the upload's tries, then one
    // timeout for its cleanup), plus the retry's backoff (under 1 s here) and 1.5 s for a busy 2-core machine.
    answerBoundMs: (n + 1) * t + 2_500,
    async largeUploadsReachedBackend(count) {
      await eventually(async () => expect((await uploads()).length).toBeGreaterThanOrEqual(count), 20_000);
    },
    kill: () => rgw.signalGateway('SIGKILL'),
    restart: () => rgw.restartGateway(),
    freeze: () => rgw.signalGateway('SIGSTOP'),
    thaw: () => rgw.signalGateway('SIGCONT'),
    async leftovers() {
      return [...(await objects()), ...(await uploads()).map((u) => `${u.Key} (incomplete multipart upload)`)].sort();
    },
    async close() {
      store.close();
      try {
        for (const key of await objects()) await inspector.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
        for (const { Key, UploadId } of await uploads()) await inspector.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key, UploadId }));
      } catch {
        // The cluster goes away next anyway.
      }
      inspector.destroy();
      await rgw.stop();
    },
  };
}

/** GcsObjectStore's timeouts here: small, so a dead backend shows in seconds. */
const GCS_TIMEOUTS = { requestTimeoutMs: 1_500, maxRetries: 1 };

async function gcsBackend(): Promise<FaultyBackend> {
  let emulator: RunningGcsEmulator = await startGcsEmulator();
  const port = Number(new URL(emulator.endpoint).port);
  const bucketName = 'attache-faults';
  const projectId = 'demo-test';
  const inspector = new Storage({ apiEndpoint: emulator.endpoint, projectId, retryOptions: { autoRetry: false } });
  const bucket: Bucket = inspector.bucket(bucketName);
  // A new emulator starts empty: the bucket is made again each time, as an operator would restore it.
  const createBucket = () => inspector.createBucket(bucketName).then(() => undefined);
  await createBucket().catch(async (error: unknown) => {
    await emulator.stop();
    throw error;
  });
  const store = new GcsObjectStore({
    bucket: bucketName,
    projectId,
    apiEndpoint: emulator.endpoint,
    urlMode: 'public',
    urlTtlSeconds: 600,
    ...GCS_TIMEOUTS,
  });
  const { requestTimeoutMs: t, maxRetries: r } = GCS_TIMEOUTS;
  return {
    name: 'gcs (emulator)',
    store,
    // GcsObjectStore's documented bound for an operation, (maxRetries + 1) × requestTimeoutMs + maxRetries × 5 s,
    // plus the cancelling of a resumable session (at most one request timeout) and 2 s for a busy machine.
    answerBoundMs: (r + 1) * t + r * 5_000 + t + 2_000,
    async largeUploadsReachedBackend() {
      // A resumable session cannot be listed: give the uploads past the threshold a moment to open theirs.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    },
    kill: () => emulator.signal('SIGKILL'),
    async restart() {
      await emulator.stop(); // reaps the killed process and deletes its blobs
      emulator = await startGcsEmulator(port);
      await createBucket();
    },
    freeze: () => emulator.signal('SIGSTOP'),
    thaw: () => emulator.signal('SIGCONT'),
    async leftovers() {
      return (await bucket.getFiles())[0].map((f) => f.name).sort();
    },
    async close() {
      await emulator.stop();
    },
  };
}


interface SlowUploadResult {
  readonly status: number;
  readonly body: string;
  /** When the client stopped sending: it sent everything, or stopped on being answered. */
  readonly stoppedSendingAt: number;
  readonly answeredAt: number;
}

/**
 * POSTs a form holding `content` as `name`: the first `burst` bytes at once, the rest in small slices
 * spread over `spreadMs`, so that it is still in flight when the backend fails. Stops sending once
 * answered, as a browser does.
 */
function slowUpload(url: string, name: string, content: Buffer, sessionFirst: boolean, burst: number, spreadMs: number) {
  const file = { name: 'file', filename: name, content };
  const session = { name: 'session_id', value: 'faults' };
  const { body, contentType } = multipartBody(sessionFirst ? [session, file] : [file, session]);
  return new Promise<SlowUploadResult>((resolve, reject) => {
    let answered = false;
    let stoppedSendingAt: number | undefined;
    const req = request(url, {
      method: 'POST',
      agent: false,
      headers: { Authorization: `Token ${TEST_TOKENS.store}`, 'Content-Type': contentType, 'Content-Length': body.length },
    });
    req.on('response', (res) => {
      answered = true;
      stoppedSendingAt ??= Date.now();
      const answeredAt = Date.now();
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, body: text, stoppedSendingAt: stoppedSendingAt!, answeredAt }));
      res.on('error', reject);
    });
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    const steps = 40;
    const slice = Math.ceil(Math.max(0, body.length - burst) / steps);
    let at = Math.min(burst, body.length);
    req.write(body.subarray(0, at));
    const timer = setInterval(() => {
      if (answered || req.destroyed) return clearInterval(timer);
      const next = Math.min(body.length, at + slice);
      req.write(body.subarray(at, next));
      at = next;
      if (at >= body.length) {
        clearInterval(timer);
        req.end();
        stoppedSendingAt = Date.now();
      }
    }, spreadMs / steps);
  });
}

describe.each([
  { name: 's3', start: rgwBackend },
  { name: 'gcs', start: gcsBackend },
  { name: 'azure', start: azuriteBackend },
])('when the $name storage server dies or hangs with uploads in flight', ({ start }) => {
  let backend: FaultyBackend;
  let attache: AttacheUnderTest;

  beforeAll(async () => {
    backend = await start();
    attache = await startAttacheUnderTest(
      {
        driver: backend.name,
        servedByAttache: false,
        create: async () => ({ store: backend.store, listKeys: () => backend.leftovers(), close: async () => {} }),
      },
      // Configured as the driver it is (the store itself is the test's): a bucket every instance shares.
      { MAX_FILE_SIZE: String(MAX_FILE_SIZE), ...(backend.name.startsWith('s3') ? { STORAGE_DRIVER: 's3', S3_BUCKET: 'backend-faults' } : { STORAGE_DRIVER: 'gcs', GCS_BUCKET: 'backend-faults' }) },
    );
  });
  afterAll(async () => {
    await attache?.close();
    await backend?.close();
  });

  /** Six uploads, both part orders, two of them past the 8 MiB multipart/resumable threshold. */
  function startUploads() {
    const sizes = [200_000, 200_000, 2 * MiB, 2 * MiB, 12 * MiB, 12 * MiB];
    return sizes.map((size, i) => {
      const content = fileNamed('doc.pdf', size);
      // The large ones send 9 MiB at once, so that the one whose session_id comes first (streamed straight
      // through; a file before its session_id is held until the form ends) reaches the backend before the fault.
      const burst = size > 8 * MiB ? 9 * MiB : 0;
      return slowUpload(attache.uploadUrl, `fault-${i}.pdf`, content, i % 2 === 0, burst, 5_000);
    });
  }

  async function expectAllAnswered503(uploads: Promise<SlowUploadResult>[], faultAt: number) {
    const results = await Promise.all(uploads);
    for (const result of results) {
      // Every upload was still in flight when the backend failed (none answered before): so each must fail.
      expect(result.answeredAt).toBeGreaterThan(faultAt);
      expect({ status: result.status, body: JSON.parse(result.body) }).toEqual({ status: 503, body: { error: 'Storage unavailable' } });
      // A hang guard: attache could not know before the fault, nor before the client's last byte.
      const waited = result.answeredAt - Math.max(faultAt, result.stoppedSendingAt);
      expect(waited, `answered ${waited} ms after the fault / last byte; bound ${backend.answerBoundMs} ms`).toBeLessThan(backend.answerBoundMs);
    }
  }

  async function expectUploadWorks() {
    for (const [size, name] of [[50_000, 'after.png'], [10 * MiB, 'after-large.pdf']] as const) {
      const content = fileNamed(name, size);
      const { body, contentType } = multipartBody([{ name: 'file', filename: name, content }]);
      const response = await fetch(attache.uploadUrl, {
        method: 'POST',
        headers: { Authorization: `Token ${TEST_TOKENS.store}`, 'Content-Type': contentType },
        body,
      });
      const json = (await response.json()) as { url: string };
      expect(response.status, JSON.stringify(json)).toBe(200);
      const download = await fetch(json.url);
      expect(download.status).toBe(200);
      expect(sha256(Buffer.from(await download.arrayBuffer()))).toBe(sha256(content));
    }
  }

  /** The backend holds only the uploads that succeeded: nothing of the failed ones, no incomplete upload. */
  async function expectNothingHalfWritten() {
    await eventually(async () => {
      expect((await backend.leftovers()).filter((key) => !/-after(-large)?\.(png|pdf)$/.test(key))).toEqual([]);
      expect(await attache.waitingFiles()).toEqual([]);
    }, 20_000);
  }

  it('killed: in-flight uploads get 503 in bounded time, the service stays up, and works again once storage is back', async () => {
    const uploads = startUploads();
    await backend.largeUploadsReachedBackend(1);
    backend.kill();
    const killedAt = Date.now();
    await expectAllAnswered503(uploads, killedAt);

    expect((await fetch(`${attache.url}/healthz`)).status).toBe(200);
    // The bucket is every instance's: this one stays ready, naming it (docs/operations.md#health-endpoints).
    const ready = await fetch(`${attache.url}/readyz`);
    expect([ready.status, await ready.json()]).toEqual([200, { status: 'ready', unavailable: ['storage'] }]);

    await backend.restart();
    await eventually(async () => expect(await (await fetch(`${attache.url}/readyz`)).json()).toEqual({ status: 'ready' }), 30_000);
    await expectUploadWorks();
    await expectNothingHalfWritten();
  });

  it('hung: in-flight uploads get 503 in bounded time, and uploads work again once it answers', async () => {
    const uploads = startUploads();
    await backend.largeUploadsReachedBackend(1);
    backend.freeze();
    const frozenAt = Date.now();
    try {
      await expectAllAnswered503(uploads, frozenAt);
      expect((await fetch(`${attache.url}/healthz`)).status).toBe(200);
      const ready = await fetch(`${attache.url}/readyz`);
      expect([ready.status, await ready.json()]).toEqual([200, { status: 'ready', unavailable: ['storage'] }]);
    } finally {
      backend.thaw();
    }
    await eventually(async () => expect(await (await fetch(`${attache.url}/readyz`)).json()).toEqual({ status: 'ready' }), 30_000);
    await expectUploadWorks();
    await expectNothingHalfWritten();
  });
});
