import type Router from '@koa/router';
import { TusRequestHandlers, type TusRoutesDeps } from './tus-request-handlers.ts';

export type { TusRoutesDeps } from './tus-request-handlers.ts';

/** Where resumable uploads are created; each lives at this path plus its id. */
export const RESUMABLE_PATH = '/v1/chat/upload/resumable/';

/**
 * tus 1.0 (core, creation, creation-with-upload, termination, expiration), plus `GET <id>`: the
 * upload endpoint's JSON for the attachment, never its bytes. Every request but OPTIONS is
 * authenticated from the Authorization header before anything else, as the upload endpoint is.
 * The protocol lives in TusRequestHandlers; what is stored, checked and answered in ResumableUpload.
 */
export function addTusRoutes(router: Router, deps: TusRoutesDeps): void {
  const tus = new TusRequestHandlers(deps, RESUMABLE_PATH);
  const byId = `${RESUMABLE_PATH}:uploadId`;
  router.options(RESUMABLE_PATH, (ctx) => tus.options(ctx));
  router.options(byId, (ctx) => tus.options(ctx));
  router.post(RESUMABLE_PATH, (ctx) => tus.create(ctx));
  router.head(byId, (ctx) => tus.state(ctx, ctx.params['uploadId']!));
  router.patch(byId, (ctx) => tus.append(ctx, ctx.params['uploadId']!));
  router.delete(byId, (ctx) => tus.terminate(ctx, ctx.params['uploadId']!));
  router.get(byId, (ctx) => tus.result(ctx, ctx.params['uploadId']!));
}
