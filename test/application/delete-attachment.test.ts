import { Readable } from 'node:stream';
import { beforeEach, describe, expect, it } from 'vitest';
import { StaticTokenAuth } from '../../src/adapters/auth/static-token-auth.ts';
import { ExtensionMimeDetector } from '../../src/adapters/mime/extension-mime-detector.ts';
import { InMemoryObjectStore } from '../../src/adapters/object-store/in-memory/in-memory-object-store.ts';
import { DeleteAttachment } from '../../src/application/delete-attachment.ts';
import { UploadAttachment } from '../../src/application/upload-attachment.ts';
import { AttachmentNotFound, Forbidden, Unauthorized } from '../../src/domain/errors.ts';
import { attachmentKeyInUrl, previewKeyFor } from '../../src/domain/object-key.ts';
import type { Principal } from '../../src/domain/principal.ts';

const admin: Principal = { kind: 'admin', id: '7' };
const adminWithoutId: Principal = { kind: 'admin' };
const store42: Principal = { kind: 'store', id: '42' };
const store43: Principal = { kind: 'store', id: '43' };
const storeWithoutId: Principal = { kind: 'store' };

describe('DeleteAttachment', () => {
  let store: InMemoryObjectStore;
  let upload: UploadAttachment;
  let deletion: DeleteAttachment;
  const auth = new StaticTokenAuth([
    { token: 'admin-token-xxxxxxxxxx', role: 'admin', id: '7' },
    { token: 'store-token-xxxxxxxxxx', role: 'store', id: 42 },
    { token: 'buyer-token-xxxxxxxxxx', role: 'customer', id: '9' },
  ]);

  beforeEach(() => {
    store = new InMemoryObjectStore({ publicBaseUrl: 'https://cdn.example/attachments' });
    upload = new UploadAttachment({ store, auth, mime: new ExtensionMimeDetector(), maxFileSize: 1024 });
    deletion = new DeleteAttachment({ store, auth });
  });

  async function uploaded(by: Principal, fileName = 'photo.jpg') {
    const done = await upload.execute({ principal: by, sessionId: 's1', fileName, content: Readable.from([Buffer.from('bytes')]) });
    return done.key;
  }

  it('records the uploader with what it stores', async () => {
    expect((await store.stat(await uploaded(store42)))?.uploader).toBe('store:42');
    expect((await store.stat(await uploaded(admin)))?.uploader).toBe('admin:7');
    expect((await store.stat(await uploaded({ kind: 'store', id: 'shop/ü 1' })))?.uploader).toBe('store:shop%2F%C3%BC%201');
  });

  it('lets a store delete what it uploaded, with its preview; then the key is not found', async () => {
    const key = await uploaded(store42);
    await store.put(previewKeyFor(key, 'webp'), Readable.from([Buffer.from('preview')]), {
      contentType: 'image/webp',
      fileName: 'photo.preview.webp',
      disposition: 'inline',
      uploader: 'store:42',
    });
    await deletion.execute({ principal: store42, key });
    expect(store.keys()).toEqual([]);
    await expect(deletion.execute({ principal: store42, key })).rejects.toBeInstanceOf(AttachmentNotFound);
  });

  it.each([
    ['another store', store43],
    ['a store without an id', storeWithoutId],
  ])('refuses %s with Forbidden, and keeps the file', async (_, principal) => {
    const key = await uploaded(store42);
    await expect(deletion.execute({ principal, key })).rejects.toBeInstanceOf(Forbidden);
    expect(await store.stat(key)).toBeDefined();
  });

  it.each([
    ['an admin', admin],
    ['an admin without an id', adminWithoutId],
  ])('lets %s delete any attachment', async (_, principal) => {
    const key = await uploaded(store42);
    await deletion.execute({ principal, key });
    expect(await store.stat(key)).toBeUndefined();
  });

  it('keeps an attachment stored without an uploader (before attache recorded it) for admins only', async () => {
    const key = await uploaded(store42, 'old.pdf');
    const { body, ...info } = (await store.read(key))!;
    const { uploader: _, ...withoutUploader } = info;
    await store.delete(key);
    await store.put(key, body, withoutUploader);
    await expect(deletion.execute({ principal: store42, key })).rejects.toBeInstanceOf(Forbidden);
    await deletion.execute({ principal: admin, key });
    expect(await store.stat(key)).toBeUndefined();
  });

  it.each(['chat/s/never-uploaded.jpg', 'incoming/abc-photo.jpg', 'chat/../incoming/x.jpg', 'chat//x.jpg', 'other/x.jpg', ''])(
    'answers AttachmentNotFound for %j',
    async (key) => {
      await expect(deletion.execute({ principal: admin, key })).rejects.toBeInstanceOf(AttachmentNotFound);
    },
  );

  it('authenticates like the upload', async () => {
    expect(await deletion.authenticate('store-token-xxxxxxxxxx')).toEqual(store42);
    for (const token of [undefined, '', 'buyer-token-xxxxxxxxxx', 'nobody-token-xxxxxxxx']) {
      await expect(deletion.authenticate(token)).rejects.toBeInstanceOf(Unauthorized);
    }
  });
});

describe('attachmentKeyInUrl', () => {
  it.each([
    ['http://localhost:8080/files/chat/store-42/abc-%D0%A4%D0%BE%D1%82%D0%BE.jpg', 'chat/store-42/abc-Фото.jpg'],
    ['https://b.s3.example/chat/session-x/abc-a.pdf?X-Amz-Signature=00', 'chat/session-x/abc-a.pdf'],
    ['https://rgw.example/bucket/chat/session-chat/abc-a.pdf', 'chat/session-chat/abc-a.pdf'],
    ['https://chat.example/v1/chat/files/chat/session-x/abc-a.jpg.preview.webp', 'chat/session-x/abc-a.jpg.preview.webp'],
    ['chat/store-42/abc-a.pdf', 'chat/store-42/abc-a.pdf'],
  ])('%s → %s', (url, key) => {
    expect(attachmentKeyInUrl(url)).toBe(key);
  });

  it.each(['https://x.example/other/a.pdf', 'https://x.example/v1/chat/files/', 'not a url', 'https://x.example/chat/a/%E0%A4.jpg'])(
    'finds no key in %s',
    (url) => {
      expect(attachmentKeyInUrl(url)).toBeUndefined();
    },
  );
});
