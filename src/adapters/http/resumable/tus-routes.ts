import type { BlockList } from 'node:net';
import type Router from '@koa/router';
import type { Context } from 'koa';
import type { ResumableState, ResumableUpload } from '../../../application/resumable/resumable-upload.ts';
import type { UploadAttachment, UploadedAttachment } from '../../../application/upload-attachment.ts';
import { InvalidUpload } from '../../../domain/errors.ts';
import type { Principal } from '../../../domain/principal.ts';
import { tokenFromRequest } from '../authorization-header.ts';
import { clientAddressOf } from '../client-address.ts';
import { rateLimitHeaders } from '../rate-limit-headers.ts';
import { uploadAnswer } from '../upload-route.ts';
import { byteCount, keptWhenCutOff, requireOffsetBytes, requireTusVersion, sendsOffsetBytes, setStateHeaders, TUS_EXTENSIONS, TUS_VERSION, uploadMetadata } from './tus-headers.ts';

/** Where resumable uploads are created; each lives at this path plus its id. */
export const RESUMABLE_PATH = '/v1/chat/upload/resumable/';

export interface TusRoutesDeps {
  readonly resumable: ResumableUpload;
  readonly useCase: UploadAttachment;
  /** Tus-Max-Size: MAX_FILE_SIZE. */
  readonly maxFileSize: number;
  /** Counts a request that sends bytes as an upload request, and the attachment it made if any, in the metrics. */
  readonly measure: (ctx: Context, uploading: () => Promise<UploadedAttachment | undefined>) => Promise<UploadedAttachment | undefined>;
  /** Peers whose X-Forwarded-For is believed, for the limit on refused tokens per address. */
  readonly trustedProxies: BlockList;
}

/**
 * tus 1.0 (core, creation, creation-with-upload, termination, expiration), plus `GET <id>`: the
 * upload endpoint's JSON for the attachment, never its bytes. Every request but OPTIONS is
 * authenticated from the Authorization header before anything else, as the upload endpoint is.
 * The protocol lives here; what is stored, checked and answered lives in ResumableUpload.
 */
export function addTusRoutes(router: Router, deps: TusRoutesDeps): void {
  const { resumable, useCase } = deps;
  // Every request counts refused tokens (AUTH_FAILURE_LIMIT); the creation is where a resumable
  // upload counts against UPLOAD_RATE_LIMIT and UPLOAD_QUOTA (its Upload-Length), as a form's does.
  const authenticated = async (ctx: Context): Promise<Principal> => {
    const principal = await useCase.authenticateCounted({ token: tokenFromRequest(ctx.req), clientAddress: clientAddressOf(ctx.req, deps.trustedProxies) });
    ctx.state.principal = principal;
    return principal;
  };
  const options = (ctx: Context) => {
    ctx.set('Tus-Resumable', TUS_VERSION);
    ctx.set('Tus-Version', TUS_VERSION);
    ctx.set('Tus-Extension', TUS_EXTENSIONS);
    ctx.set('Tus-Max-Size', String(deps.maxFileSize));
    ctx.status = 204;
  };
  const byId = `${RESUMABLE_PATH}:uploadId`;
  router.options(RESUMABLE_PATH, options);
  router.options(byId, options);

  router.post(RESUMABLE_PATH, async (ctx) => {
    requireTusVersion(ctx);
    const principal = await authenticated(ctx);
    if (ctx.get('Upload-Defer-Length') !== '') throw new InvalidUpload('Upload-Length is required: deferred lengths are not supported');
    const length = byteCount(ctx, 'Upload-Length');
    const { fileName, sessionId } = uploadMetadata(ctx);
    const withBytes = sendsOffsetBytes(ctx);
    let state = await resumable.create({ principal, fileName, sessionId, length });
    // Counted once the creation has passed every check (a refused one counts nothing); if the limits
    // refuse, the record just made goes.
    const allowance = await useCase.countUpload(principal, tokenFromRequest(ctx.req)!, length).catch(async (error: unknown) => {
      await resumable.terminate(principal, state.id).catch(() => {});
      throw error;
    });
    if (allowance) {
      ctx.set(rateLimitHeaders(allowance.limits));
      await allowance.settle(length);
    }
    if (withBytes) {
      const { id } = state;
      // A creation whose bytes fail answers no Location: nobody could resume it, so it is removed.
      state = await append(ctx, principal, id, 0).catch(async (error: unknown) => {
        await resumable.terminate(principal, id).catch(() => {});
        throw error;
      });
    }
    ctx.set('Location', `${RESUMABLE_PATH}${state.id}`);
    setStateHeaders(ctx, state);
    ctx.status = 201;
    // Not Koa's "Created": a tus answer has no body.
    ctx.body = '';
  });

  router.head(byId, async (ctx) => {
    requireTusVersion(ctx);
    setStateHeaders(ctx, await resumable.state(await authenticated(ctx), ctx.params['uploadId']!));
    ctx.status = 200;
  });

  router.patch(byId, async (ctx) => {
    requireTusVersion(ctx);
    const principal = await authenticated(ctx);
    requireOffsetBytes(ctx);
    const offset = byteCount(ctx, 'Upload-Offset');
    setStateHeaders(ctx, await append(ctx, principal, ctx.params['uploadId']!, offset));
    ctx.status = 204;
  });

  router.delete(byId, async (ctx) => {
    requireTusVersion(ctx);
    await resumable.terminate(await authenticated(ctx), ctx.params['uploadId']!);
    ctx.status = 204;
  });

  router.get(byId, async (ctx) => {
    const principal = await authenticated(ctx);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = uploadAnswer(await resumable.result(principal, ctx.params['uploadId']!));
  });

  /** The request's bytes from `offset`; a refusal leaves the rest of the body to answerErrors. */
  async function append(ctx: Context, principal: Principal, id: string, offset: number): Promise<ResumableState> {
    const length = ctx.get('Content-Length');
    const contentLength = /^\d+$/.test(length) ? Number(length) : undefined;
    const content = keptWhenCutOff(ctx.req);
    try {
      let state: ResumableState | undefined;
      await deps.measure(ctx, async () => (state = await resumable.append({ principal, id, offset, content, contentLength })).uploaded);
      return state!;
    } catch (error) {
      // The rest of a refused body is read and thrown away after the answer (answerBeforeBodyEnd),
      // so the connection stays usable rather than reset.
      ctx.req.unpipe(content);
      ctx.req.resume();
      throw error;
    }
  }
}
