import type { IncomingMessage } from 'node:http';
import multer from '@koa/multer';
import multerCore from 'multer';
import type { Context } from 'koa';
import type { UploadAttachment, UploadedAttachment } from '../../application/upload-attachment.ts';
import { DomainError, FileRequired, InvalidSessionId, InvalidUpload } from '../../domain/errors.ts';
import { AttachmentStorageEngine, type HandledFile, type MultipartUpload, singleField, undoHandledFile } from './attachment-storage-engine.ts';
import { tokenFromRequest } from './authorization-header.ts';
import { STREAM_BUFFER_BYTES } from '../../shared/stream-buffer.ts';

/** Limits on the parts of a form, so a hostile body costs little. The file's own limit is MAX_FILE_SIZE. */
const FORM_LIMITS = {
  files: 1,
  fields: 16,
  parts: 20,
  fieldNameSize: 100,
  fieldSize: 1024,
  headerPairs: 50,
};

export class ClientGone extends Error {
  constructor() {
    super('the client closed the connection before the upload finished');
    this.name = 'ClientGone';
  }
}

/** multer's and busboy's errors, in the use case's words. */
function fromMultipartError(error: unknown): unknown {
  if (error instanceof DomainError || error instanceof ClientGone) return error;
  if (error instanceof multerCore.MulterError) {
    switch (error.code) {
      case 'LIMIT_UNEXPECTED_FILE':
        return new FileRequired(`send the file in the field "file", not "${error.field}"`);
      case 'LIMIT_FILE_COUNT':
        return new InvalidUpload('send exactly one file');
      case 'LIMIT_FIELD_VALUE':
        return error.field === 'session_id' ? new InvalidSessionId('session_id is too long') : new InvalidUpload(`field "${error.field}" is too long`);
      default:
        return new InvalidUpload(error.message);
    }
  }
  // Everything else from the parser means the body is not well-formed multipart.
  return new InvalidUpload(`malformed multipart body: ${(error as Error).message ?? String(error)}`);
}

/**
 * POST /v1/chat/upload/: authenticate from the header before reading any body, then parse the
 * form with multer, streaming the file through the AttachmentStorageEngine.
 */
export function uploadRoute(deps: { useCase: UploadAttachment; maxFileSize: number }) {
  const uploads = new WeakMap<IncomingMessage, MultipartUpload>();
  const engine = new AttachmentStorageEngine({ uploads, useCase: deps.useCase, maxFileSize: deps.maxFileSize });
  // preservePath: busboy would silently cut "../../x.jpg" to "x.jpg"; the domain's file-name
  // rule sees the name as sent, refuses traversal attempts, and keeps only the last segment.
  const parseForm = multer({ storage: engine, limits: FORM_LIMITS, defParamCharset: 'utf8', preservePath: true, highWaterMark: STREAM_BUFFER_BYTES, fileHwm: STREAM_BUFFER_BYTES } as multer.Options).single('file');

  return async function upload(ctx: Context): Promise<void> {
    const principal = await deps.useCase.authenticate(tokenFromRequest(ctx.req));
    ctx.state.principal = principal;
    if (!ctx.is('multipart/form-data')) {
      throw new FileRequired('send the file as multipart/form-data in the field "file"');
    }

    const aborted = new AbortController();
    ctx.res.once('close', () => {
      if (!ctx.res.writableFinished) aborted.abort(new ClientGone());
    });
    let failWhileStreaming!: (error: unknown) => void;
    const fileFailed = new Promise<never>((_, reject) => (failWhileStreaming = reject));
    const fileHandlings: Array<Promise<unknown>> = [];
    const answered = new Promise<void>((resolve) => {
      ctx.res.once('finish', resolve);
      ctx.res.once('close', resolve);
    });
    uploads.set(ctx.req, {
      principal,
      signal: aborted.signal,
      onFileError: failWhileStreaming,
      onFileHandling: (h) => fileHandlings.push(h),
      answered,
    });

    const parsing = parseForm(ctx, async () => {});
    // If the file fails mid-stream we answer at once (below); multer still settles later.
    parsing.catch(() => {});
    fileFailed.catch(() => {});
    // Only the parser's own errors are translated: what the engine reports through fileFailed
    // (the use case's and the store's errors, bugs included) keeps its identity, so a store's
    // bug is a 500, not a "malformed body" 400.
    try {
      await Promise.race([
        parsing.catch((error: unknown) => {
          throw fromMultipartError(error);
        }),
        fileFailed,
      ]);
    } catch (error) {
      // The parser can fail (a malformed tail) while a file is still being written to the store;
      // busboy has destroyed its stream, so the write ends at once. Waiting for it means the
      // answer goes out only once nothing of this request remains stored.
      await Promise.allSettled(fileHandlings);
      throw error;
    }

    const fields = (ctx.request as { body?: Record<string, unknown> }).body ?? {};
    const handled = (ctx.file as (Express.Multer.File & { handled?: HandledFile }) | undefined)?.handled;
    let sessionId: string | undefined;
    try {
      sessionId = singleField(fields, 'session_id');
      if (handled === undefined) throw new FileRequired();
    } catch (error) {
      if (handled !== undefined) await undoHandledFile(deps.useCase, handled);
      throw error;
    }

    let attachment: UploadedAttachment;
    if (handled.kind === 'stored') attachment = handled.attachment;
    else if (handled.kind === 'received') attachment = await deps.useCase.complete(handled.received, sessionId);
    else attachment = await deps.useCase.execute({ principal, sessionId, fileName: handled.fileName, content: handled.content, signal: aborted.signal });
    ctx.state.uploaded = attachment;
    ctx.status = 200;
    ctx.body = { url: attachment.url, type: attachment.type };
  };
}

