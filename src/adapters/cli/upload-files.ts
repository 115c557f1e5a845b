import { open } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import type { UploadAttachment, UploadedAttachment } from '../../application/upload-attachment.ts';
import { StorageUnavailable } from '../../domain/errors.ts';
import type { Principal } from '../../domain/principal.ts';
import { EXIT, isInteractive, type CliIO } from './cli-io.ts';
import { errorReport, errorText } from './error-lines.ts';
import { progressLine } from './progress-line.ts';

/** Files at least this large get a progress bar on a terminal; smaller ones finish before it would be seen. */
export const PROGRESS_MIN_BYTES = 1024 * 1024;

export interface UploadFilesRequest {
  readonly uploadAttachment: UploadAttachment;
  readonly principal: Principal;
  readonly sessionId: string | undefined;
  readonly files: readonly string[];
  /** One JSON object per file on stdout instead of `file: url (type)` lines. */
  readonly json: boolean;
}

/**
 * Uploads each file in turn through the use case, as the HTTP route does for one.
 * A file that fails (missing, unsupported type, empty, too large) is reported and the next one
 * is tried; a failure that would fail every remaining file (storage unavailable, interrupted)
 * stops the run. Returns the exit code (0 when every file was stored, else 1; 130 if
 * interrupted) and how many files were stored.
 */
export async function uploadFiles(request: UploadFilesRequest, io: CliIO): Promise<{ exitCode: number; stored: number }> {
  const { uploadAttachment, principal, sessionId } = request;
  let exitCode: number = EXIT.OK;
  let stored = 0;
  for (const [index, path] of request.files.entries()) {
    const fileName = basename(path);
    try {
      const { content, done } = await openFile(resolve(io.cwd ?? '.', path), path, io);
      try {
        const uploaded = await uploadAttachment.execute({ principal, sessionId, fileName, content, signal: io.signal });
        stored++;
        io.stdout.write(request.json ? `${JSON.stringify(jsonLine(path, uploaded))}\n` : `${textLine(path, uploaded)}\n`);
      } finally {
        done();
      }
    } catch (error) {
      if (io.signal?.aborted) {
        io.stderr.write(`attache: ${path}: interrupted; nothing was kept\n`);
        return { exitCode: EXIT.INTERRUPTED, stored };
      }
      const report = errorReport(error);
      io.stderr.write(`attache: ${path}: ${errorText(report)}\n`);
      if (request.json) io.stdout.write(`${JSON.stringify({ file: path, ...report })}\n`);
      exitCode = EXIT.FAILED;
      if (error instanceof StorageUnavailable) {
        const left = request.files.length - index - 1;
        if (left > 0) io.stderr.write(`attache: stopping: storage is unavailable; ${left} more file(s) not tried\n`);
        return { exitCode, stored };
      }
    }
  }
  return { exitCode, stored };
}

/** `FILE: URL (TYPE)`, and the preview's URL for an image that has one. */
function textLine(path: string, uploaded: UploadedAttachment): string {
  const preview = uploaded.image?.preview;
  return `${path}: ${uploaded.url} (${uploaded.type})${preview ? `, preview: ${preview.url}` : ''}`;
}

/**
 * The fields the HTTP answer has, as one JSON object per file. The size is what was stored, not
 * what the file said before it was read: a named pipe or /dev/stdin says 0, a file still being
 * written says less.
 */
function jsonLine(path: string, uploaded: UploadedAttachment): object {
  const { image } = uploaded;
  return {
    file: path,
    url: uploaded.url,
    type: uploaded.type,
    size: uploaded.size,
    ...(image?.preview && { preview_url: image.preview.url }),
    ...(image?.width !== undefined && image.height !== undefined && { width: image.width, height: image.height }),
  };
}

/** The file's bytes (at `path`, which the user gave as `given`), metered by a progress bar on a terminal when it is large. */
async function openFile(path: string, given: string, io: CliIO): Promise<{ content: Readable; done: () => void }> {
  const handle = await open(path, 'r');
  let size: number;
  try {
    const info = await handle.stat();
    if (info.isDirectory()) throw Object.assign(new Error(`${given} is a directory`), { code: 'EISDIR' });
    size = info.size;
  } catch (error) {
    await handle.close();
    throw error;
  }
  const file = handle.createReadStream();
  if (!isInteractive(io) || size < PROGRESS_MIN_BYTES) return { content: file, done: () => {} };
  const progress = progressLine(io.stderr, basename(given), size);
  // Errors travel to the use case through the meter; the callback only keeps them from going unheard.
  const content = pipeline(file, progress.meter, () => {});
  return { content, done: progress.clear };
}
