/**
 * An attachment read while it is being deleted (GET /v1/chat/files/<key> and /files/<key> on a
 * store attache serves itself, the local disk): each read answers the whole file (200) or 404 in
 * JSON, never a connection cut mid-answer. The local store once looked the file up, answered its
 * headers, and only opened it when the bytes were read: a delete in between left a 200 with no
 * body, the socket destroyed. Against a service process.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES_DIR } from '../support/fixtures.ts';
import { startServiceWithStoreToken, type ServiceProcess } from '../support/service-process.ts';

const TOKEN = 'read-delete-store-token-042';
const AUTH = { Authorization: `Token ${TOKEN}` };
const READS = 6;

describe('reads racing a delete on the local disk', () => {
  let service: ServiceProcess;
  let close: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    ({ service, close } = await startServiceWithStoreToken(
      TOKEN,
      (folder) => ({ STORAGE_DRIVER: 'local', LOCAL_STORAGE_DIR: join(folder, 'store'), PREVIEWS: 'on', STRIP_METADATA: 'on' }),
      30_000,
    ));
  }, 60_000);
  afterAll(() => close?.());

  it('answer the whole file or 404 JSON, never a cut connection; both deletes 204', async () => {
    const photo = await readFile(join(FIXTURES_DIR, 'jpeg-exiftool-orientation6-gps.jpg'));
    for (let round = 0; round < 5; round++) {
      const form = new FormData();
      form.append('file', new Blob([new Uint8Array(photo)], { type: 'image/jpeg' }), 'photo.jpg');
      const uploaded = (await (await fetch(`${service.url}/v1/chat/upload/`, { method: 'POST', headers: AUTH, body: form })).json()) as { url: string; size: number };
      const key = new URL(uploaded.url).pathname.replace(/^\/files\//, '');
      const read = async (url: string) => {
        try {
          const answer = await fetch(url);
          const body = Buffer.from(await answer.arrayBuffer());
          return { status: answer.status, body, type: answer.headers.get('content-type') };
        } catch (error) {
          return { status: 0, body: Buffer.alloc(0), type: String((error as { cause?: { code?: string } }).cause?.code ?? error) };
        }
      };
      const reads = Array.from({ length: READS }, (_, i) => read(i % 2 ? uploaded.url : `${service.url}/v1/chat/files/${key}`));
      const deletes = [0, 1].map(() => fetch(`${service.url}/v1/chat/files/${key}`, { method: 'DELETE', headers: AUTH }).then((r) => r.status));
      for (const answer of await Promise.all(reads)) {
        if (answer.status === 200) expect(answer.body.length).toBe(uploaded.size);
        else expect(answer, `${answer.status} ${answer.type}`).toMatchObject({ status: 404, type: expect.stringContaining('application/json') });
      }
      expect(await Promise.all(deletes)).toEqual([204, 204]);
      expect((await read(uploaded.url)).status).toBe(404);
    }
    expect(service.child.exitCode).toBeNull();
  }, 60_000);
});
