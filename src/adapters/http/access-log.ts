import type { Socket } from 'node:net';
import type { Context, Middleware } from 'koa';
import type { UploadedAttachment } from '../../application/upload-attachment.ts';
import { BackendUnavailable, DomainError, FileTooLargeToScan, MalwareFound, Unauthorized } from '../../domain/errors.ts';
import type { Principal } from '../../domain/principal.ts';
import { requestIdFor } from './request-id.ts';
import { ClientGone } from './upload-route.ts';

/** Where the app writes its one line per request; pino's Logger fits, and so does a test's spy. */
export interface HttpLogger {
  info(object: object, message?: string): void;
  warn(object: object, message?: string): void;
  error(object: object, message?: string): void;
}

/** What the routes tell the access log, through ctx.state. */
export interface RequestState {
  requestId: string;
  principal?: Principal;
  uploaded?: UploadedAttachment;
  error?: unknown;
  /** True when the shared counters could not answer and this instance counted the upload's limits alone. */
  limitsCountedLocally?: boolean;
  /** True on routes whose clients show a refusal's `message` (Uppy's Companion client): the answer repeats it there. */
  answerMessage?: boolean;
}

/**
 * Gives each request its id (X-Request-Id) and writes one line once its answer is out (or its
 * client gone). Never the Authorization header, the query string, form fields or file bytes:
 * only what is listed here, and for a 500 the error (whose messages carry no tokens).
 */
export function accessLog(logger: HttpLogger, driver: string): Middleware {
  const lastCount = new WeakMap<Socket, { read: number; written: number }>();
  return async (ctx, next) => {
    const started = performance.now();
    const state = ctx.state as RequestState;
    state.requestId = requestIdFor(ctx.req.headers['x-request-id']);
    ctx.set('X-Request-Id', state.requestId);
    // Taken now: by the time the answer closes, the request may have let go of its socket (a body
    // refused before its end, whose connection lingers to read it away), and req.socket is null.
    const socket = ctx.req.socket;
    ctx.res.once('close', () => {
      // Bytes on the wire, headers included, since the previous request on this connection.
      const before = lastCount.get(socket) ?? { read: 0, written: 0 };
      const now = { read: socket.bytesRead, written: socket.bytesWritten };
      lastCount.set(socket, now);
      writeLine(logger, ctx, state, {
        bytesIn: now.read - before.read,
        bytesOut: now.written - before.written,
        durationMs: Math.round((performance.now() - started) * 10) / 10,
        driver,
      });
    });
    await next();
  };
}

/**
 * What the checks beside the store said: the signature of a refused file (never its bytes), a
 * file taken unscanned and why, why an image has no preview.
 */
function checksOf(state: RequestState): object {
  const { uploaded, error } = state;
  if (error instanceof MalwareFound) return { signature: error.signature };
  if (error instanceof FileTooLargeToScan) return { scanner: error.reason };
  const scan = uploaded?.malwareScan;
  const noPreview = uploaded?.image?.noPreview;
  return {
    ...(scan && { malwareScan: scan.verdict, ...(scan.verdict === 'not scanned' && { scanner: scan.reason }) }),
    ...(noPreview && { noPreview: noPreview.reason, ...(noPreview.detail !== undefined && { previewDetail: noPreview.detail }) }),
  };
}

function writeLine(logger: HttpLogger, ctx: Context, state: RequestState, facts: { bytesIn: number; bytesOut: number; durationMs: number; driver: string }): void {
  const line = {
    requestId: state.requestId,
    method: ctx.method,
    path: ctx.path,
    status: ctx.status,
    ...facts,
    principal: state.principal?.kind ?? 'none',
    ...(ctx.res.writableFinished ? {} : { aborted: true }),
    ...(state.error instanceof DomainError ? { code: state.error.code } : {}),
    // Why a 401: no or a malformed header, an unknown token, a role that may not upload. Its detail
    // names what was wrong, never the token; the client's answer leaves it out (error-responses.ts).
    ...(state.error instanceof Unauthorized && state.error.detail !== undefined ? { reason: state.error.detail } : {}),
    ...checksOf(state),
    ...(state.limitsCountedLocally && { limits: 'counted by this instance alone: Valkey cannot answer' }),
    ...(state.uploaded?.replayed && { replayed: 'the answer kept for this Idempotency-Key; nothing stored' }),
  };
  const error = state.error;
  if (error instanceof BackendUnavailable) logger.warn({ ...line, reason: error.reason }, error.message.toLowerCase());
  else if (error instanceof MalwareFound) logger.warn(line, 'malware found');
  else if (state.uploaded?.malwareScan?.verdict === 'not scanned') logger.warn(line, 'stored without a malware scan: the scanner could not answer');
  else if (error instanceof ClientGone) logger.info(line, 'client went away');
  else if (ctx.status >= 500 && !(error instanceof DomainError)) logger.error({ ...line, err: error }, 'request failed');
  else logger.info(line, 'request');
}
