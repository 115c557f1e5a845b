import type { Middleware } from 'koa';
import { ShuttingDown, StorageUnavailable } from '../../domain/errors.ts';
import type { RequestState } from './access-log.ts';
import { errorResponse, methodNotAllowed, methodNotImplemented, notFound } from './error-responses.ts';
import { answerBeforeBodyEnd } from './request-body.ts';
import type { UploadMetrics } from './upload-metrics.ts';

/** Routes a load balancer or Prometheus may keep calling while in-flight uploads drain. */
const ANSWERED_WHILE_SHUTTING_DOWN = new Set(['/healthz', '/metrics']);

/**
 * Turns every error into its JSON answer (error-responses.ts has the table), answers 404/405 in
 * JSON too, and refuses new requests with 503 once the service is shutting down.
 */
export function answerErrors(deps: { metrics: UploadMetrics; shutdown?: AbortSignal | undefined }): Middleware {
  return async (ctx, next) => {
    try {
      if (deps.shutdown?.aborted) {
        // Whatever happens to this request, the connection should not be reused.
        ctx.set('Connection', 'close');
        if (!ANSWERED_WHILE_SHUTTING_DOWN.has(ctx.path)) throw new ShuttingDown();
      }
      await next();
      const fallback = ctx.body == null ? { 404: notFound, 405: methodNotAllowed, 501: methodNotImplemented(ctx.method) }[ctx.status as 404 | 405 | 501] : undefined;
      if (fallback) {
        ctx.status = fallback.status;
        ctx.body = fallback.body;
      }
    } catch (error) {
      (ctx.state as RequestState).error = error;
      if (error instanceof StorageUnavailable) deps.metrics.storageError();
      const { status, body, headers } = errorResponse(error);
      ctx.status = status;
      const { answerMessage } = ctx.state as RequestState;
      ctx.body = answerMessage ? { ...body, message: body.detail ? `${body.error}: ${body.detail}` : body.error } : body;
      if (headers) ctx.set(headers);
      if (status === 401) ctx.set('WWW-Authenticate', 'Token');
      answerBeforeBodyEnd(ctx);
    }
  };
}
