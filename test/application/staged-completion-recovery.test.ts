/**
 * A completion whose process died between its attachment and its receipt (StagedCompletion): two
 * instances over one in-memory store, the first frozen for good at its receipt's write, as a
 * process killed there. While the attachment is younger than the completion tail, a retry is told
 * the upload is in progress; past it, a retry on the other instance finishes the work and answers
 * as the first would have, once, whatever races it.
 */
import { Readable } from 'node:stream';
import { beforeEach, describe, expect, it } from 'vitest';
import { StaticTokenAuth } from '../../src/adapters/auth/static-token-auth.ts';
import { ContentMimeDetector } from '../../src/adapters/mime/content-mime-detector.ts';
import { InMemoryObjectStore } from '../../src/adapters/object-store/in-memory/in-memory-object-store.ts';
import { finalKeyOf } from '../../src/application/attachment-upload.ts';
import { DirectUpload } from '../../src/application/direct/direct-upload.ts';
import { SignedUploadIds } from '../../src/application/direct/signed-upload-id.ts';
import type { DirectUploadTargets } from '../../src/application/ports/direct-upload-targets.ts';
import type { ObjectStore } from '../../src/application/ports/object-store.ts';
import { ResumableUpload } from '../../src/application/resumable/resumable-upload.ts';
import { ImagePreviewStep } from '../../src/application/image-preview-step.ts';
import { UploadAttachment } from '../../src/application/upload-attachment.ts';
import { MalwareFound, UploadInProgress } from '../../src/domain/errors.ts';
import type { Principal } from '../../src/domain/principal.ts';
import { delegatingStore } from '../support/delegating-store.ts';
import { eventually } from '../support/eventually.ts';
import { EICAR, FakeMalwareScanner } from '../support/fake-malware-scanner.ts';
import { fileNamed, fileWithText } from '../support/file-heads.ts';
import { sha256 } from '../support/streams.ts';
import { ObjectPieces } from '../../src/adapters/resumable-pieces/object-pieces.ts';

const store42: Principal = { kind: 'store', id: '42' };
const TAIL_MS = 60_000;
const selfTargets: DirectUploadTargets = {
  viaAttache: true,
  targetFor: async ({ uploadId }) => ({ method: 'PUT', url: `http://attache.test/v1/chat/upload/direct/${uploadId}`, headers: {} }),
};

