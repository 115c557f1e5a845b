import type { Context } from 'koa';
import type { DeleteAttachment } from '../../application/delete-attachment.ts';
import { AttachmentNotFound } from '../../domain/errors.ts';
import { tokenFromRequest } from './authorization-header.ts';
import { methodNotAllowed } from './error-responses.ts';

/** `/v1/chat/files/<key>`: an attachment by its key, as in its URL. */
export const ATTACHMENT_FILES_PREFIX = '/v1/chat/files/';

/** The key in a request's path: each segment percent-decoded; undefined when one cannot be. */
export function keyFromPath(path: string, prefix: string): string | undefined {
  try {
    return path.slice(prefix.length).split('/').map(decodeURIComponent).join('/');
  } catch {
    return undefined;
  }
}

/**
 * DELETE /v1/chat/files/<key>: takes an attachment back (DeleteAttachment says who may), and
 * answers 204; every refusal is a DomainError the error table answers (401, 403, 404, 503).
 */
export function attachmentFilesRoute(deps: { deleteAttachment: DeleteAttachment }) {
  return async function attachmentFile(ctx: Context): Promise<void> {
    if (ctx.method !== 'DELETE') {
      ctx.set('Allow', 'DELETE');
      ctx.status = methodNotAllowed.status;
      ctx.body = methodNotAllowed.body;
      return;
    }
    // Who asks comes first: an unknown caller learns nothing of which keys exist.
    const principal = await deps.deleteAttachment.authenticate(tokenFromRequest(ctx.req));
    ctx.state.principal = principal;
    const key = keyFromPath(ctx.path, ATTACHMENT_FILES_PREFIX);
    if (key === undefined) throw new AttachmentNotFound('the key is not valid percent-encoding');
    await deps.deleteAttachment.execute({ principal, key });
    ctx.status = 204;
  };
}
