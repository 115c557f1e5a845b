/** The library's direct uploads: the same two steps as the service's routes, over the embedded use case. */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createUploadAttachment, InMemoryObjectStore, UploadNotFound } from '../../src/index.ts';
import { fileNamed } from '../support/file-heads.ts';
import { sha256 } from '../support/streams.ts';

describe('createUploadAttachment(...).directUpload', () => {
  it('issues, takes the bytes, completes through the use case, and completes again the same', async () => {
    const store = new InMemoryObjectStore({ publicBaseUrl: 'https://files.example' });
    const { uploadAttachment, directUpload, close } = await createUploadAttachment(
      { STORAGE_DRIVER: 'memory', DIRECT_UPLOAD_SECRET: 'x'.repeat(32), PREVIEWS: 'off' },
      { store },
    );
    try {
      expect(directUpload).toBeDefined();
      const principal = { kind: 'admin', id: '7' } as const;
      const bytes = fileNamed('minutes.docx', 4000);
      const issued = await directUpload!.issue({ principal, fileName: 'minutes.docx', size: bytes.length, sessionId: '3' });
      expect(issued.target).toMatchObject({ method: 'PUT', url: expect.stringMatching(/^http:\/\/localhost:8080\/v1\/chat\/upload\/direct\//) });
      await directUpload!.acceptBytes(issued.uploadId, Readable.from([bytes]), bytes.length);
      const uploaded = await directUpload!.complete(principal, issued.uploadId);
      expect(uploaded).toMatchObject({ key: expect.stringMatching(/^chat\/session-3\//), sha256: sha256(bytes), size: 4000 });
      expect(await directUpload!.complete(principal, issued.uploadId)).toEqual(uploaded);
      await expect(directUpload!.complete({ kind: 'store', id: '7' }, issued.uploadId)).rejects.toBeInstanceOf(UploadNotFound);
      // The one use case behind both ways in.
      expect((await uploadAttachment.execute({ principal, fileName: 'minutes.docx', content: bytes })).sha256).toBe(uploaded.sha256);
    } finally {
      await close();
    }
  });

  it('is undefined with DIRECT_UPLOADS=off, and refuses to start in production without a secret', async () => {
    const off = await createUploadAttachment({ STORAGE_DRIVER: 'memory', DIRECT_UPLOADS: 'off', PREVIEWS: 'off' });
    expect(off.directUpload).toBeUndefined();
    await expect(createUploadAttachment({ STORAGE_DRIVER: 'memory', NODE_ENV: 'production', DIRECT_UPLOADS: 'on', AUTH_TOKENS_FILE: '/dev/null' })).rejects.toThrow(
      'DIRECT_UPLOAD_SECRET: is required with DIRECT_UPLOADS=on when NODE_ENV=production',
    );
  });
});

describe('createUploadAttachment(...).resumableUpload', () => {
  it('takes a file in pieces and makes the attachment with the last one, as execute would', async () => {
    const store = new InMemoryObjectStore({ publicBaseUrl: 'https://files.example' });
    const { resumableUpload, close } = await createUploadAttachment({ STORAGE_DRIVER: 'memory', PREVIEWS: 'off' }, { store });
    try {
      const principal = { kind: 'store', id: '42' } as const;
      const bytes = fileNamed('plan.pdf', 9000);
      const { id } = await resumableUpload.create({ principal, fileName: 'plan.pdf', sessionId: '4', length: bytes.length });
      expect((await resumableUpload.append({ principal, id, offset: 0, content: Readable.from([bytes.subarray(0, 4000)]) })).offset).toBe(4000);
      const done = await resumableUpload.append({ principal, id, offset: 4000, content: Readable.from([bytes.subarray(4000)]) });
      expect(done.uploaded).toMatchObject({ key: expect.stringMatching(/^chat\/session-4\//), sha256: sha256(bytes) });
      expect(await resumableUpload.result(principal, id)).toEqual(done.uploaded);
    } finally {
      await close();
    }
  });
});
