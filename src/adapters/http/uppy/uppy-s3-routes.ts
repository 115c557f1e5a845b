import type { BlockList } from 'node:net';
import type Router from '@koa/router';
import type { Context } from 'koa';
import type { DirectMultipartUpload } from '../../../application/direct/direct-multipart-upload.ts';
import type { SentPart } from '../../../application/ports/direct-multipart-targets.ts';
import type { UploadAttachment, UploadedAttachment } from '../../../application/upload-attachment.ts';
import { InvalidUpload } from '../../../domain/errors.ts';
import type { RequestState } from '../access-log.ts';
import { tokenFromRequest } from '../authorization-header.ts';
import { clientAddressOf } from '../client-address.ts';
import { clientGoneSignal } from '../direct/direct-routes.ts';
import { readJsonObject } from '../json-body.ts';
import { rateLimitHeaders } from '../rate-limit-headers.ts';

/** `@uppy/aws-s3`'s `endpoint` is this without its `s3/` (Uppy adds `s3/params`, `s3/multipart`, ...). */
export const UPPY_ENDPOINT_PATH = '/v1/chat/upload/uppy';
const S3 = `${UPPY_ENDPOINT_PATH}/s3`;

export interface UppyS3RoutesDeps {
  readonly multipart: DirectMultipartUpload;
  readonly useCase: UploadAttachment;
  /** Counts a completion as an upload in the metrics, and answers with its attachment (the upload endpoint's body). */
  readonly measured: (ctx: Context, uploading: () => Promise<UploadedAttachment>) => Promise<void>;
  readonly trustedProxies: BlockList;
}

/** Uppy's calls are a few hundred bytes; a completion lists at most 10000 parts of about 60 bytes. */
const MAX_BODY_BYTES = 1024 * 1024;

/**
 * The signing routes `@uppy/aws-s3` (5.x, `endpoint` and `headers` options) calls, Companion's
 * contract, over DirectMultipartUpload (6.x has no `headers` for them: docs/clients.md's recipe calls
 * them from its `signRequest`): `POST s3/multipart` (start), `GET s3/multipart/<id>/<n>`
 * (a part's URL), `GET s3/multipart/<id>` (the parts sent), `POST s3/multipart/<id>/complete` (the
 * attachment, the upload endpoint's body plus Uppy's `location`), `DELETE s3/multipart/<id>`.
 * `GET s3/params`, Uppy's single PUT, is refused: after it Uppy calls nobody, so no attachment
 * could be made; Uppy needs `shouldUseMultipart: true`. Every route needs the Authorization header.
 * Refusals are the upload endpoint's, with a `message` beside `error` (Uppy shows a 4xx's `message`).
 */
export function addUppyS3Routes(router: Router, deps: UppyS3RoutesDeps): void {
  const { multipart, useCase } = deps;
  const caller = (ctx: Context) => ({ token: tokenFromRequest(ctx.req), clientAddress: clientAddressOf(ctx.req, deps.trustedProxies) });
  const authenticated = async (ctx: Context) => {
    (ctx.state as RequestState).answerMessage = true;
    const principal = await useCase.authenticateCounted(caller(ctx));
    ctx.state.principal = principal;
    return principal;
  };

  router.get(`${S3}/params`, async (ctx) => {
    await authenticated(ctx);
    throw new InvalidUpload(
      "set @uppy/aws-s3's shouldUseMultipart to true: after a single PUT Uppy calls nobody back, so attache could make no attachment of it",
    );
  });

  // Where the upload counts against the limits, as a direct upload's announcement does: one upload
  // (no size is announced, so nothing of the quota is reserved here: the completion charges the
  // parts' total, DirectMultipartUpload.complete).
  router.post(`${S3}/multipart`, async (ctx) => {
    const principal = await authenticated(ctx);
    const { filename, metadata } = await readJsonObject(ctx, MAX_BODY_BYTES);
    if (typeof filename !== 'string') throw new InvalidUpload('"filename" is required, a string');
    const started = await multipart.start({ principal, fileName: filename, sessionId: sessionIdOf(metadata) });
    try {
      const allowance = await useCase.countUpload(principal, tokenFromRequest(ctx.req)!, 0);
      if (allowance) {
        ctx.set(rateLimitHeaders(allowance.limits));
        await allowance.settle(0);
      }
    } catch (error) {
      // Refused by the limits: the upload just started in the bucket is dropped, never handed out.
      await multipart.abort(principal, started.uploadId).catch(() => {});
      throw error;
    }
    ctx.body = { uploadId: started.uploadId, key: started.key };
  });

  router.get(`${S3}/multipart/:uploadId/:partNumber`, async (ctx) => {
    const principal = await authenticated(ctx);
    const partNumber = /^\d{1,5}$/.test(ctx.params['partNumber']!) ? Number(ctx.params['partNumber']) : Number.NaN;
    const target = await multipart.partTarget(principal, ctx.params['uploadId']!, partNumber);
    ctx.body = { url: target.url, method: target.method, headers: target.headers };
  });

  router.get(`${S3}/multipart/:uploadId`, async (ctx) => {
    const principal = await authenticated(ctx);
    const parts = await multipart.parts(principal, ctx.params['uploadId']!);
    ctx.body = parts.map((part) => ({ PartNumber: part.partNumber, Size: part.size, ETag: part.etag }));
  });

  router.post(`${S3}/multipart/:uploadId/complete`, async (ctx) => {
    const principal = await authenticated(ctx);
    const parts = partsOf(await readJsonObject(ctx, MAX_BODY_BYTES));
    const who = { principal, token: tokenFromRequest(ctx.req)! };
    await deps.measured(ctx, () => multipart.complete(who, ctx.params['uploadId']!, parts, clientGoneSignal(ctx)));
    // Uppy takes `location` as the file's uploadURL.
    const answer = ctx.body as Record<string, unknown>;
    ctx.body = { ...answer, location: answer['url'] };
  });

  router.delete(`${S3}/multipart/:uploadId`, async (ctx) => {
    const principal = await authenticated(ctx);
    await multipart.abort(principal, ctx.params['uploadId']!);
    // Uppy reads a JSON body from every answer, a 204's too.
    ctx.body = {};
  });
}

/** Uppy sends the file's meta as `metadata`: `session_id` there (a string or a whole number) is the upload's. */
function sessionIdOf(metadata: unknown): string | undefined {
  if (typeof metadata !== 'object' || metadata === null) return undefined;
  const sessionId = (metadata as Record<string, unknown>)['session_id'];
  if (sessionId === undefined || sessionId === null || sessionId === '') return undefined;
  if (typeof sessionId !== 'string' && !Number.isSafeInteger(sessionId)) throw new InvalidUpload('metadata.session_id must be a string');
  return String(sessionId);
}

/** `{"parts": [{"PartNumber": 1, "ETag": "\"…\""}, …]}`, as Uppy sends it. */
function partsOf(body: Record<string, unknown>): SentPart[] {
  const { parts } = body;
  if (!Array.isArray(parts)) throw new InvalidUpload('"parts" is required, a list of {PartNumber, ETag}');
  return parts.map((part: unknown) => {
    const { PartNumber, ETag } = (typeof part === 'object' && part !== null ? part : {}) as Record<string, unknown>;
    if (!Number.isSafeInteger(PartNumber) || typeof ETag !== 'string') throw new InvalidUpload('each part is {"PartNumber": <number>, "ETag": <string>}');
    return { partNumber: PartNumber as number, etag: ETag };
  });
}
