import { extensionOf } from './file-types.ts';

/** Where an object lives in a store: `chat/<folder>/<upload id>-<safe file name>`. */
export type ObjectKey = string & { readonly __brand: 'ObjectKey' };

/** Longest safe file name, in UTF-8 bytes. */
export const MAX_SAFE_NAME_LENGTH = 100;

/** UTF-8 length of a string, counted, not encoded (an encoder would allocate for every character). */
function utf8Length(text: string): number {
  let bytes = 0;
  for (const char of text) {
    const codePoint = char.codePointAt(0)!;
    bytes += codePoint < 0x80 ? 1 : codePoint < 0x800 ? 2 : codePoint < 0x10000 ? 3 : 4;
  }
  return bytes;
}

/**
 * A form of the client's file name that is safe in any store's key and in a URL path:
 * Unicode letters and digits survive (NFC), everything else ('/', '\\', NUL, controls,
 * '%', '#', '?', spaces, quotes, ...) becomes '_', and the stem is cut so the name stays
 * within MAX_SAFE_NAME_LENGTH UTF-8 bytes with its extension intact. Bytes, not characters:
 * file systems cap a path segment at 255 bytes, and a local store's temporary and sidecar
 * names add ~93 bytes around the key's last segment (100 CJK characters are 300 bytes).
 */
export function safeFileName(original: string): string {
  const normalized = original.normalize('NFC');
  // Only the last path segment: clients (old IE, some SDKs) send full paths.
  const base = normalized.slice(Math.max(normalized.lastIndexOf('/'), normalized.lastIndexOf('\\')) + 1);
  const extension = extensionOf(base);
  const stem = extension === '' ? base : base.slice(0, base.length - extension.length - 1);
  const clean = (s: string) =>
    s
      .replace(/[^\p{L}\p{M}\p{N}._-]+/gu, '_')
      .replace(/_{2,}/g, '_')
      .replace(/\.{2,}/g, '.')
      .replace(/^[._-]+|[._-]+$/g, '');
  const safeExtension = clean(extension).toLowerCase();
  const room = MAX_SAFE_NAME_LENGTH - (safeExtension ? utf8Length(safeExtension) + 1 : 0);
  const safeStem = cutToBytes(clean(stem), Math.max(room, 1)).replace(/[._-]+$/, '') || 'file';
  return safeExtension ? `${safeStem}.${safeExtension}` : safeStem;
}

const ASCII = /^[\x00-\x7f]*$/;

/** The longest start of `text` within `maxBytes` UTF-8 bytes, cut by whole code points (a surrogate pair is never split). */
function cutToBytes(text: string, maxBytes: number): string {
  // Most names: one byte per character, no walk over the characters needed.
  if (ASCII.test(text)) return text.slice(0, maxBytes);
  let bytes = 0;
  let end = 0;
  for (const char of text) {
    bytes += utf8Length(char);
    if (bytes > maxBytes) break;
    end += char.length;
  }
  return text.slice(0, end);
}

/** A key unique to one upload, ending in the safe form of the client's file name. */
export function objectKeyFor(folder: string, uploadId: string, originalFileName: string): ObjectKey {
  return `${folder}${uploadId}-${safeFileName(originalFileName)}` as ObjectKey;
}

/**
 * Where a file waits, under the same upload id, while its final key is not known yet (its
 * session id, which decides the folder, comes after it in the form). Outside `chat/`, so it is
 * never taken for an attachment; see UploadAttachment.receive.
 */
export function provisionalKeyFor(uploadId: string, originalFileName: string): ObjectKey {
  return `${PROVISIONAL_PREFIX}${uploadId}-${safeFileName(originalFileName)}` as ObjectKey;
}

/**
 * Where a direct upload's bytes wait, as the client sent them to the store, until its completion
 * checks them and puts them at their final key. A prefix of its own, outside `chat/` (never served,
 * never taken for an attachment) and `incoming/`, so that a lifecycle rule or a sweeper can
 * remove what clients abandoned without touching anything else.
 */
export const STAGED_PREFIX = 'staged/';

/** A direct upload's staged object. */
export function stagedKeyFor(uploadId: string): ObjectKey {
  return `${STAGED_PREFIX}${uploadId}` as ObjectKey;
}

/** Where a completed upload's answer is kept, beside its staged object, for a completion retried from any instance (a direct upload's only when the attachment cannot say it all: StagedCompletion). */
export function completionReceiptKeyFor(uploadId: string): ObjectKey {
  return `${STAGED_PREFIX}${uploadId}.answer.json` as ObjectKey;
}

