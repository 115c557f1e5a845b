import type { DeleteAttachment } from '../../application/delete-attachment.ts';
import { AttachmentNotFound, StorageUnavailable } from '../../domain/errors.ts';
import { attachmentKeyInUrl } from '../../domain/object-key.ts';
import type { Principal } from '../../domain/principal.ts';
import { EXIT, type CliIO } from './cli-io.ts';
import { errorReport, errorText } from './error-lines.ts';

export interface DeleteAttachmentsRequest {
  readonly deleteAttachment: DeleteAttachment;
  readonly principal: Principal;
  /** Attachment URLs as attache answered them (any store's shape), or bare keys. */
  readonly urls: readonly string[];
  readonly json: boolean;
}

/**
 * Deletes each attachment in turn through the use case, as DELETE /v1/chat/files/<key> does for
 * one: `URL: deleted` per attachment; a refused one is reported and the next one tried (exit 1);
 * unavailable storage stops the run.
 */
export async function deleteAttachments(request: DeleteAttachmentsRequest, io: CliIO): Promise<number> {
  let exitCode: number = EXIT.OK;
  for (const [index, url] of request.urls.entries()) {
    try {
      const key = attachmentKeyInUrl(url);
      if (key === undefined) throw new AttachmentNotFound('not an attachment URL');
      await request.deleteAttachment.execute({ principal: request.principal, key });
      io.stdout.write(request.json ? `${JSON.stringify({ url, deleted: key })}\n` : `${url}: deleted\n`);
    } catch (error) {
      const report = errorReport(error);
      io.stderr.write(`attache: ${url}: ${errorText(report)}\n`);
      if (request.json) io.stdout.write(`${JSON.stringify({ url, ...report })}\n`);
      exitCode = EXIT.FAILED;
      if (error instanceof StorageUnavailable) {
        const left = request.urls.length - index - 1;
        if (left > 0) io.stderr.write(`attache: stopping: storage is unavailable; ${left} more attachment(s) not tried\n`);
        return exitCode;
      }
    }
  }
  return exitCode;
}
