import type { BlockList } from 'node:net';
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

/** The tus requests, one method each: the protocol's headers and statuses around ResumableUpload's calls. */
export class TusRequestHandlers {
  readonly #deps: TusRoutesDeps;
  /** Where uploads are created: a new upload's Location is this plus its id. */
  readonly #path: string;

  constructor(deps: TusRoutesDeps, path: string) {
    this.#deps = deps;
    this.#path = path;
  }

  options(ctx: Context): void {
    ctx.set('Tus-Resumable', TUS_VERSION);
    ctx.set('Tus-Version', TUS_VERSION);
    ctx.set('Tus-Extension', TUS_EXTENSIONS);
    ctx.set('Tus-Max-Size', String(this.#deps.maxFileSize));
    ctx.status = 204;
  }

  /** POST: a new upload, with its first bytes when the request sends some (creation-with-upload). */
  async create(ctx: Context): Promise<void> {
    const { resumable } = this.#deps;
    requireTusVersion(ctx);
    const principal = await this.#authenticated(ctx);
    if (ctx.get('Upload-Defer-Length') !== '') throw new InvalidUpload('Upload-Length is required: deferred lengths are not supported');
    const length = byteCount(ctx, 'Upload-Length');
    const { fileName, sessionId } = uploadMetadata(ctx);
    const withBytes = sendsOffsetBytes(ctx);
    let state = await resumable.create({ principal, fileName, sessionId, length });
    await this.#countCreation(ctx, principal, state.id, length);
    if (withBytes) {
      const { id } = state;
      // A creation whose bytes fail answers no Location: nobody could resume it, so it is removed.
      state = await this.#appended(ctx, principal, id, 0).catch(async (error: unknown) => {
        await resumable.terminate(principal, id).catch(() => {});
        throw error;
      });
    }
    ctx.set('Location', `${this.#path}${state.id}`);
    setStateHeaders(ctx, state);
    ctx.status = 201;
    // Not Koa's "Created": a tus answer has no body.
    ctx.body = '';
  }

  /**
   * The creation is where a resumable upload counts against UPLOAD_RATE_LIMIT and UPLOAD_QUOTA (its
   * Upload-Length), as a form's does: once it has passed every check (a refused one counts nothing);
   * if the limits refuse, the record just made goes.
   */
  async #countCreation(ctx: Context, principal: Principal, id: string, length: number): Promise<void> {
    const { resumable, useCase } = this.#deps;
    const allowance = await useCase.countUpload(principal, tokenFromRequest(ctx.req)!, length).catch(async (error: unknown) => {
      await resumable.terminate(principal, id).catch(() => {});
      throw error;
    });
    if (allowance) {
      ctx.set(rateLimitHeaders(allowance.limits));
      await allowance.settle(length);
    }
  }

  /** HEAD: where the upload stands. */
  async state(ctx: Context, id: string): Promise<void> {
    requireTusVersion(ctx);
    setStateHeaders(ctx, await this.#deps.resumable.state(await this.#authenticated(ctx), id));
    ctx.status = 200;
  }

  /** PATCH: the bytes from Upload-Offset. */
  async append(ctx: Context, id: string): Promise<void> {
    requireTusVersion(ctx);
    const principal = await this.#authenticated(ctx);
    requireOffsetBytes(ctx);
    const offset = byteCount(ctx, 'Upload-Offset');
    setStateHeaders(ctx, await this.#appended(ctx, principal, id, offset));
    ctx.status = 204;
  }

  /** DELETE: the upload ends (termination). */
  async terminate(ctx: Context, id: string): Promise<void> {
    requireTusVersion(ctx);
    await this.#deps.resumable.terminate(await this.#authenticated(ctx), id);
    ctx.status = 204;
  }

  /** GET: the upload endpoint's JSON for the attachment made. */
  async result(ctx: Context, id: string): Promise<void> {
    const principal = await this.#authenticated(ctx);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = uploadAnswer(await this.#deps.resumable.result(principal, id));
  }

  /** Every request counts refused tokens (AUTH_FAILURE_LIMIT). */
  async #authenticated(ctx: Context): Promise<Principal> {
    const principal = await this.#deps.useCase.authenticateCounted({ token: tokenFromRequest(ctx.req), clientAddress: clientAddressOf(ctx.req, this.#deps.trustedProxies) });
    ctx.state.principal = principal;
    return principal;
  }

  /** The request's bytes from `offset`; a refusal leaves the rest of the body to answerErrors. */
  async #appended(ctx: Context, principal: Principal, id: string, offset: number): Promise<ResumableState> {
    const length = ctx.get('Content-Length');
    const contentLength = /^\d+$/.test(length) ? Number(length) : undefined;
    const content = keptWhenCutOff(ctx.req);
    try {
      let state: ResumableState | undefined;
      await this.#deps.measure(ctx, async () => (state = await this.#deps.resumable.append({ principal, id, offset, content, contentLength })).uploaded);
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
