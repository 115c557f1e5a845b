/**
 * A direct upload's completion whose service process is killed (SIGKILL) after its attachment got
 * its key and before its answer was kept: the scan's verdict is what it waits for, from a clamd
 * held stopped (SIGSTOP). A second process over the same store answers a retry 409 "Upload in
 * progress" while the attachment is younger than the completion tail (HTTP_REQUEST_TIMEOUT_MS +
 * CLAMD_TIMEOUT_MS + PREVIEW_TIMEOUT_MS here), then 200 with the answer the first would have
 * given: one attachment, its bytes, its preview, the staged bytes gone. On the local disk and on S3 (Ceph RGW).
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { Agent } from 'undici';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { startClamd, type RunningClamd } from '../support/clamd/clamd-server.ts';
import { directClient, type IssuedTarget } from '../support/direct-client.ts';
import { eventually } from '../support/eventually.ts';
import { FIXTURES_DIR } from '../support/fixtures.ts';
import { s3ClientFor, s3ServiceEnv } from '../support/s3/rgw-global-setup.ts';
import { startServiceWithStoreToken, type ServiceInItsFolder } from '../support/service-process.ts';
import { sha256 } from '../support/streams.ts';

const TOKEN = 'completion-after-kill-token-42';
const SECRET = 'a-direct-upload-secret-of-32-chars-or-more';

interface DriverUnderTest {
  readonly driver: string;
  /** The service's storage environment, and the keys stored under `prefix`, each made once per test. */
  setUp(): Promise<{ env: Record<string, string>; keysUnder: (prefix: string) => Promise<string[]>; close: () => Promise<void> }>;
}

const local: DriverUnderTest = {
  driver: 'local',
  async setUp() {
    const dir = await mkdtemp(join(tmpdir(), 'attache-kill-store-'));
    const keysUnder = async (prefix: string) => {
      const names = await readdir(join(dir, prefix)).catch(() => [] as string[]);
      return names.filter((name) => !name.startsWith('.') && !name.endsWith('.meta.json')).map((name) => `${prefix}${name}`);
    };
    return { env: { STORAGE_DRIVER: 'local', LOCAL_STORAGE_DIR: dir }, keysUnder, close: () => rm(dir, { recursive: true, force: true }) };
  },
};

const s3: DriverUnderTest = {
  driver: 's3',
  async setUp() {
    const server = inject('s3');
    const client = s3ClientFor(server);
    const keysUnder = async (prefix: string) => {
      const listed = await client.send(new ListObjectsV2Command({ Bucket: server.bucket, Prefix: prefix }));
      return (listed.Contents ?? []).map((object) => object.Key!);
    };
    return { env: { ...s3ServiceEnv(server), S3_URL_MODE: 'signed' }, keysUnder, close: async () => client.destroy() };
  },
};

describe.each([local, s3])('a direct completion killed before its answer, on $driver', (driverUnderTest) => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
    cleanups.length = 0;
  });

  it('a retry on another process is 409 while the attachment is young, then 200 with the whole answer, once', async () => {
    const storage = await driverUnderTest.setUp();
    cleanups.push(storage.close);
    const clamd: RunningClamd = await startClamd();
    cleanups.push(() => clamd.stop());
    const env = {
      ...storage.env,
      MALWARE_SCAN: 'clamd',
      CLAMD_HOST: clamd.host,
      CLAMD_PORT: String(clamd.port),
      CLAMD_TIMEOUT_MS: '10000',
      PREVIEWS: 'on',
      PREVIEW_TIMEOUT_MS: '5000',
      HTTP_REQUEST_TIMEOUT_MS: '2000',
      HTTP_HEADERS_TIMEOUT_MS: '1000',
      DIRECT_UPLOADS: 'on',
      DIRECT_UPLOAD_SECRET: SECRET,
    };
    const start = async () => {
      const started: ServiceInItsFolder = await startServiceWithStoreToken(TOKEN, () => env);
      cleanups.push(() => started.close());
      return started;
    };
    const agent = new Agent();
    cleanups.push(() => agent.close());

    const first = await start();
    const client = directClient(first.service.url, agent);
    const session = `kill-${randomUUID().slice(0, 8)}`;
    const folder = `chat/session-${session}/`;
    const photo = await readFile(join(FIXTURES_DIR, 'jpeg-exiftool-orientation6-gps.jpg'));
    const issued = await client.issue(TOKEN, { filename: 'photo.jpg', size: photo.length, session_id: session });
    expect(issued.status, JSON.stringify(issued.json)).toBe(200);
    const target = issued.json as unknown as IssuedTarget;
    expect((await client.send(target, photo)).status).toBeLessThan(300);

    // The scan waits for a verdict that does not come; the attachment gets its key meanwhile.
    clamd.signal('SIGSTOP');
    const dying = client.complete(TOKEN, target.upload_id).catch((error: unknown) => error);
    await eventually(async () => expect(await storage.keysUnder(folder)).toHaveLength(1));
    first.service.child.kill('SIGKILL');
    await first.service.exited;
    await dying;
    clamd.signal('SIGCONT');
    const [orphan] = await storage.keysUnder(folder);

    const second = await start();
    const retry = directClient(second.service.url, agent);
    const early = await retry.complete(TOKEN, target.upload_id);
    expect(early).toEqual({ status: 409, json: { error: 'Upload in progress', detail: expect.any(String) } });

    let answer = early;
    await eventually(async () => {
      answer = await retry.complete(TOKEN, target.upload_id);
      expect(answer.status, JSON.stringify(answer.json)).toBe(200);
    }, 60_000, 500);
    // The upload endpoint's answer for the same photo: its preview made by the second process.
    const { width, height } = answer.json;
    expect(answer.json).toEqual({ url: expect.stringContaining(orphan!), type: 'image/jpeg', size: photo.length, sha256: sha256(photo), preview_url: expect.any(String), width, height });
    expect([width, height]).toEqual([expect.any(Number), expect.any(Number)]);
    expect(await retry.complete(TOKEN, target.upload_id)).toEqual(answer);
    // The attachment and its preview, nothing else.
    expect((await storage.keysUnder(folder)).filter((key) => !key.includes('.preview.'))).toEqual([orphan]);
    expect(await storage.keysUnder(folder)).toHaveLength(2);
    expect(await storage.keysUnder(`staged/`).then((keys) => keys.filter((key) => key.includes(idOf(orphan!)) && !key.endsWith('.answer.json')))).toEqual([]);
    const download = await fetch(String(answer.json.url));
    expect(Buffer.from(await download.arrayBuffer()).equals(photo)).toBe(true);
    expect((await fetch(String(answer.json.preview_url))).status).toBe(200);
  }, 120_000);
});

/** The upload id an attachment's key carries (`<folder>/<uuid>-<name>`). */
function idOf(key: string): string {
  return key.split('/').at(-1)!.slice(0, 36);
}
