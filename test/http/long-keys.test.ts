/**
 * Keys longer than any attache makes, asked for by URL: /v1/chat/files/<key> (GET, HEAD, DELETE)
 * and, for the stores attache serves, /files/<key>. No such attachment can exist, so each is a
 * 404 JSON, on every store: not the 503 "Storage unavailable" of a file name the disk refuses
 * (ENAMETOOLONG), nor the backend's refusal of a key past its 1024 bytes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAttacheUnderTest, TEST_TOKENS, type AttacheUnderTest } from '../support/attache-under-test.ts';
import { fileNamed } from '../support/file-heads.ts';
import { httpStoreDrivers } from '../support/stores-under-test.ts';

const LONG_KEYS = {
  'a 10 KB key': `chat/${'a'.repeat(10_000)}`,
  'a segment longer than a file name may be (300 bytes)': `chat/store-42/${'a'.repeat(300)}.jpg`,
  'a key of 1200 UTF-8 bytes in 600 characters': `chat/store-42/${'é'.repeat(600)}`,
};

describe.each(httpStoreDrivers)('keys longer than attache makes, on the $driver store', (driver) => {
  let attache: AttacheUnderTest;
  beforeAll(async () => {
    attache = await startAttacheUnderTest(driver);
    // The store's folder exists, as in production: a disk then answers a too-long name, not a missing folder.
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(fileNamed('photo.jpg', 2000))]), 'photo.jpg');
    const response = await fetch(attache.uploadUrl, { method: 'POST', headers: { Authorization: `Token ${TEST_TOKENS.store}` }, body: form });
    expect(response.status).toBe(200);
  });
  afterAll(async () => {
    await attache?.close();
  });

  it.each(Object.entries(LONG_KEYS))('answers 404 JSON to %s', async (_, key) => {
    const path = key.split('/').map(encodeURIComponent).join('/');
    const routes: Array<[string, string, Record<string, string>]> = [
      ['GET', `/v1/chat/files/${path}`, {}],
      ['HEAD', `/v1/chat/files/${path}`, {}],
      ['DELETE', `/v1/chat/files/${path}`, { Authorization: `Token ${TEST_TOKENS.admin}` }],
    ];
    if (driver.servedByAttache) routes.push(['GET', `/files/${path}`, {}]);
    for (const [method, route, headers] of routes) {
      const response = await fetch(`${attache.url}${route}`, { method, headers });
      expect({ method, route: route.slice(0, 30), status: response.status }).toEqual({ method, route: route.slice(0, 30), status: 404 });
      if (method !== 'HEAD') expect(await response.json()).toMatchObject({ error: 'Not found' });
    }
  });
});
