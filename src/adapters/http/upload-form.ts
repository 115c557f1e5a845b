import type { Readable } from 'node:stream';
import busboy, { type Busboy } from 'busboy';
import type { Context } from 'koa';
import { FileRequired, InvalidSessionId, InvalidUpload } from '../../domain/errors.ts';
import { STREAM_BUFFER_BYTES } from '../../shared/stream-buffer.ts';

/**
 * Limits on the parts of a form, as the most allowed, so a hostile body costs little. The file's
 * own limit is the use case's; busboy bounds a part's header itself (16 KB, 2000 lines).
 */
const FORM_LIMITS = {
  files: 1,
  fields: 16,
  parts: 20,
  fieldNameSize: 100,
  fieldSize: 1024,
};
/**
 * How much of the body may be other than the file: the form's headers and fields take a few KB.
 * busboy reads what it throws away (a field past its limit, a part it skips, what follows the
 * closing delimiter) to its end before it reports anything: 64 MB of a field would be read whole.
 * Counted while no file streams, that is before the file part and after its reader's last read
 * (busboy says nothing when it reaches the file's end; a reader stalled on those last buffered
 * bytes leaves what follows uncounted until it reads them).
 */
const OTHER_THAN_FILE_MAX_BYTES = 1024 * 1024;

/** What a `file` part that announces no file name is told (busboy, as multer, reads it as a plain field). */
const FILE_WITHOUT_NAME = 'the part "file" has no filename: send the file as a file, with its name';

export type FormFields = Readonly<Record<string, unknown>>;

/** The form's `file` part, handed over as soon as it starts: its bytes stream through `content`. */
export interface FilePart {
  /** The file name as the client sent it (see clientFileName). */
  readonly fileName: string;
  readonly content: Readable;
  /** The fields that came before the file. */
  readonly fieldsBefore: FormFields;
}

/**
 * Reads a multipart upload form with busboy. `onFile` gets the `file` part as soon as it starts,
 * and returns a promise that settles once it has finished with the part's bytes.
 *
 * Resolves with every field once the form has been read to its end (a field sent twice is an
 * array, which singleField refuses); rejects with the first failure, at once: the file handler's
 * (as it rejected), or the parser's, in the use case's words (a second file, a file in another
 * field, too many parts, a field too long, a malformed body). From then on the parser reads
 * nothing more: the request is left paused until the answer is out (what is read before it is
 * what the streams buffer), then the HTTP app's rules for an early answer (request-body.ts) read
 * the rest, bounded, and keep the connection or close it.
 *
 * busboy is used directly, not through multer: multer reports a failure only after reading the
 * rest of the body at full speed (its `drainStream`), and offers no way to keep it from reading
 * (its `streamHandler` option hands over its busboy, so the failure could be heard sooner, but
 * multer would still drain the request meanwhile); what attache used of it (a storage engine, a
 * field map, three name escapes) is a few lines. Field names are taken as sent: multer's
 * `a[b]` objects were no use here.
 */
export function readUploadForm(ctx: Context, onFile: (part: FilePart) => Promise<unknown>): Promise<FormFields> {
  return new Promise((resolve, reject) => {
    let parser: Busboy;
    try {
      // preservePath: busboy would silently cut "../../x.jpg" to "x.jpg"; the domain's file-name
      // rule sees the name as sent, refuses traversal attempts, and keeps only the last segment.
      // The limits busboy reports on reaching (parts, a field's size) are given one more than allowed.
      parser = busboy({
        headers: ctx.req.headers,
        limits: { ...FORM_LIMITS, parts: FORM_LIMITS.parts + 1, fieldSize: FORM_LIMITS.fieldSize + 1 },
        preservePath: true,
        defParamCharset: 'utf8',
        highWaterMark: STREAM_BUFFER_BYTES,
        fileHwm: STREAM_BUFFER_BYTES,
      });
    } catch (error) {
      reject(malformed(error));
      return;
    }
    new FormReading(ctx, parser, onFile, resolve, reject).start();
  });
}

/** One request's form as busboy reads it: its fields, its file's handover, and its one outcome. */
class FormReading {
  readonly #fields: Record<string, string | string[]> = Object.create(null);
  #settled = false;
  #fileHandled: Promise<unknown> = Promise.resolve();
  #fileStreaming = false;
  #otherThanFileBytes = 0;

  readonly #ctx: Context;
  readonly #parser: Busboy;
  readonly #onFile: (part: FilePart) => Promise<unknown>;
  readonly #resolve: (fields: FormFields) => void;
  readonly #reject: (error: unknown) => void;

