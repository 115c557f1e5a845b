/**
 * A direct upload's completion, and a resumable upload's last PATCH, whose service process is
 * killed (SIGKILL) after the attachment got its key and before its answer was kept: the scan's
 * verdict is what it waits for, from a clamd held stopped (SIGSTOP). A second process over the same
 * store answers a retry 409 "Upload in progress" while the attachment is younger than the
 * completion tail (HTTP_REQUEST_TIMEOUT_MS + CLAMD_TIMEOUT_MS + PREVIEW_TIMEOUT_MS here), then 200
 * with the answer the first would have given: one attachment, its bytes, its preview, the staged
 * bytes gone. On the local disk and on S3 (Ceph RGW).
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
import { tusRequest } from '../support/tus-requests.ts';
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

describe.each([local, s3])('a completion killed before its answer, on $driver', (driverUnderTest) => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
    cleanups.length = 0;
  });

  /** The store, a clamd of its own, what starts a service process over them, and a photo for a session of its own. */
  async function scene() {
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
    const agent = new Agent();
    cleanups.push(() => agent.close());
    const start = async () => {
      const started: ServiceInItsFolder = await startServiceWithStoreToken(TOKEN, () => env);
      cleanups.push(() => started.close());
      return started;
    };
    const session = `kill-${randomUUID().slice(0, 8)}`;
    const folder = `chat/session-${session}/`;
    const photo = await readFile(join(FIXTURES_DIR, 'jpeg-exiftool-orientation6-gps.jpg'));
    /**
     * With clamd stopped (SIGSTOP), runs `completing` on the first process until the attachment
     * has its key, kills that process (SIGKILL), lets clamd go on, and starts the second process.
     */
    async function killedWhileCompleting(first: ServiceInItsFolder, completing: () => Promise<unknown>) {
      clamd.signal('SIGSTOP');
      const dying = completing().catch((error: unknown) => error);
      await eventually(async () => expect(await storage.keysUnder(folder)).toHaveLength(1));
      first.service.child.kill('SIGKILL');
      await first.service.exited;
      await dying;
      clamd.signal('SIGCONT');
      const [orphan] = await storage.keysUnder(folder);
      return { orphan: orphan!, second: await start() };
    }
    /** The upload endpoint's answer for the photo, its preview made by the second process; the attachment and its preview alone in the folder. */
    async function expectFinished(json: Record<string, unknown>, orphan: string) {
      const { width, height } = json;
      expect(json).toEqual({ url: expect.stringContaining(orphan), type: 'image/jpeg', size: photo.length, sha256: sha256(photo), preview_url: expect.any(String), width, height });
      expect([width, height]).toEqual([expect.any(Number), expect.any(Number)]);
      expect((await storage.keysUnder(folder)).filter((key) => !key.includes('.preview.'))).toEqual([orphan]);
      expect(await storage.keysUnder(folder)).toHaveLength(2);
      const download = await fetch(String(json.url));
      expect(Buffer.from(await download.arrayBuffer()).equals(photo)).toBe(true);
      expect((await fetch(String(json.preview_url))).status).toBe(200);
    }
    return { storage, agent, start, session, photo, killedWhileCompleting, expectFinished };
  }

  it('direct: a retry on another process is 409 while the attachment is young, then 200 with the whole answer, once', async () => {
    const { storage, agent, start, session, photo, killedWhileCompleting, expectFinished } = await scene();
    const first = await start();
    const client = directClient(first.service.url, agent);
    const issued = await client.issue(TOKEN, { filename: 'photo.jpg', size: photo.length, session_id: session });
    expect(issued.status, JSON.stringify(issued.json)).toBe(200);
    const target = issued.json as unknown as IssuedTarget;
    expect((await client.send(target, photo)).status).toBeLessThan(300);

    const { orphan, second } = await killedWhileCompleting(first, () => client.complete(TOKEN, target.upload_id));
    const retry = directClient(second.service.url, agent);
    const early = await retry.complete(TOKEN, target.upload_id);
    expect(early).toEqual({ status: 409, json: { error: 'Upload in progress', detail: expect.any(String) } });

    let answer = early;
    await eventually(async () => {
      answer = await retry.complete(TOKEN, target.upload_id);
      expect(answer.status, JSON.stringify(answer.json)).toBe(200);
    }, 60_000, 500);
    await expectFinished(answer.json, orphan);
    expect(await retry.complete(TOKEN, target.upload_id)).toEqual(answer);
    expect(await storage.keysUnder(`staged/`).then((keys) => keys.filter((key) => key.includes(idOf(orphan)) && !key.endsWith('.answer.json')))).toEqual([]);
  }, 120_000);

  it('resumable: the last PATCH killed; the upload GET on another process is 409, then 200, and HEAD says it is complete', async () => {
    const { storage, agent, start, session, photo, killedWhileCompleting, expectFinished } = await scene();
    const first = await start();
    const tus = tusRequest(first.service.url, agent);
    const created = await tus(TOKEN, 'POST', `${first.service.url}/v1/chat/upload/resumable/`, {
      'upload-length': String(photo.length),
      'upload-metadata': `filename ${Buffer.from('photo.jpg').toString('base64')},session_id ${Buffer.from(session).toString('base64')}`,
    });
    expect(created.status).toBe(201);
    const path = new URL(created.headers['location']!, first.service.url).pathname;
    const patch = () => tus(TOKEN, 'PATCH', `${first.service.url}${path}`, { 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' }, photo);

    const { orphan, second } = await killedWhileCompleting(first, patch);
    const url = `${second.service.url}${path}`;
    const retry = tusRequest(second.service.url, agent);
    expect(await retry(TOKEN, 'GET', url)).toMatchObject({ status: 409, json: { error: 'Upload in progress' } });

    let answer = await retry(TOKEN, 'GET', url);
    await eventually(async () => {
      answer = await retry(TOKEN, 'GET', url);
      expect(answer.status, JSON.stringify(answer.json)).toBe(200);
    }, 60_000, 500);
    await expectFinished(answer.json as Record<string, unknown>, orphan);
    const head = await retry(TOKEN, 'HEAD', url);
    expect(head.headers).toMatchObject({ 'upload-offset': String(photo.length), 'attache-url': (answer.json as { url: string }).url });
    expect(await storage.keysUnder(`staged/`).then((keys) => keys.filter((key) => key.includes(idOf(orphan)) && key.includes('.tus-')))).toEqual([]);
  }, 120_000);
});

/** The upload id an attachment's key carries (`<folder>/<uuid>-<name>`). */
function idOf(key: string): string {
  return key.split('/').at(-1)!.slice(0, 36);
}
