import cors from '@koa/cors';
import Router from '@koa/router';
import Koa from 'koa';
import type { ObjectStore } from '../../application/ports.ts';
import type { UploadAttachment } from '../../application/upload-attachment.ts';
import { AuthenticationUnavailable, StorageUnavailable } from '../../domain/errors.ts';
import { errorResponse, methodNotAllowed, notFound } from './error-responses.ts';
import { FILES_PREFIX, filesRoute } from './files-route.ts';
import { stopReadingAfterAnswer } from './request-body.ts';
import { ClientGone, uploadRoute } from './upload-route.ts';

export interface HttpLogger {
  info(object: object, message?: string): void;
  warn(object: object, message?: string): void;
  error(object: object, message?: string): void;
}

export interface HttpAppDeps {
  readonly useCase: UploadAttachment;
  /** Where the use case stores; checked by /readyz, and served at /files/ when `serveFiles`. */
  readonly store: ObjectStore;
  /** Local store for files whose session_id comes after them; see AttachmentStorageEngine. */
  readonly spool: ObjectStore;
  readonly maxFileSize: number;
  /** True for the local and in-memory drivers, whose URLs point back at this service. */
  readonly serveFiles: boolean;
  /** Browser origins allowed to call attache (exact `scheme://host[:port]`); empty: no CORS headers. */
  readonly corsOrigins?: readonly string[];
  readonly logger: HttpLogger;
}

export const UPLOAD_PATH = '/v1/chat/upload/';

export function createHttpApp(deps: HttpAppDeps): Koa {
  const app = new Koa();
  const router = new Router();
  const upload = uploadRoute({ useCase: deps.useCase, spool: deps.spool, maxFileSize: deps.maxFileSize });

  // Both spellings of the path; the spec's has the trailing slash.
  router.post(UPLOAD_PATH, upload);
  router.post(UPLOAD_PATH.slice(0, -1), upload);
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    await deps.store.checkReady();
    ctx.body = { status: 'ready' };
  });

  const allowedOrigins = new Set(deps.corsOrigins ?? []);
  if (allowedOrigins.size > 0) {
    // Outermost, so every answer to an allowed origin carries the headers, errors included
    // (the handler below turns errors into answers without dropping headers already set):
    // a browser page can only read a 400/401/413 body that has them.
    app.use(
      cors({
        origin: (ctx) => {
          const origin = ctx.get('Origin');
          return allowedOrigins.has(origin) ? origin : '';
        },
        allowMethods: ['GET', 'HEAD', 'POST'],
        allowHeaders: ['Authorization', 'Content-Type'],
        maxAge: 600,
      }),
    );
  }
  app.use(async (ctx, next) => {
    try {
      await next();
      const fallback = ctx.body == null ? { 404: notFound, 405: methodNotAllowed }[ctx.status as 404 | 405] : undefined;
      if (fallback) {
        ctx.status = fallback.status;
        ctx.body = fallback.body;
      }
    } catch (error) {
      const { status, body } = errorResponse(error);
      ctx.status = status;
      ctx.body = body;
      if (status === 401) ctx.set('WWW-Authenticate', 'Token');
      stopReadingAfterAnswer(ctx);
      if (error instanceof ClientGone) return;
      if (error instanceof StorageUnavailable) deps.logger.warn({ reason: error.reason, path: ctx.path }, 'storage unavailable');
      else if (error instanceof AuthenticationUnavailable) deps.logger.warn({ reason: error.reason, path: ctx.path }, 'authentication unavailable');
      else if (status >= 500) deps.logger.error({ err: error, method: ctx.method, path: ctx.path, status }, 'request failed');
    }
  });
  if (deps.serveFiles) {
    const serveFile = filesRoute(deps.store);
    app.use(async (ctx, next) => {
      if ((ctx.method === 'GET' || ctx.method === 'HEAD') && ctx.path.startsWith(FILES_PREFIX)) return serveFile(ctx);
      return next();
    });
  }
  app.use(router.routes());
  app.use(router.allowedMethods());
  // Koa's own handler would log and answer in plain text; every error is answered above.
  app.silent = true;
  return app;
}
