import { Readable } from 'node:stream';
import { beforeEach, describe, expect, it } from 'vitest';
import { InMemoryObjectStore } from '../../src/adapters/object-store/in-memory/in-memory-object-store.ts';
import { OpenAttachment } from '../../src/application/open-attachment.ts';
import type { ObjectStore } from '../../src/application/ports/object-store.ts';
import { AttachmentNotFound } from '../../src/domain/errors.ts';
import type { ObjectKey } from '../../src/domain/object-key.ts';
import { delegatingStore } from '../support/delegating-store.ts';
import { readAll } from '../support/streams.ts';

const key = 'chat/session-1/abc-photo.jpg' as ObjectKey;
const meta = { contentType: 'image/jpeg', fileName: 'photo.jpg', disposition: 'inline', uploader: 'store:42' } as const;

/** The in-memory store, with URLs of its own at a backend, as a bucket's store has. */
function withDirectUrls(inner: InMemoryObjectStore): ObjectStore {
  return delegatingStore(inner, { directUrlFor: async (k, life) => `https://bucket.example/${k}?expires-in=${life}` });
}

describe('OpenAttachment', () => {
  let store: InMemoryObjectStore;
  beforeEach(async () => {
    store = new InMemoryObjectStore({ publicBaseUrl: 'https://attache.example/files' });
    await store.put(key, Readable.from([Buffer.from('jpeg bytes')]), meta);
  });

  it('redirects to a URL at the backend that lives REDIRECT_URL_TTL (300 s by default)', async () => {
    expect(await new OpenAttachment({ store: withDirectUrls(store) }).execute({ key, bytes: true })).toEqual({
      kind: 'redirect',
      url: `https://bucket.example/${key}?expires-in=300`,
      lifeSeconds: 300,
    });
    const shorter = new OpenAttachment({ store: withDirectUrls(store), redirectLifeSeconds: 60 });
    expect(await shorter.execute({ key, bytes: false })).toMatchObject({ kind: 'redirect', lifeSeconds: 60 });
  });

  it('hands over the bytes of a store attache serves itself, or for a HEAD only what it knows of them', async () => {
    const useCase = new OpenAttachment({ store });
    const opened = await useCase.execute({ key, bytes: true });
    expect(opened.kind).toBe('content');
    const object = (opened as { object: { body: Readable } }).object;
    expect((await readAll(object.body)).toString()).toBe('jpeg bytes');
    expect(await useCase.execute({ key, bytes: false })).toEqual({ kind: 'content', object: { ...meta, size: 10, sha256: expect.any(String) } });
  });

  it.each(['chat/session-1/nothing.jpg', 'incoming/abc-photo.jpg', 'chat/../chat/session-1/abc-photo.jpg', ''])(
    'answers AttachmentNotFound for %j, on every store',
    async (missing) => {
      for (const s of [store, withDirectUrls(store)]) {
        await expect(new OpenAttachment({ store: s }).execute({ key: missing, bytes: true })).rejects.toBeInstanceOf(AttachmentNotFound);
      }
    },
  );

  it('answers AttachmentNotFound once the attachment is deleted', async () => {
    await store.delete(key);
    await expect(new OpenAttachment({ store: withDirectUrls(store) }).execute({ key, bytes: true })).rejects.toBeInstanceOf(AttachmentNotFound);
  });
});
