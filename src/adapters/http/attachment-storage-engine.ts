import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';
import type { StorageEngine } from 'multer';
import type { ObjectStore } from '../../application/ports.ts';
import { STREAM_BUFFER_BYTES } from '../../application/stream-buffer.ts';
import { readHead } from '../../application/stream-head.ts';
import type { UploadAttachment, UploadedAttachment } from '../../application/upload-attachment.ts';
import { InvalidSessionId } from '../../domain/errors.ts';
import type { ObjectKey } from '../../domain/object-key.ts';
import type { Principal } from '../../domain/principal.ts';

/** What the upload route tells the engine about one request. */
export interface MultipartUpload {
  readonly principal: Principal;
  readonly signal: AbortSignal;
  /** Told of the first failure while a file streams, so the route can answer without waiting for the body's end. */
  readonly onFileError: (error: unknown) => void;
  /** Told of each file's handling, so the route can let it finish (and clean up) before answering a failure. */
  readonly onFileHandling: (handling: Promise<unknown>) => void;
  /** Settles once the route's answer has gone out (or the client has gone). */
  readonly answered: Promise<void>;
}

/** A file kept aside until the form ends, in memory when small, else in the spool store. */
export interface HeldFile {
  readonly kind: 'held';
  readonly fileName: string;
  /** The file's bytes, from the start (in memory when small); call once. */
  open(): Promise<Readable | Buffer>;
  /** Frees what holds the file; safe to call more than once. */
  release(): Promise<void>;
}

/** What the engine hands back for the `file` part: stored already, or held until the form ends. */
export type HandledFile =
  | { readonly kind: 'stored'; readonly attachment: UploadedAttachment; readonly sessionId: string | undefined }
  | HeldFile;

/**
 * Files up to this size wait for the end of the form in memory; larger ones go to the spool
 * store. Bounds memory per upload while sparing small files (most chat photos) a disk round trip.
 */
export const MEMORY_HOLD_BYTES = 256 * 1024;

/** The one value of a form field sent at most once; InvalidSessionId-style errors are the caller's. */
export function singleField(fields: Record<string, unknown>, name: string): string | undefined {
  const value = fields[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new InvalidSessionId(`${name} must be sent once, as a plain field`);
  return value;
}

/**
 * A multer StorageEngine that never holds a file in memory.
 *
 * The folder depends on `session_id`, which a client may send before or after the file (the
 * spec's own curl and FormData examples send it after). When it came first, the file streams
 * straight through the use case to the object store. When it has not been seen yet, the key
 * cannot be known until the form ends, and object stores cannot rename, so the file is held
 * (in memory up to MEMORY_HOLD_BYTES, else in a local spool store, never beyond the size limit)
 * and uploaded from there once the form is complete.
 */
export class AttachmentStorageEngine implements StorageEngine {
  readonly #uploads: WeakMap<IncomingMessage, MultipartUpload>;
  readonly #useCase: UploadAttachment;
  readonly #spool: ObjectStore;
  readonly #maxFileSize: number;

  constructor(deps: {
    uploads: WeakMap<IncomingMessage, MultipartUpload>;
    useCase: UploadAttachment;
    spool: ObjectStore;
    maxFileSize: number;
  }) {
    this.#uploads = deps.uploads;
    this.#useCase = deps.useCase;
    this.#spool = deps.spool;
    this.#maxFileSize = deps.maxFileSize;
  }

  _handleFile(req: IncomingMessage & { body?: Record<string, unknown> }, file: Express.Multer.File, callback: (error?: unknown, info?: Partial<Express.Multer.File>) => void): void {
    const upload = this.#uploads.get(req);
    if (!upload) {
      callback(new Error('AttachmentStorageEngine used outside the upload route'));
      return;
    }
    // The use case gets its own stream of the file, not busboy's. When an upload fails (too
    // large, bad type, storage down) it destroys its stream with the error; done to busboy's,
    // multer would see the error at once and drain the rest of the body at full speed while the
    // failed upload is still being cleaned up. Instead busboy's stream is left unread, which
    // stops the parser and the socket (backpressure); the body is dealt with once the answer
    // is out, under the bounded discard of stopReadingAfterAnswer.
    const content = new PassThrough({ highWaterMark: STREAM_BUFFER_BYTES });
    file.stream.once('error', (error) => content.destroy(error));
    file.stream.pipe(content);
    content.once('close', () => {
      if (!content.readableEnded) file.stream.unpipe(content);
    });
    const handling = this.#handle(upload, req.body ?? {}, file.originalname, content);
    upload.onFileHandling(handling);
    handling.then(
      (handled) => callback(null, { handled } as Partial<Express.Multer.File>),
      (error: unknown) => {
        upload.onFileError(error);
        // multer answers a failed file by draining the rest of the body, at full speed and to its
        // end; held back until the route's answer is out, the drain falls under the bounded
        // discard of stopReadingAfterAnswer instead.
        void upload.answered.then(() => callback(error));
      },
    );
  }

  async #handle(upload: MultipartUpload, fieldsSoFar: Record<string, unknown>, fileName: string, content: Readable): Promise<HandledFile> {
    try {
      const sessionId = singleField(fieldsSoFar, 'session_id');
      // Refuse a bad type or session before a byte of the file is read or spooled.
      this.#useCase.precheck({ principal: upload.principal, sessionId, fileName });
      if (sessionId !== undefined) {
        const attachment = await this.#useCase.execute({ principal: upload.principal, sessionId, fileName, content, signal: upload.signal });
        return { kind: 'stored', attachment, sessionId };
      }
    } catch (error) {
      content.destroy();
      throw error;
    }
    return this.#hold(fileName, content, upload.signal);
  }

  async #hold(fileName: string, content: Readable, signal: AbortSignal): Promise<HeldFile> {
    const { head, rest } = await readHead(content, MEMORY_HOLD_BYTES + 1, this.#maxFileSize);
    if (head.length <= MEMORY_HOLD_BYTES) {
      rest.destroy();
      return { kind: 'held', fileName, open: async () => head, release: async () => {} };
    }
    const spool = this.#spool;
    const spoolKey = `spool/${randomUUID()}` as ObjectKey;
    await spool.put(spoolKey, rest, { contentType: 'application/octet-stream', fileName, disposition: 'attachment' }, signal);
    return {
      kind: 'held',
      fileName,
      async open() {
        const spooled = await spool.read(spoolKey);
        if (!spooled) throw new Error(`spooled file ${spoolKey} vanished`);
        return spooled.body;
      },
      release: () => spool.delete(spoolKey),
    };
  }

  _removeFile(_req: IncomingMessage, file: Express.Multer.File, callback: (error: Error | null) => void): void {
    const handled = (file as Express.Multer.File & { handled?: HandledFile }).handled;
    const removal =
      handled === undefined
        ? Promise.resolve()
        : handled.kind === 'stored'
          ? this.#useCase.discard(handled.attachment)
          : handled.release();
    removal.then(
      () => callback(null),
      (error: Error) => callback(error),
    );
  }
}