/** Where files wait for their folder; whatever is still here long after its upload ended was abandoned. */
export const PROVISIONAL_PREFIX = 'incoming/';
/** Where attachments (and their previews) live. */
export const ATTACHMENT_PREFIX = 'chat/';

/** Whether `key` names an attachment (under `chat/`), not a file still waiting for its folder. */
export function isAttachmentKey(key: string): boolean {
  return key.startsWith(ATTACHMENT_PREFIX);
}

/**
 * The extensions previews are stored with (webp, see SharpImagePreviewer): deleting an attachment
 * deletes the preview at each, whether or not previews are on now (they may have been then).
 */
export const PREVIEW_EXTENSIONS: readonly string[] = ['webp'];

/**
 * Longest key a caller may ask for, in UTF-8 bytes: S3's and GCS's own limit, and far above the
 * keys attache makes (some 300 bytes: a 128-character session folder, an upload id, a 100-byte
 * name, a preview's extension). A longer one names nothing; a store asked for it would refuse the
 * request itself (S3: KeyTooLongError; a disk: ENAMETOOLONG), which reads as the store failing.
 */
export const MAX_REQUESTABLE_KEY_BYTES = 1024;

/**
 * Whether `key` can name an attachment a caller asks for by URL: under `chat/`, at most
 * MAX_REQUESTABLE_KEY_BYTES long, with no empty, `.` or `..` segment (a store could resolve those
 * to another key).
 */
export function isRequestableAttachmentKey(key: string): key is ObjectKey {
  return (
    isAttachmentKey(key) &&
    key.length <= MAX_REQUESTABLE_KEY_BYTES &&
    utf8Length(key) <= MAX_REQUESTABLE_KEY_BYTES &&
    key.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..')
  );
}

/**
 * The key of the attachment an attache URL points at, whatever the store's URL shape
 * (`…/files/chat/…`, `https://bucket.host/chat/…?X-Amz-Signature=…`, `…/v1/chat/files/chat/…`),
 * or a bare key (`chat/…`) as it is; undefined when there is none. The key starts at the last
 * `chat` segment followed by a folder and a name (no name segment is `chat`: it starts with its
 * upload id), and its segments are percent-decoded.
 */
export function attachmentKeyInUrl(urlOrKey: string): string | undefined {
  let path = urlOrKey;
  if (!urlOrKey.startsWith('chat/')) {
    try {
      path = new URL(urlOrKey).pathname;
    } catch {
      return undefined;
    }
  }
  const segments = path.split('/');
  const start = segments.lastIndexOf('chat', segments.length - 3);
  if (start < 0 || segments.slice(start).includes('')) return undefined;
  try {
    return segments.slice(start).map(decodeURIComponent).join('/');
  } catch {
    return undefined;
  }
}

/**
 * Where the preview of the image at `key` is stored: beside it, its key plus `.preview.<extension>`.
 * No original can have it, as the preview's extension (webp) is not one attache accepts.
 */
export function previewKeyFor(key: ObjectKey, extension: string): ObjectKey {
  return `${key}.preview.${extension}` as ObjectKey;
}

/** Where a resumable upload's record (who, which file, how long, until when) waits beside its bytes. */
export function resumableRecordKeyFor(uploadId: string): ObjectKey {
  return `${STAGED_PREFIX}${uploadId}.tus` as ObjectKey;
}

/**
 * A resumable upload's bytes from `offset` on, as one `PATCH` stored them. The offset, zero-padded
 * so that the keys sort in order, names the part: two requests for the same offset meet at the same
 * key, and the store's never-overwrite lets only one of them in.
 */
export function resumablePartKeyFor(uploadId: string, offset: number): ObjectKey {
  return `${STAGED_PREFIX}${uploadId}.tus-${String(offset).padStart(16, '0')}` as ObjectKey;
}

/**
 * Who ends a resumable upload, its completion or its termination (DELETE): the first to write this
 * key (never overwritten) does, so that the two racing cannot both go on.
 */
export function resumableEndingKeyFor(uploadId: string): ObjectKey {
  return `${STAGED_PREFIX}${uploadId}.tus-ending` as ObjectKey;
}

/**
 * Marks that a resumable upload's parts reach `offset` (an empty object, written after the part
 * that ends there): a request for that offset checks one key instead of walking every part.
 */
export function resumablePartEndKeyFor(uploadId: string, offset: number): ObjectKey {
  return `${STAGED_PREFIX}${uploadId}.tus-end-${String(offset).padStart(16, '0')}` as ObjectKey;
}