  constructor(ctx: Context, parser: Busboy, onFile: (part: FilePart) => Promise<unknown>, resolve: (fields: FormFields) => void, reject: (error: unknown) => void) {
    this.#ctx = ctx;
    this.#parser = parser;
    this.#onFile = onFile;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  start(): void {
    const { req } = this.#ctx;
    const parser = this.#parser;
    parser.on('field', (name: string | undefined, value, info) => this.#field(name, value, info.valueTruncated));
    parser.on('file', (name: string | undefined, content, info) => this.#file(name, content, info.filename));
    parser.on('filesLimit', () => this.#fail(new InvalidUpload('send exactly one file')));
    parser.on('fieldsLimit', () => this.#fail(new InvalidUpload('Too many fields')));
    parser.on('partsLimit', () => this.#fail(new InvalidUpload('Too many parts')));
    parser.on('error', (error) => this.#fail(malformed(error)));
    // 'close' once the form's end is read and every file stream consumed, or once destroyed.
    parser.on('close', () => void this.#fileHandled.then(() => this.#succeed(), () => {}));
    req.on('error', (error) => this.#fail(malformed(error)));
    req.on('close', () => {
      if (!req.readableEnded) this.#fail(malformed(new Error('Request closed')));
    });
    req.pipe(parser);
    // After the pipe, which the counting only watches: a 'data' listener alone would start the flow.
    req.on('data', this.#countOtherThanFile);
  }

  #field(rawName: string | undefined, value: string, valueTruncated: boolean): void {
    if (rawName === undefined) return this.#fail(new InvalidUpload('Field name missing'));
    const name = decodeFormDataName(rawName);
    // Whatever its length, a `file` part without a file name is the file missing, not a field too long.
    if (name === 'file') return this.#fail(new FileRequired(FILE_WITHOUT_NAME));
    if (valueTruncated) return this.#fail(name === 'session_id' ? new InvalidSessionId('session_id is too long') : new InvalidUpload(`field "${name}" is too long`));
    if (rawName.length > FORM_LIMITS.fieldNameSize) return this.#fail(new InvalidUpload('Field name too long'));
    const before = this.#fields[name];
    this.#fields[name] = before === undefined ? value : [...[before].flat(), value];
  }

  #file(rawName: string | undefined, content: Readable, fileName: string | undefined): void {
    // Its errors are busboy's, which busboy reports itself, or its reader's, which reach the
    // handler; unheard, one would crash the process.
    content.on('error', () => {});
    if (rawName === undefined) return this.#fail(new InvalidUpload('Field name missing'));
    // A part that announces no file name holds no file (multer's rule too).
    if (!fileName) return void content.resume();
    if (rawName.length > FORM_LIMITS.fieldNameSize) return this.#fail(new InvalidUpload('Field name too long'));
    const name = decodeFormDataName(rawName);
    if (name !== 'file') return this.#fail(new FileRequired(`send the file in the field "file", not "${name}"`));
    this.#fileStreaming = true;
    const fileEnded = () => (this.#fileStreaming = false);
    content.once('end', fileEnded).once('close', fileEnded);
    const part = { fileName: decodeFormDataName(fileName), content, fieldsBefore: { ...this.#fields } };
    // A handler that throws rather than rejects is the same failure.
    this.#fileHandled = new Promise((settle) => settle(this.#onFile(part)));
    this.#fileHandled.catch((error: unknown) => this.#fail(error));
  }

  readonly #countOtherThanFile = (chunk: Buffer): void => {
    if (this.#fileStreaming) return;
    this.#otherThanFileBytes += chunk.length;
    if (this.#otherThanFileBytes > OTHER_THAN_FILE_MAX_BYTES) this.#fail(new InvalidUpload(`the form holds more than ${OTHER_THAN_FILE_MAX_BYTES} bytes besides the file`));
  };

  #succeed(): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#ctx.req.off('data', this.#countOtherThanFile);
    this.#resolve(this.#fields);
  }

  /** Rejects, and reads nothing more of the body until the answer is out; request-body.ts decides then. */
  #fail(error: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#reject(error);
    const { req, res } = this.#ctx;
    req.off('data', this.#countOtherThanFile);
    req.unpipe(this.#parser);
    req.pause();
    // Ends a file still streaming (its handler then gives up), and every event still to come.
    this.#parser.destroy();
    res.once('close', () => req.resume());
  }
}

/** The one value of a form field sent at most once. */
export function singleField(fields: FormFields, name: string): string | undefined {
  const value = fields[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new InvalidSessionId(`${name} must be sent once, as a plain field`);
  return value;
}

/** Whatever else the parser or the request reports means the body is not well-formed multipart. */
function malformed(error: unknown): InvalidUpload {
  return new InvalidUpload(`malformed multipart body: ${(error as Error)?.message ?? String(error)}`);
}

/**
 * The WHATWG HTML spec has browsers send LF, CR and `"` in field and file names as %0A, %0D and
 * %22, which busboy leaves as they are: only those three are undone (a bare `%`, as in
 * "50%.pdf", is sent as it is). What multer 2 does.
 */
function decodeFormDataName(name: string): string {
  return name.replace(/%0A|%0D|%22/gi, (escape) => FORM_DATA_ESCAPES[escape.toUpperCase()] ?? escape);
}

const FORM_DATA_ESCAPES: Readonly<Record<string, string>> = { '%0A': '\n', '%0D': '\r', '%22': '"' };
