import type { Context } from 'koa';
import type { DeleteAttachment } from '../../application/delete-attachment.ts';
import { STABLE_LINK_PREFIX, type OpenAttachment } from '../../application/open-attachment.ts';
import { AttachmentNotFound } from '../../domain/errors.ts';
import { tokenFromRequest } from './authorization-header.ts';
import { methodNotAllowed } from './error-responses.ts';
import { answerWithObject, keyFromPath } from './files-route.ts';

/** `/v1/chat/files/<key>`: an attachment by its key, as in its URL. */
export const ATTACHMENT_FILES_PREFIX = STABLE_LINK_PREFIX;

function keyOf(ctx: Context): string {
  const key = keyFromPath(ctx.path, ATTACHMENT_FILES_PREFIX);
  if (key === undefined) throw new AttachmentNotFound('the key is not valid percent-encoding');
  return key;
}

/**
 * /v1/chat/files/<key>, the attachment's stable link. GET and HEAD (no token: the link is what a
 * chat message holds) answer through OpenAttachment: a 302 to a freshly presigned URL, which
 * browsers and CDNs may reuse for half its life, or the bytes themselves for the stores attache
 * serves. DELETE takes the attachment back (DeleteAttachment says who may) and answers 204.
 * Every refusal is a DomainError the error table answers (401, 403, 404, 503).
 */
export function attachmentFilesRoute(deps: { openAttachment: OpenAttachment; deleteAttachment: DeleteAttachment }) {
  return async function attachmentFile(ctx: Context): Promise<void> {
    if (ctx.method === 'GET' || ctx.method === 'HEAD') return open(ctx, deps.openAttachment);
    if (ctx.method === 'DELETE') return remove(ctx, deps.deleteAttachment);
    ctx.set('Allow', 'GET, HEAD, DELETE');
    ctx.status = methodNotAllowed.status;
    ctx.body = methodNotAllowed.body;
  };
}

async function open(ctx: Context, openAttachment: OpenAttachment): Promise<void> {
  const opened = await openAttachment.execute({ key: keyOf(ctx), bytes: ctx.method === 'GET' });
  if (opened.kind === 'content') return answerWithObject(ctx, opened.object);
  ctx.status = 302;
  ctx.set('Location', opened.url);
  // Reused for half the presigned URL's life at most, so no cache hands out a URL about to die.
  ctx.set('Cache-Control', `public, max-age=${Math.floor(opened.lifeSeconds / 2)}`);
  ctx.body = { url: opened.url };
}

async function remove(ctx: Context, deleteAttachment: DeleteAttachment): Promise<void> {
  // Who asks comes first: an unknown caller learns nothing of which keys exist.
  const principal = await deleteAttachment.authenticate(tokenFromRequest(ctx.req));
  ctx.state.principal = principal;
  await deleteAttachment.execute({ principal, key: keyOf(ctx) });
  ctx.status = 204;
}
