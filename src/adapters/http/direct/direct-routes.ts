import type { BlockList } from 'node:net';
import { PassThrough } from 'node:stream';
import type Router from '@koa/router';
import type { Context } from 'koa';
import type { DirectUpload, IssuedDirectUpload } from '../../../application/direct/direct-upload.ts';
import type { UploadAttachment, UploadedAttachment } from '../../../application/upload-attachment.ts';
import { tokenFromRequest } from '../authorization-header.ts';
import { clientAddressOf } from '../client-address.ts';
import { rateLimitHeaders } from '../rate-limit-headers.ts';
import { ClientGone } from '../upload-route.ts';
import { readAnnouncement } from './announcement.ts';
import { idempotencyKeyOf } from '../idempotency-key-header.ts';
import { DIRECT_UPLOAD_PATH } from '../../upload-targets/attache-upload-targets.ts';

export interface DirectRoutesDeps {
  readonly direct: DirectUpload;
  readonly useCase: UploadAttachment;
  /** True when direct uploads' bytes come to attache itself (`local`, `memory`): adds `PUT <upload_id>`. */
  readonly acceptsBytes: boolean;
  /** Counts a completion as an upload in the metrics, and answers with its attachment (the upload endpoint's body). */
  readonly measured: (ctx: Context, uploading: () => Promise<UploadedAttachment>) => Promise<void>;
  /** Peers whose X-Forwarded-For is believed, for the limit on refused tokens per address. */
  readonly trustedProxies: BlockList;
}

/**
 * The direct-upload routes: issue (`POST direct/`), complete (`POST direct/<id>/complete`), cancel
 * (`DELETE direct/<id>`), and for stores without signed URLs the target itself (`PUT direct/<id>`).
 * Each authenticates from the header before anything else, as the upload endpoint does, except
 * the target, whose signed id is its credential (a presigned URL needs no header either).
 */
export function addDirectRoutes(router: Router, deps: DirectRoutesDeps): void {
  const { direct, useCase } = deps;
  const caller = (ctx: Context) => ({ token: tokenFromRequest(ctx.req), clientAddress: clientAddressOf(ctx.req, deps.trustedProxies) });
  // Issuing is where a direct upload counts against the limits, as a form's upload does when it
  // starts: one upload, and its announced size against the quota, once everything that refuses an
  // announcement has passed (a refusal counts nothing). Kept when the upload is later refused or
  // cancelled: the completion may reach another instance, and nothing waits in memory to give it back.
  // With an Idempotency-Key, a retried announcement gets the same upload_id, counted once.
  const issue = async (ctx: Context) => {
    const { token, clientAddress } = caller(ctx);
    const principal = await useCase.authenticateCounted({ token, clientAddress });
    ctx.state.principal = principal;
    const key = idempotencyKeyOf(ctx.req);
    const announced = { principal, ...(await readAnnouncement(ctx)) };
    // Issuing stores nothing (a signed id and URL): if the limits refuse, the id is simply never handed out.
    const count = async () => {
      const allowance = await useCase.countUpload(principal, token!, announced.size);
      if (allowance) {
        ctx.set(rateLimitHeaders(allowance.limits));
        await allowance.settle(announced.size);
      }
    };
    if (key !== undefined) {
      ctx.body = issueAnswer(await direct.issueOnce(announced, { token: token!, key }, count));
      return;
    }
    const issued = await direct.issue(announced);
    await count();
    ctx.body = issueAnswer(issued);
  };
  router.post(DIRECT_UPLOAD_PATH, issue);
  router.post(DIRECT_UPLOAD_PATH.slice(0, -1), issue);

  router.post(`${DIRECT_UPLOAD_PATH}:uploadId/complete`, async (ctx) => {
    const principal = await useCase.authenticateCounted(caller(ctx));
    ctx.state.principal = principal;
    await deps.measured(ctx, () => direct.complete(principal, ctx.params['uploadId']!, clientGoneSignal(ctx)));
  });

  router.delete(`${DIRECT_UPLOAD_PATH}:uploadId`, async (ctx) => {
    const principal = await useCase.authenticateCounted(caller(ctx));
    ctx.state.principal = principal;
    await direct.cancel(principal, ctx.params['uploadId']!);
    ctx.status = 204;
  });

  if (deps.acceptsBytes) {
    router.put(`${DIRECT_UPLOAD_PATH}:uploadId`, async (ctx) => {
      const length = ctx.get('Content-Length');
      const contentLength = /^\d+$/.test(length) ? Number(length) : undefined;
      // The use case destroys what it refuses; the request itself must outlive that, so that its
      // rest is read and thrown away after the answer (the connection stays usable) rather than reset.
      const body = new PassThrough();
      ctx.req.pipe(body);
      try {
        await direct.acceptBytes(ctx.params['uploadId']!, body, contentLength, clientGoneSignal(ctx));
      } catch (error) {
        ctx.req.unpipe(body);
        ctx.req.resume();
        throw error;
      }
      ctx.status = 204;
    });
  }
}

/** The 200 answer of `POST direct/`: `fields` only for a form target. */
function issueAnswer(issued: IssuedDirectUpload): Record<string, unknown> {
  const { target } = issued;
  return {
    upload_id: issued.uploadId,
    method: target.method,
    url: target.url,
    headers: target.headers,
    ...(target.method === 'POST' && { fields: target.fields ?? {} }),
    expires_at: issued.expiresAt.toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
}

/** Aborted when the client goes away before its answer. */
export function clientGoneSignal(ctx: Context): AbortSignal {
  const clientGone = new AbortController();
  ctx.res.once('close', () => {
    if (!ctx.res.writableFinished) clientGone.abort(new ClientGone());
  });
  return clientGone.signal;
}
