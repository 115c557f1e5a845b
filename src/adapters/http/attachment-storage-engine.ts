import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import type { StorageEngine } from 'multer';
import type { ObjectStore } from '../../application/ports.ts';
import { sizeLimit } from '../../application/size-limit.ts';
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
}

/** What the engine hands back for the `file` part: stored already, or spooled until the form ends. */
export type HandledFile =
  | { readonly kind: 'stored'; readonly attachment: UploadedAttachment; readonly sessionId: string | undefined }
  | { readonly kind: 'spooled'; readonly spoolKey: ObjectKey };

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
 * cannot be known until the form ends, and object stores cannot rename, so the file is
 * spooled (bounded by the size limit) to a local spool store and uploaded from there once the
 * form is complete.
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
    const handling = this.#handle(upload, req.body ?? {}, file);
    upload.onFileHandling(handling);
    handling.then(
      (handled) => callback(null, { handled } as Partial<Express.Multer.File>),
      (error: unknown) => {
        upload.onFileError(error);
        callback(error);
      },
    );
  }

  async #handle(upload: MultipartUpload, fieldsSoFar: Record<string, unknown>, file: { originalname: string; stream: Readable }): Promise<HandledFile> {
    const sessionSeen = fieldsSoFar.session_id !== undefined;
    const sessionId = singleField(fieldsSoFar, 'session_id');
    try {
      // Refuse a bad type or session before a byte of the file is read or spooled.
      this.#useCase.precheck({ principal: upload.principal, sessionId, fileName: file.originalname });
    } catch (error) {
      file.stream.resume();
      throw error;
    }
    if (sessionSeen) {
      const attachment = await this.#useCase.execute({
        principal: upload.principal,
        sessionId,
        fileName: file.originalname,
        content: file.stream,
        signal: upload.signal,
      });
      return { kind: 'stored', attachment, sessionId };
    }
    const spoolKey = `spool/${randomUUID()}` as ObjectKey;
    const limited = pipeline(file.stream, sizeLimit(this.#maxFileSize), () => {});
    await this.#spool.put(spoolKey, limited, { contentType: 'application/octet-stream', fileName: file.originalname, disposition: 'attachment' }, upload.signal);
    return { kind: 'spooled', spoolKey };
  }

  _removeFile(_req: IncomingMessage, file: Express.Multer.File, callback: (error: Error | null) => void): void {
    const handled = (file as Express.Multer.File & { handled?: HandledFile }).handled;
    const removal =
      handled === undefined
        ? Promise.resolve()
        : handled.kind === 'stored'
          ? this.#useCase.discard(handled.attachment)
          : this.#spool.delete(handled.spoolKey);
    removal.then(
      () => callback(null),
      (error: Error) => callback(error),
    );
  }
}
