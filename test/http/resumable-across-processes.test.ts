/**
 * Resumable uploads between two service processes sharing storage (a folder for `local`, a Ceph
 * RGW bucket for `s3`), as `npm start` runs them in production, behind a switchable forwarder:
 * tus-js-client sends 12 MB in 4 MB pieces; in the middle of a PATCH the instance taking it is
 * killed (SIGKILL) and the forwarder turns to the other, which continues from the offset really
 * stored. The downloaded bytes match and nothing staged remains but the upload's record and receipt.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { fileNamed } from '../support/file-heads.ts';
import { forwardRequest } from '../support/forward-request.ts';
import { s3ClientFor, s3ServiceEnv } from '../support/s3/rgw-global-setup.ts';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.ts';
import { filesUnder } from '../support/stores-under-test.ts';
import { sha256 } from '../support/streams.ts';
import { tusUpload } from '../support/tus-client.ts';

const TOKEN = 'resumable-store-token-0000042';
const MB = 1024 * 1024;

interface SharedStorage {
  readonly env: Record<string, string>;
  keys(): Promise<string[]>;
  bytesAt(key: string): Promise<Buffer>;
  close(): Promise<void>;
}

async function sharedFolder(dir: string): Promise<SharedStorage> {
  const root = join(dir, 'uploads');
  return {
    env: { STORAGE_DRIVER: 'local', LOCAL_STORAGE_DIR: root },
    keys: () => filesUnder(root),
    bytesAt: async (key) => (await import('node:fs/promises')).readFile(join(root, key)),
    close: async () => {},
  };
}

async function sharedBucket(): Promise<SharedStorage> {
  const s3 = inject('s3');
  const bucket = `attache-tus-${randomUUID().slice(0, 8)}`;
  const raw = s3ClientFor(s3);
  await raw.send(new CreateBucketCommand({ Bucket: bucket }));
  return {
    // STORAGE_CHECK=off: the bucket is private, and the public URLs the start-up check would rightly refuse are not what this test looks at.
    env: { ...s3ServiceEnv(s3, bucket), STORAGE_CHECK: 'off' },
    keys: async () => ((await raw.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map((o) => o.Key!).sort(),
    bytesAt: async (key) => Buffer.from(await (await raw.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToByteArray()),
    close: async () => raw.destroy(),
  };
}

describe.each([
  ['local', sharedFolder],
  ['s3', () => sharedBucket()],
] as const)('resumable uploads across two processes on %s', (_driver, makeStorage) => {
  let dir: string;
  let storage: SharedStorage;
  let instances: ServiceProcess[];
  let forwarder: Server;
  let target: string;
  let endpoint: string;
  /** Set by the test: watches each request the forwarder takes. */
  let killMidPatch: ((incoming: import('node:http').IncomingMessage) => void) | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'attache-tus-'));
    storage = await makeStorage(dir);
    const tokensFile = join(dir, 'tokens.json');
    await writeFile(tokensFile, JSON.stringify({ tokens: [{ token: TOKEN, role: 'store', id: '42' }] }));
    const env = { NODE_ENV: 'production', AUTH_TOKENS_FILE: tokensFile, ...storage.env };
    instances = await Promise.all([startServiceProcess(env, 60_000), startServiceProcess(env, 60_000)]);
    target = instances[0]!.url;
    forwarder = createServer((incoming, outgoing) => {
      killMidPatch?.(incoming);
      forwardRequest(target, incoming, outgoing);
    });
    await new Promise<void>((resolve) => forwarder.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(forwarder.address() as { port: number }).port}/v1/chat/upload/resumable/`;
  }, 90_000);
  afterAll(async () => {
    for (const instance of instances ?? []) instance.child.kill('SIGTERM');
    await Promise.all((instances ?? []).map((i) => i.exited));
    forwarder?.closeAllConnections();
    forwarder?.close();
    await storage?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('an instance killed in the middle of a PATCH: the other continues from the stored offset, and the file is whole', async () => {
    const bytes = Buffer.concat([fileNamed('trip.pdf', 1000), randomBytes(12 * MB - 1000)]);
    let killedAt: number | undefined;
    const resumedAt: string[] = [];
    // Halfway through the second piece's PATCH, its instance dies with the request in flight.
    killMidPatch = (incoming) => {
      if (incoming.method !== 'PATCH' || incoming.headers['upload-offset'] !== String(4 * MB) || killedAt !== undefined) return;
      let received = 0;
      incoming.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (killedAt !== undefined || received < 2 * MB) return;
        killedAt = received;
        instances[0]!.child.kill('SIGKILL');
        target = instances[1]!.url;
      });
    };
    const done = await tusUpload(endpoint, bytes, {
      token: TOKEN,
      fileName: 'trip.pdf',
      sessionId: '3',
      chunkSize: 4 * MB,
      retryDelays: [100, 300, 1000],
      onAfterResponse: (req, res) => {
        if (req.getMethod() === 'HEAD') resumedAt.push(res.getHeader('Upload-Offset') ?? '?');
      },
    });
    expect(killedAt).toBeDefined();
    expect(await instances[0]!.exited).toBeNull();
    // The first piece was stored whole; the second, cut off by the kill, is sent again in full.
    expect(resumedAt).toEqual([String(4 * MB)]);
    expect(done.headers('Attache-Sha256')).toBe(sha256(bytes));
    const key = /\/(chat\/session-3\/[^/]+-trip\.pdf)$/.exec(done.headers('Attache-Url')!)![1]!;
    expect(sha256(await storage.bytesAt(key))).toBe(sha256(bytes));
    const id = /([0-9a-f-]{36})$/.exec(done.url)![1]!;
    const staged = (await storage.keys()).filter((k) => k.includes('staged/'));
    // (A local store's hidden sidecars aside, and the killed instance's half-written part, swept with the prefix.)
    expect(staged.filter((k) => !k.split('/').pop()!.startsWith('.'))).toEqual([`staged/${id}.answer.json`, `staged/${id}.tus`]);
  }, 60_000);
});
