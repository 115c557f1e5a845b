import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { Context } from 'koa';
import multer, { type StorageEngine } from 'multer';
import { DomainError, FileRequired, InvalidSessionId, InvalidUpload } from '../../domain/errors.ts';
import { STREAM_BUFFER_BYTES } from '../../shared/stream-buffer.ts';

/** Limits on the parts of a form, so a hostile body costs little. The file's own limit is the use case's. */
const FORM_LIMITS = {
  files: 1,
  fields: 16,
  parts: 20,
  fieldNameSize: 100,
  fieldSize: 1024,
  headerPairs: 50,
};

export type FormFields = Readonly<Record<string, unknown>>;

/** The form's `file` part, handed over as soon as it starts: its bytes stream through `content`. */
export interface FilePart {
  /** The file name as the client sent it (see clientFileName). */
  readonly fileName: string;
  readonly content: Readable;
  /** The fields that came before the file. */
  readonly fieldsBefore: FormFields;
}

/** What one request's form hands its file to: set on the request for the shared parser's storage engine. */
interface FileHandover {
  readonly onFile: (part: FilePart) => Promise<unknown>;
  readonly reject: (error: unknown) => void;
  /** Settles once the answer is sent, or the connection is gone without one. */
  readonly answered: Promise<unknown>;
}

const HANDOVER = Symbol('attache.fileHandover');
type HandingOverRequest = IncomingMessage & { [HANDOVER]?: FileHandover; body?: FormFields };

/**
 * The storage engine of the one parser every request shares: multer gives it the request, and the
 * request carries what this form does with its file. One parser, built once, instead of a multer
 * instance, its middleware and its storage closures per request (garbage on every upload).
 */
const handOver: StorageEngine = {
  _handleFile(req, file, callback) {
    const { onFile, reject, answered } = (req as HandingOverRequest)[HANDOVER]!;
    const fieldsBefore = { ...((req as HandingOverRequest).body ?? {}) };
    // A handler that throws rather than rejects is the same failure: thrown into busboy's event, it
    // came back as the parser's, and any error but a DomainError was called a malformed body (400).
    new Promise((resolve) => resolve(onFile({ fileName: file.originalname, content: file.stream, fieldsBefore }))).then(
      () => callback(null, {}),
      (error: unknown) => {
        reject(error);
        // Told of a failure, multer reads the rest of the body as fast as it comes and throws it
        // away, however long the answer takes (an S3 abort is a round trip): the whole of a body
        // ten times over the limit. Until the answer is out the file's stream, which nothing
        // reads now, holds the parser back and the connection with it; then the answer's
        // lingering close (request-body.ts) bounds what more is read.
        void answered.then(() => callback(error));
      },
    );
  },
  // Nothing is stored here: the caller undoes its own upload when the form fails.
  _removeFile: (_req, _file, callback) => callback(null),
};

// preservePath: busboy would silently cut "../../x.jpg" to "x.jpg"; the domain's file-name
// rule sees the name as sent, refuses traversal attempts, and keeps only the last segment.
const parseFileForm = multer({
  storage: handOver,
  limits: FORM_LIMITS,
  defParamCharset: 'utf8',
  preservePath: true,
  highWaterMark: STREAM_BUFFER_BYTES,
  fileHwm: STREAM_BUFFER_BYTES,
} as multer.Options).single('file');

type MulterRequest = Parameters<typeof parseFileForm>[0];
type MulterResponse = Parameters<typeof parseFileForm>[1];

/**
 * Reads a multipart upload form with multer (busboy). `onFile` gets the `file` part as soon as it
 * starts, and returns a promise that settles once it has finished with the part's bytes; the
 * parser moves on to the fields after the file only then.
 *
 * Resolves with every field once the form has been read to its end; rejects with the first
 * failure, at once: the file handler's (as it rejected), or the parser's, in the use case's words.
 * (multer itself reports a failure only after draining the rest of the body; an answer should
 * not wait for that, and the body's fate is the HTTP app's to decide.)
 */
export function readUploadForm(ctx: Context, onFile: (part: FilePart) => Promise<unknown>): Promise<FormFields> {
  return new Promise((resolve, reject) => {
    const req = ctx.req as HandingOverRequest;
    const answered = new Promise((settle) => ctx.res.once('close', settle));
    req[HANDOVER] = { onFile, reject, answered };
    // multer's types are Express's; the middleware reads and writes the plain Node request.
    parseFileForm(req as unknown as MulterRequest, ctx.res as unknown as MulterResponse, (error?: unknown) => {
      if (error) reject(fromMultipartError(error));
      else resolve(req.body ?? {});
    });
  });
}

/** The one value of a form field sent at most once. */
export function singleField(fields: FormFields, name: string): string | undefined {
  const value = fields[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new InvalidSessionId(`${name} must be sent once, as a plain field`);
  return value;
}

/** multer's and busboy's errors, in the use case's words; the file handler's own errors pass as they are. */
function fromMultipartError(error: unknown): unknown {
  if (error instanceof DomainError) return error;
  if (error instanceof multer.MulterError) {
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
