import { pipeline, type Readable } from 'node:stream';
import { ChecksumMismatch, FileRequired } from '../domain/errors.ts';
import { baseNameOf, isImageExtension, type AllowedExtension } from '../domain/file-types.ts';
import { objectKeyFor, provisionalKeyFor, type ObjectKey } from '../domain/object-key.ts';
import { uploaderOf } from '../domain/principal.ts';
import { firstBytes, readHead, streamOf } from '../shared/stream-head.ts';
import type { AttachmentUploadDeps } from './attachment-upload-deps.ts';
import { checkBeforeBytes } from './check-before-bytes.ts';
import { putChecked, type BytesReader } from './checked-put.ts';
import type { ImageFinding } from './image-preview-step.ts';
import type { MalwareScanOutcome } from './malware-scan-step.ts';
import type { ObjectMeta } from './ports/object-store.ts';
import { copyingTarget, isStoredAt } from './stored-copy.ts';
import type { StartRequest } from './upload-requests.ts';

// An upload's bytes, from the first to the last: the checks before a byte is read, those made as the
// bytes stream (type, size, the extra steps, the declared SHA-256), and where the file waits until its
// upload completes. Apart from AttachmentUpload, which gives the received file its folder and its URL.

/** What the steps beside the store found while the bytes streamed. */
export interface Findings {
  readonly scan?: MalwareScanOutcome;
  readonly image?: ImageFinding;
}

/** A file once all its bytes are in. */
export type Received =
  /** Small, its folder unknown: its bytes wait in memory, to be checked with its session id. */
  | { readonly kind: 'held'; readonly size: number; readonly chunks: readonly Buffer[]; readonly extension: AllowedExtension }
  /** Checked and stored, under its final key or, while its folder is unknown, a provisional one. */
  | (Stored & { readonly kind: 'stored'; readonly key: ObjectKey; readonly provisional: boolean });

export interface Stored {
  readonly size: number;
  readonly sha256: string;
  readonly meta: ObjectMeta;
  readonly findings: Findings;
}

/** One upload as the receiving of its bytes sees it. */
export interface ReceivingUpload {
  /** The request, its file name rid of invisible format characters. */
  readonly request: StartRequest;
  readonly deps: AttachmentUploadDeps;
  readonly uploadId: string;
  /** Stops a store call in flight: the client's signal, or the upload abandoned. */
  readonly signal: AbortSignal;
}

/** Reads the upload's content to its end: checked, then stored or (small, its folder unknown) held. */
export async function receiveAttachment(upload: ReceivingUpload): Promise<Received> {
  const { principal, sessionId, sessionIdFollows, fileName, content } = upload.request;
  const { mime, maxFileSize, holdBytes } = upload.deps;
  const source = content instanceof Uint8Array ? streamOf([Buffer.from(content.buffer, content.byteOffset, content.length)]) : content;
  try {
    if (sessionIdFollows && sessionId !== undefined) throw new TypeError('start: give sessionId or sessionIdFollows, not both');
    const { folder, extension } = checkBeforeBytes(principal, sessionIdFollows ? undefined : { sessionId }, fileName);

    // At least one byte, even for a detector that looks at none: an empty file is no file.
    // While the folder is unknown, read far enough to know whether the file is small enough to hold.
    const detectorBytes = mime.headBytesFor(extension);
    const head = await readHead(source, Math.max(detectorBytes, 1, folder === undefined ? holdBytes + 1 : 0), maxFileSize);
    const size = head.chunks.reduce((sum, chunk) => sum + chunk.length, 0);
    if (size === 0) throw new FileRequired('the file is empty');
    // Small, and its folder still unknown: it waits in memory as the chunks it came in, and is
    // checked with its session id, so that an invalid one is what the request is refused for,
    // whatever the file, as when the session id comes first.
    if (folder === undefined && head.ended) return { kind: 'held', size, chunks: head.chunks, extension };

    const key = folder === undefined ? provisionalKeyFor(upload.uploadId, fileName) : objectKeyFor(folder, upload.uploadId, fileName);
    const stored = await storeAttachmentBytes(upload, key, extension, head.chunks, head.rest);
    return { kind: 'stored', ...stored, key, provisional: folder === undefined };
  } finally {
    release(source);
  }
}

/**
 * Checks the file's type from its first bytes (`head`), then streams `bytes` to `key`, stripped
 * of metadata where configured, while the extra steps read the same bytes.
 */
export async function storeAttachmentBytes(
  upload: ReceivingUpload,
  key: ObjectKey,
  extension: AllowedExtension,
  head: readonly Buffer[],
  bytes: Readable,
): Promise<Stored> {
  const { mime, store, scan, preview, stripper } = upload.deps;
  const { fileName } = upload.request;
  const contentType = await mime.detect(fileName, extension, firstBytes(head, mime.headBytesFor(extension)));
  const meta: ObjectMeta = {
    contentType,
    fileName: baseNameOf(fileName),
    disposition: isImageExtension(extension) ? 'inline' : 'attachment',
    uploader: uploaderOf(upload.request.principal),
  };
  const storedAt = upload.request.storedAt;
  // Bytes already at their own key are the attachment as it was stored (stripped already): a
  // completion finishing what one whose process died began (StagedCompletion).
  const strip = isStoredAt(storedAt, key) ? undefined : stripper?.transformFor(extension);
  const toStore = strip ? pipeline(bytes, strip, () => {}) : bytes;

  const steps: Array<[keyof Findings, BytesReader<Findings[keyof Findings]>]> = [];
  if (scan) steps.push(['scan', (branch, signal) => scan.read(branch, signal)]);
  if (preview?.wants(extension)) steps.push(['image', (branch, signal) => preview.read(branch, extension, signal)]);
  // Bytes stored already and left as they are: copied within the store, read only as far as the checks need.
  const source = strip ? undefined : storedAt;
  const target = source ? copyingTarget(store, source, steps.length === 0) : store;
  const checked = await putChecked(target, key, toStore, meta, steps.map(([, read]) => read), upload.signal);
  const expected = upload.request.expectedSha256;
  if (expected !== undefined && checked.stored.sha256 !== expected.toLowerCase()) {
    await store.delete(key).catch(() => {});
    throw new ChecksumMismatch(`the file's SHA-256 is ${checked.stored.sha256}, not the declared ${expected.toLowerCase()}`);
  }
  const findings = Object.fromEntries(steps.map(([name], i) => [name, checked.findings[i]])) as Findings;
  return { size: checked.stored.size, sha256: checked.stored.sha256, meta, findings };
}

/**
 * Whatever happened, the caller's stream is finished with; never leave it paused mid-body.
 * Errors it reports after this (a file stream failing to open, a late parser error) concern
 * nobody, and unheard they would crash the process.
 */
function release(source: Readable): void {
  if (!source.readableEnded) {
    source.on('error', () => {});
    source.destroy();
  }
}
