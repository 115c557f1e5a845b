import type { IncomingMessage } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';
import type { StorageEngine } from 'multer';
import { STREAM_BUFFER_BYTES } from '../../shared/stream-buffer.ts';
import { readHead } from '../../shared/stream-head.ts';
import type { ReceivedAttachment, UploadAttachment, UploadedAttachment } from '../../application/upload-attachment.ts';
import { InvalidSessionId } from '../../domain/errors.ts';
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

/**
 * What the engine hands back for the `file` part: stored already (its session id came first),
 * received under a provisional key, or, when small, held in memory until the form ends.
 */
export type HandledFile =
  | { readonly kind: 'stored'; readonly attachment: UploadedAttachment }
  | { readonly kind: 'received'; readonly received: ReceivedAttachment }
  | { readonly kind: 'held'; readonly fileName: string; readonly content: readonly Buffer[] };

/** Removes what the engine stored or received for a file, for a request that failed (a held file is just dropped). */
export async function undoHandledFile(useCase: UploadAttachment, handled: HandledFile): Promise<void> {
  if (handled.kind !== 'held') await useCase.discard(handled.kind === 'stored' ? handled.attachment : handled.received);
}

/**
 * Files up to this size that come before their session id wait for the end of the form in
 * memory: cheaper than storing them and moving them after (one request instead of three on
 * S3), and still a bounded amount per upload. Larger ones stream to storage at once.
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
 * A multer StorageEngine that never holds more than MEMORY_HOLD_BYTES of a file in memory.
 *
 * The folder depends on `session_id`, which a client may send before or after the file (the
 * spec's own curl and FormData examples send it after). When it came first, the file streams
 * straight through the use case to its key. When it has not been seen yet, the file still
 * streams to the store at once, under a provisional key (UploadAttachment.receive), and is
 * moved to its folder within the store once the form is complete; a small one waits in memory.
 */
export class AttachmentStorageEngine implements StorageEngine {
  readonly #uploads: WeakMap<IncomingMessage, MultipartUpload>;
  readonly #useCase: UploadAttachment;
  readonly #maxFileSize: number;

  constructor(deps: { uploads: WeakMap<IncomingMessage, MultipartUpload>; useCase: UploadAttachment; maxFileSize: number }) {
    this.#uploads = deps.uploads;
    this.#useCase = deps.useCase;
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
      // Refuse a bad type or session before a byte of the file is read or stored.
      this.#useCase.precheck({ principal: upload.principal, sessionId, fileName });
      if (sessionId !== undefined) {
        const attachment = await this.#useCase.execute({ principal: upload.principal, sessionId, fileName, content, signal: upload.signal });
        return { kind: 'stored', attachment };
      }
    } catch (error) {
      content.destroy();
      throw error;
    }
    const { chunks, ended, rest } = await readHead(content, MEMORY_HOLD_BYTES + 1, this.#maxFileSize);
    // Ended within the head: the chunks read are the whole file. Held as they came, neither
    // joined (a copy of every small file) nor wrapped in a stream the use case would wrap again.
    if (ended) return { kind: 'held', fileName, content: chunks };
    const received = await this.#useCase.receive({ principal: upload.principal, fileName, content: rest, signal: upload.signal });
    return { kind: 'received', received };
  }

  _removeFile(_req: IncomingMessage, file: Express.Multer.File, callback: (error: Error | null) => void): void {
    const handled = (file as Express.Multer.File & { handled?: HandledFile }).handled;
    const removal = handled === undefined ? Promise.resolve() : undoHandledFile(this.#useCase, handled);
    removal.then(
      () => callback(null),
      (error: Error) => callback(error),
    );
  }
}
