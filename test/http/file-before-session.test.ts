import { Readable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { InMemoryObjectStore } from '../../src/adapters/object-store/in-memory/in-memory-object-store.ts';
import type { ObjectStore } from '../../src/application/ports/object-store.ts';
import { MEMORY_HOLD_BYTES } from '../../src/application/upload-attachment.ts';
import { startAttacheUnderTest, TEST_TOKENS, type AttacheUnderTest } from '../support/attache-under-test.ts';
import { fileNamed } from '../support/file-heads.ts';
import type { StoreDriverUnderTest } from '../support/stores-under-test.ts';

/** The in-memory store, recording which of its writes attache calls, in order. */
function recordingDriver(calls: string[]): StoreDriverUnderTest {
  return {
    driver: 'memory',
    servedByAttache: true,
    async create(publicBaseUrl) {
      const inner = new InMemoryObjectStore({ publicBaseUrl });
      const store: ObjectStore = {
        put: (key, body, meta, signal) => (calls.push(`put ${key}`), inner.put(key, body, meta, signal)),
        move: (from, to) => (calls.push(`move ${from} -> ${to}`), inner.move(from, to)),
        copy: (from, to, meta, bytes) => (calls.push(`copy ${from} -> ${to}`), inner.copy(from, to, meta, bytes)),
        concatenate: (parts, to, meta, bytes) => (calls.push(`concatenate ${parts.length} parts -> ${to}`), inner.concatenate(parts, to, meta, bytes)),
        delete: (key) => (calls.push(`delete ${key}`), inner.delete(key)),
        urlFor: (key) => inner.urlFor(key),
        directUrlFor: (key, life) => inner.directUrlFor(key, life),
        read: (key) => inner.read(key),
        stat: (key) => inner.stat(key),
        writtenAt: (key) => inner.writtenAt(key),
        checkReady: () => inner.checkReady(),
        removeStale: (prefix, olderThan) => inner.removeStale(prefix, olderThan),
        removeUnfinished: (prefix, olderThan) => inner.removeUnfinished(prefix, olderThan),
      };
      return { store, listKeys: async () => inner.keys(), close: async () => {} };
    },
  };
}

/** A form with the file first and session_id after it, as in the spec's curl and FormData examples. */
function fileThenSession(file: Buffer, fileName: string, sessionId: string): FormData {
  const form = new FormData();
  form.append('file', new Blob([file]), fileName);
  form.append('session_id', sessionId);
  return form;
}

describe('a file sent before its session_id', () => {
  const calls: string[] = [];
  let attache: AttacheUnderTest;
  const upload = (form: FormData) =>
    fetch(attache.uploadUrl, { method: 'POST', headers: { Authorization: `Token ${TEST_TOKENS.store}` }, body: form });

  beforeAll(async () => {
    attache = await startAttacheUnderTest(recordingDriver(calls));
  });
  afterAll(async () => {
    await attache?.close();
  });
  beforeEach(async () => {
    for (const key of await attache.storedKeys()) await attache.backend.store.delete(key as never);
    calls.length = 0;
  });

  it('streams a large one to a provisional key at once, then moves it to its folder within the store', async () => {
    const response = await upload(fileThenSession(fileNamed('report.pdf', 3 * 1024 * 1024), 'report.pdf', '77'));
    expect(response.status).toBe(200);
    const { url } = (await response.json()) as { url: string };
    const key = new URL(url).pathname.replace(/^\/files\//, '');
    expect(key).toMatch(/^chat\/session-77\/[0-9a-f-]{36}-report\.pdf$/);
    const uploadId = key.slice('chat/session-77/'.length, -'-report.pdf'.length);
    expect(calls).toEqual([`put incoming/${uploadId}-report.pdf`, `move incoming/${uploadId}-report.pdf -> ${key}`]);
    expect(await attache.storedKeys()).toEqual([key]);
  });

  it(`keeps one of up to ${MEMORY_HOLD_BYTES / 1024} KiB in memory and stores it once, at its key`, async () => {
    const response = await upload(fileThenSession(fileNamed('photo.jpg', MEMORY_HOLD_BYTES), 'photo.jpg', '77'));
    expect(response.status).toBe(200);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatch(/^put chat\/session-77\/[0-9a-f-]{36}-photo\.jpg$/);
  });

  it('removes the received file when the session_id that follows it is invalid', async () => {
    const response = await upload(fileThenSession(fileNamed('report.pdf', 1024 * 1024), 'report.pdf', '../../etc'));
    expect(response.status).toBe(400);
    expect(calls).toEqual([expect.stringMatching(/^put incoming\//), expect.stringMatching(/^delete incoming\//)]);
    expect(await attache.storedKeys()).toEqual([]);
  });

  it('does not serve a file still waiting under incoming/', async () => {
    await attache.backend.store.put('incoming/waiting-photo.jpg' as never, Readable.from([Buffer.from('x')]), {
      contentType: 'image/jpeg',
      fileName: 'photo.jpg',
      disposition: 'inline',
    });
    expect((await fetch(`${attache.url}/files/incoming/waiting-photo.jpg`)).status).toBe(404);
  });
});