describe('a staged completion whose process died before its answer', () => {
  let memory: InMemoryObjectStore;
  let clock: number;
  /** Receipt writes held here never finish (the frozen instance), until a test lets them go. */
  let frozen: Array<() => void>;

  /** A store whose receipt writes stop for good: the instance was killed right before its answer. */
  function freezingAtReceipts(): ObjectStore {
    return delegatingStore(memory, {
      put: (key, body, meta, signal) => {
        if (!key.endsWith('.answer.json')) return memory.put(key, body, meta, signal);
        return new Promise<void>((resume) => frozen.push(resume)).then(() => memory.put(key, body, meta, signal));
      },
    });
  }
  function uploadsOver(store: ObjectStore) {
    const scanner = new FakeMalwareScanner();
    return new UploadAttachment({ store, auth: new StaticTokenAuth([]), mime: new ContentMimeDetector(), maxFileSize: 256 * 1024, malwareScan: { scanner, onError: 'reject' } });
  }
  function direct(store: ObjectStore) {
    const ids = new SignedUploadIds(['a-secret-of-at-least-32-characters-0001']);
    return new DirectUpload({ uploads: uploadsOver(store), store, targets: selfTargets, ids, ttlSeconds: 900, now: () => clock, completionTailMs: TAIL_MS });
  }
  function resumable(store: ObjectStore) {
    return new ResumableUpload({ uploads: uploadsOver(store), store, pieces: new ObjectPieces(store), ttlSeconds: 3600, now: () => clock, completionTailMs: TAIL_MS });
  }
  const attachmentKeys = () => memory.keys().filter((key) => key.startsWith('chat/'));

  beforeEach(() => {
    memory = new InMemoryObjectStore({ publicBaseUrl: 'http://files.test' });
    // The store stamps objects with the real clock; the completions judge their age by this one.
    clock = Date.now();
    frozen = [];
  });

  it('direct: in progress while the attachment is young, then finished by another instance with the answer the first would have given, once', async () => {
    const pdf = fileNamed('report.pdf', 5000);
    const dead = direct(freezingAtReceipts());
    const issued = await dead.issue({ principal: store42, fileName: 'report.pdf', size: pdf.length, sessionId: '9' });
    await dead.acceptBytes(issued.uploadId, Readable.from([pdf]), pdf.length);
    void dead.complete(store42, issued.uploadId);
    await eventually(async () => expect(frozen).toHaveLength(1));
    const [key] = attachmentKeys();

    const live = direct(memory);
    await expect(live.complete(store42, issued.uploadId)).rejects.toBeInstanceOf(UploadInProgress);
    expect(attachmentKeys()).toEqual([key]);

    clock += TAIL_MS + 1000;
    const answer = await live.complete(store42, issued.uploadId);
    expect(answer).toEqual({ url: `http://files.test/${key}`, type: 'application/pdf', key, size: pdf.length, sha256: sha256(pdf), malwareScan: { verdict: 'clean' } });
    expect(await live.complete(store42, issued.uploadId)).toEqual(answer);
    expect(attachmentKeys()).toEqual([key]);
    expect(memory.keys().filter((k) => k.startsWith('staged/') && !k.endsWith('.answer.json'))).toEqual([]);

    // The first instance, merely frozen after all, wakes: its receipt's key is taken, and the answer kept is its answer.
    frozen.forEach((resume) => resume());
    await eventually(async () => expect(memory.keys().filter((k) => k.endsWith('.answer.json'))).toHaveLength(1));
    expect(attachmentKeys()).toEqual([key]);
  });

  it('resumable: the last PATCH of a dead instance, finished by a retry on another', async () => {
    const pdf = fileNamed('report.pdf', 5000);
    const dead = resumable(freezingAtReceipts());
    const { id } = await dead.create({ principal: store42, fileName: 'report.pdf', sessionId: '9', length: pdf.length });
    void dead.append({ principal: store42, id, offset: 0, content: Readable.from([pdf]) });
    await eventually(async () => expect(frozen).toHaveLength(1));

    const live = resumable(memory);
    await expect(live.result(store42, id)).rejects.toBeInstanceOf(UploadInProgress);
    clock += TAIL_MS + 1000;
    const state = await live.append({ principal: store42, id, offset: pdf.length, content: Readable.from([]) });
    expect(state).toMatchObject({ offset: pdf.length, uploaded: { type: 'application/pdf', size: pdf.length, sha256: sha256(pdf), malwareScan: { verdict: 'clean' } } });
    expect(await live.state(store42, id)).toMatchObject({ uploaded: state.uploaded });
    expect(attachmentKeys()).toEqual([state.uploaded!.key]);
    expect(memory.keys().filter((key) => key.includes('.tus-'))).toEqual([]);
  });

  it('an attachment whose scan never gave its verdict is scanned now: malware is refused, and nothing of the upload remains', async () => {
    const infected = fileWithText('notes.pdf', `notes ${EICAR} more`);
    const live = direct(memory);
    const issued = await live.issue({ principal: store42, fileName: 'notes.pdf', size: infected.length, sessionId: '9' });
    await live.acceptBytes(issued.uploadId, Readable.from([infected]), infected.length);
    // What the dead completion left: the staged bytes and, beside them, the attachment stored before the scan's verdict.
    const id = memory.keys().find((key) => key.startsWith('staged/'))!.slice('staged/'.length);
    const orphan = finalKeyOf(store42, '9', id, 'notes.pdf');
    await memory.put(orphan, Readable.from([infected]), { contentType: 'application/pdf', fileName: 'notes.pdf', disposition: 'attachment' });
    expect(attachmentKeys()).toEqual([orphan]);

    clock += TAIL_MS + 1000;
    await expect(live.complete(store42, issued.uploadId)).rejects.toBeInstanceOf(MalwareFound);
    expect(memory.keys()).toEqual([]);
  });

  it('a preview the dead completion stored already is taken as it is, not a conflict', async () => {
    const step = new ImagePreviewStep({ preview: async () => ({ made: false, reason: 'unsupported', width: undefined, height: undefined }) } as never, memory);
    const key = finalKeyOf(store42, '9', '1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633d', 'photo.jpg');
    const preview = { bytes: Buffer.from('a preview'), contentType: 'image/jpeg', extension: 'jpg', width: 2, height: 1 };
    const original = { name: 'photo.jpg', uploader: 'store:42' };
    const first = await step.publish(preview, key, original, new AbortController().signal);
    expect(await step.publish(preview, key, original, new AbortController().signal)).toEqual(first);
    expect(memory.keys()).toEqual([first.key]);
  });

  it('an orphan whose meta was lost with its process (no SHA-256 kept) is removed, and the next retry completes afresh', async () => {
    const pdf = fileNamed('report.pdf', 5000);
    const dead = direct(freezingAtReceipts());
    const issued = await dead.issue({ principal: store42, fileName: 'report.pdf', size: pdf.length, sessionId: '9' });
    await dead.acceptBytes(issued.uploadId, Readable.from([pdf]), pdf.length);
    void dead.complete(store42, issued.uploadId);
    await eventually(async () => expect(frozen).toHaveLength(1));
    const [key] = attachmentKeys();
    // As a local disk answers for a file whose sidecar was never written.
    const withoutMeta = delegatingStore(memory, {
      read: async (k) => {
        const content = await memory.read(k);
        if (k !== key || content === undefined) return content;
        const { sha256: _sha256, ...rest } = content;
        return rest;
      },
    });
    const live = direct(withoutMeta);
    clock += TAIL_MS + 1000;
    await expect(live.complete(store42, issued.uploadId)).rejects.toBeInstanceOf(UploadInProgress);
    expect(attachmentKeys()).toEqual([]);
    expect(await live.complete(store42, issued.uploadId)).toMatchObject({ key, size: pdf.length, sha256: sha256(pdf), malwareScan: { verdict: 'clean' } });
  });
});
