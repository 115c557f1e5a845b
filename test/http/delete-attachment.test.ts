/**
 * DELETE /v1/chat/files/<key>, on every store: an admin deletes any attachment, a store token only
 * those it uploaded; the file and its preview go, the answer is 204, then 404, and the URL stops serving.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAttacheUnderTest, TEST_TOKENS, type AttacheUnderTest } from '../support/attache-under-test.ts';
import { FIXTURES_DIR } from '../support/fixtures.ts';
import { httpStoreDrivers } from '../support/stores-under-test.ts';

interface Answer {
  readonly url: string;
  readonly preview_url?: string;
}

describe.each(httpStoreDrivers)('DELETE /v1/chat/files/<key> on $driver', (driver) => {
  let attache: AttacheUnderTest;
  let photo: Buffer;
  beforeAll(async () => {
    attache = await startAttacheUnderTest(driver);
    photo = await readFile(`${FIXTURES_DIR}jpeg-go.jpg`);
  });
  afterAll(async () => {
    await attache?.close();
  });

  async function upload(token: string, fileName = 'Фото 1.jpg', bytes: Buffer = photo): Promise<Answer> {
    const form = new FormData();
    form.append('session_id', 'delete-me');
    form.append('file', new Blob([new Uint8Array(bytes)]), fileName);
    const response = await fetch(attache.uploadUrl, { method: 'POST', headers: { Authorization: `Token ${token}` }, body: form });
    expect(response.status).toBe(200);
    return (await response.json()) as Answer;
  }

  /** The key as in the URL: its path after the bucket or /files/, still percent-encoded. */
  function deleteUrlOf(url: string): string {
    const path = new URL(url).pathname;
    const key = path.slice(path.indexOf('/chat/') + 1);
    return `${attache.url}/v1/chat/files/${key}`;
  }

  const remove = (url: string, token?: string) =>
    fetch(deleteUrlOf(url), { method: 'DELETE', ...(token !== undefined && { headers: { Authorization: `Token ${token}` } }) });

  it('lets a store delete what it uploaded: 204 and the file and its preview stop serving, then 404', async () => {
    const answer = await upload(TEST_TOKENS.store);
    expect(answer.preview_url).toBeDefined();
    expect((await fetch(answer.url)).status).toBe(200);
    const first = await remove(answer.url, TEST_TOKENS.store);
    expect(first.status).toBe(204);
    expect(await first.text()).toBe('');
    for (const url of [answer.url, answer.preview_url!]) expect((await fetch(url)).status).toBeGreaterThanOrEqual(400);
    expect(await attache.storedKeys()).not.toContainEqual(expect.stringContaining(new URL(answer.url).pathname.split('/').at(-1)!.slice(0, 36)));
    const again = await remove(answer.url, TEST_TOKENS.store);
    expect(again.status).toBe(404);
    expect(await again.json()).toMatchObject({ error: 'Not found' });
  });

  it('lets an admin delete a store’s upload', async () => {
    const answer = await upload(TEST_TOKENS.store, 'report.pdf', Buffer.from('%PDF-1.4\n%%EOF\n'));
    expect((await remove(answer.url, TEST_TOKENS.admin)).status).toBe(204);
    expect((await remove(answer.url, TEST_TOKENS.admin)).status).toBe(404);
  });

  it('refuses a store token deleting an admin’s upload with 403 JSON, and keeps it', async () => {
    const answer = await upload(TEST_TOKENS.admin);
    for (const token of [TEST_TOKENS.store, TEST_TOKENS.storeWithoutId]) {
      const response = await remove(answer.url, token);
      expect(response.status).toBe(403);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await response.json()).toMatchObject({ error: 'Forbidden' });
    }
    expect((await fetch(answer.url)).status).toBe(200);
  });

  it.each([
    ['no token', undefined],
    ['an unknown token', 'not-a-token-at-all-000000'],
    ['a customer token', TEST_TOKENS.customer],
  ])('answers 401 JSON to %s, before looking at the key', async (_, token) => {
    const answer = await upload(TEST_TOKENS.store);
    for (const url of [answer.url, `${attache.url}/v1/chat/files/chat/nothing/here.jpg`]) {
      const response = await fetch(url.startsWith(attache.url + '/v1') ? url : deleteUrlOf(url), {
        method: 'DELETE',
        ...(token !== undefined && { headers: { Authorization: `Token ${token}` } }),
      });
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({ error: 'Unauthorized' });
    }
    expect((await fetch(answer.url)).status).toBe(200);
  });

  it.each(['chat/nothing/here.jpg', 'incoming/x-photo.jpg', 'chat/%2E%2E/incoming/x.jpg', 'chat/%E0%A4%A.jpg', 'chat/a%2Fb/..%2F..%2Fx'])(
    'answers 404 JSON for the key %s',
    async (key) => {
      const response = await fetch(`${attache.url}/v1/chat/files/${key}`, { method: 'DELETE', headers: { Authorization: `Token ${TEST_TOKENS.admin}` } });
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({ error: 'Not found' });
    },
  );
});
