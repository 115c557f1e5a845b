import type { BlockList } from 'node:net';
import type { Context } from 'koa';
import type { ClaimedKey, Upload, UploadStarter } from '../../application/idempotency/idempotent-uploads.ts';
import type { StartRequest, UploadAttachment, UploadedAttachment } from '../../application/upload-attachment.ts';
import { FileRequired } from '../../domain/errors.ts';
import { tokenFromRequest } from './authorization-header.ts';
import { clientAddressOf } from './client-address.ts';
import { rateLimitHeaders } from './rate-limit-headers.ts';
import { clientFileName } from './client-file-name.ts';
import { idempotencyKeyOf } from './idempotency-key-header.ts';
import { readUploadForm, singleField, type FilePart } from './upload-form.ts';

export class ClientGone extends Error {
  constructor() {
    super('the client closed the connection before the upload finished');
    this.name = 'ClientGone';
  }
}

/**
 * POST /v1/chat/upload/: authenticates from the header before reading any body, then hands the
 * form's file to the use case as it streams in, and completes the upload with the session id
 * once the form has been read (the spec's own examples send `session_id` after the file).
 * Answers as soon as the use case refuses the file, without reading the rest of the body. With an
 * Idempotency-Key, the upload starts through the key the use case claimed (a retry is answered
 * the first upload's answer).
 */
export function uploadRoute(deps: { useCase: UploadAttachment; trustedProxies: BlockList }) {
  return async function upload(ctx: Context): Promise<UploadedAttachment> {
    const token = tokenFromRequest(ctx.req);
    const { principal, allowance } = await deps.useCase.admit({
      token,
      clientAddress: clientAddressOf(ctx.req, deps.trustedProxies),
      declaredBytes: declaredLength(ctx),
    });
    ctx.state.principal = principal;
    if (allowance) {
      ctx.set(rateLimitHeaders(allowance.limits));
      // For the access log and the metrics (RequestState.limitsCountedLocally).
      ctx.state.limitsCountedLocally = allowance.countedLocally;
    }
    let claimed: ClaimedKey | undefined;
    try {
      if (!ctx.is('multipart/form-data')) throw new FileRequired('send the file as multipart/form-data in the field "file"');
      const key = idempotencyKeyOf(ctx.req);
      if (key !== undefined) claimed = await deps.useCase.idempotency.claim({ principal, token: token! }, key);
    } catch (error) {
      await allowance?.release();
      throw error;
    }

    const clientGone = new AbortController();
    ctx.res.once('close', () => {
      if (!ctx.res.writableFinished) clientGone.abort(new ClientGone());
    });
    let started: { upload: Upload; sessionIdFollows: boolean } | undefined;
    const startUpload = (part: FilePart) => {
      started = startFrom(claimed ?? deps.useCase, { principal, allowance, signal: clientGone.signal }, part, ctx.get('User-Agent'));
      return started.upload.received;
    };
    try {
      const fields = await readUploadForm(ctx, startUpload);
      if (started === undefined) throw new FileRequired();
      const sessionId = singleField(fields, 'session_id');
      return await started.upload.complete(started.sessionIdFollows ? sessionId : undefined);
    } catch (error) {
      // A refused file, a malformed form, a session id sent twice: nothing of it stays stored,
      // nothing of it counts against the quota, and its Idempotency-Key is free for a retry.
      if (started) await started.upload.abandon();
      else await Promise.all([allowance?.release(), claimed?.release()]);
      throw error;
    }
  };
}

/**
 * Starts the upload of a form's file. Its folder is known now when `session_id` came before it;
 * otherwise (or when it came more than once, which the complete form then refuses) the use case
 * waits for the form's end to learn it.
 */
function startFrom(useCase: UploadStarter, caller: Pick<StartRequest, 'principal' | 'allowance' | 'signal'>, part: FilePart, userAgent: string) {
  const sessionIdBefore = part.fieldsBefore['session_id'];
  const sessionIdFollows = typeof sessionIdBefore !== 'string';
  const request = { ...caller, fileName: clientFileName(part.fileName, userAgent), content: part.content };
  const upload = sessionIdFollows ? useCase.start({ ...request, sessionIdFollows }) : useCase.start({ ...request, sessionId: sessionIdBefore });
  return { upload, sessionIdFollows };
}

/** The body's length as its Content-Length declares it; undefined for a chunked body. */
function declaredLength(ctx: Context): number | undefined {
  const length = Number(ctx.get('Content-Length'));
  return ctx.get('Content-Length') !== '' && Number.isSafeInteger(length) && length >= 0 ? length : undefined;
}

/**
 * The 200 answer: the spec's `url` and `type`, then what attache adds: the `size` and `sha256` of
 * what was stored, and for an image with previews on its `width` and `height` as shown and, when
 * one could be made, its `preview_url`.
 */
export function uploadAnswer(uploaded: UploadedAttachment): Record<string, string | number> {
  const { image } = uploaded;
  return {
    url: uploaded.url,
    type: uploaded.type,
    size: uploaded.size,
    sha256: uploaded.sha256,
    ...(image?.preview && { preview_url: image.preview.url }),
    ...(image?.width !== undefined && image.height !== undefined && { width: image.width, height: image.height }),
  };
}
