import type { Socket } from 'node:net';
import cors from '@koa/cors';
import Router from '@koa/router';
import Koa, { type Context } from 'koa';
import type { AuthPort } from '../../application/ports/auth-port.ts';
import type { ObjectStore } from '../../application/ports/object-store.ts';
import type { UploadAttachment, UploadedAttachment } from '../../application/upload-attachment.ts';
import { BackendUnavailable, DomainError, ShuttingDown, StorageUnavailable } from '../../domain/errors.ts';
import type { Principal } from '../../domain/principal.ts';
import { errorResponse, methodNotAllowed, notFound } from './error-responses.ts';
import { FILES_PREFIX, filesRoute } from './files-route.ts';
import { OPENAPI_DOCUMENT } from './openapi-document.ts';
import { requestIdFor } from './request-id.ts';
import { stopReadingAfterAnswer } from './request-body.ts';
import { UploadMetrics } from './upload-metrics.ts';
import { ClientGone, uploadRoute } from './upload-route.ts';

/** Where the app writes its one line per request; pino's Logger fits, and so does a test's spy. */
export interface HttpLogger {
  info(object: object, message?: string): void;
  warn(object: object, message?: string): void;
  error(object: object, message?: string): void;
}

export interface HttpAppDeps {
  readonly useCase: UploadAttachment;
  /** Where the use case stores; checked by /readyz, and served at /files/ when `serveFiles`. */
  readonly store: ObjectStore;
  /** Checked by /readyz when it has a checkReady. */
  readonly auth?: AuthPort;
  /** Largest accepted file, in bytes. */
  readonly maxFileSize: number;
  /** True for the local and in-memory drivers, whose URLs point back at this service. */
  readonly serveFiles: boolean;
  /** Browser origins allowed to call attache (exact `scheme://host[:port]`); empty: no CORS headers. */
  readonly corsOrigins?: readonly string[];
  /** The storage driver's name, for logs and metrics. */
  readonly driver: string;
  readonly logger: HttpLogger;
  /** Aborted when the service starts shutting down: new requests are then refused with 503. */
  readonly shutdown?: AbortSignal;
}

export const UPLOAD_PATH = '/v1/chat/upload/';

/** Routes a load balancer or Prometheus may keep calling while in-flight uploads drain. */
const ANSWERED_WHILE_SHUTTING_DOWN = new Set(['/healthz', '/metrics']);

/** What the routes tell the access log, through ctx.state. */
interface RequestState {
  requestId: string;
  principal?: Principal;
  uploaded?: UploadedAttachment;
  error?: unknown;
}

export function createHttpApp(deps: HttpAppDeps): Koa & { readonly metrics: UploadMetrics } {
  const app = new Koa();
  const router = new Router();
  const metrics = new UploadMetrics({ driver: deps.driver });
  const upload = uploadRoute({ useCase: deps.useCase, maxFileSize: deps.maxFileSize });

  async function measuredUpload(ctx: Context): Promise<void> {
    const uploadEnded = metrics.uploadStarted();
    try {
      await upload(ctx);
      const uploaded = (ctx.state as RequestState).uploaded;
      uploadEnded('ok', uploaded && { type: uploaded.type, bytes: uploaded.size });
    } catch (error) {
      uploadEnded(outcomeOf(error));
      throw error;
    }
  }

  // Both spellings of the path; the spec's has the trailing slash.
  router.post(UPLOAD_PATH, measuredUpload);
  router.post(UPLOAD_PATH.slice(0, -1), measuredUpload);
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    try {
      await deps.store.checkReady();
    } catch (error) {
      throw error instanceof DomainError ? error : new StorageUnavailable('readiness check failed', { cause: error });
    }
    await deps.auth?.checkReady?.();
    ctx.body = { status: 'ready' };
  });
  router.get('/metrics', async (ctx) => {
    ctx.type = metrics.contentType;
    ctx.body = await metrics.exposition();
  });
  router.get('/openapi.json', (ctx) => {
    ctx.body = OPENAPI_DOCUMENT;
  });

  const lastCount = new WeakMap<Socket, { read: number; written: number }>();
  app.use(async (ctx, next) => {
    const started = performance.now();
    const state = ctx.state as RequestState;
    state.requestId = requestIdFor(ctx.req.headers['x-request-id']);
    ctx.set('X-Request-Id', state.requestId);
    ctx.res.once('close', () => {
      // Bytes on the wire, headers included, since the previous request on this connection.
      const socket = ctx.req.socket;
      const before = lastCount.get(socket) ?? { read: 0, written: 0 };
      const now = { read: socket.bytesRead, written: socket.bytesWritten };
      lastCount.set(socket, now);
      accessLog(deps, ctx, state, {
        bytesIn: now.read - before.read,
        bytesOut: now.written - before.written,
        durationMs: Math.round((performance.now() - started) * 10) / 10,
      });
    });
    await next();
  });
  const allowedOrigins = new Set(deps.corsOrigins ?? []);
  if (allowedOrigins.size > 0) {
    // Outside the error handler, so every answer to an allowed origin carries the headers, errors included
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
      if (deps.shutdown?.aborted) {
        // Whatever happens to this request, the connection should not be reused.
        ctx.set('Connection', 'close');
        if (!ANSWERED_WHILE_SHUTTING_DOWN.has(ctx.path)) throw new ShuttingDown();
      }
      await next();
      const fallback = ctx.body == null ? { 404: notFound, 405: methodNotAllowed }[ctx.status as 404 | 405] : undefined;
      if (fallback) {
        ctx.status = fallback.status;
        ctx.body = fallback.body;
      }
    } catch (error) {
      (ctx.state as RequestState).error = error;
      if (error instanceof StorageUnavailable) metrics.storageError();
      const { status, body } = errorResponse(error);
      ctx.status = status;
      ctx.body = body;
      if (status === 401) ctx.set('WWW-Authenticate', 'Token');
      stopReadingAfterAnswer(ctx);
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
  return Object.assign(app, { metrics });
}

/** The label an upload's failure is counted under: its stable code, never a message. */
function outcomeOf(error: unknown): string {
  if (error instanceof DomainError) return error.code;
  if (error instanceof ClientGone) return 'CLIENT_GONE';
  return 'INTERNAL';
}

/**
 * One line per request. Never the Authorization header, the query string, form fields or file
 * bytes: only what is listed here, and for a 500 the error (whose messages carry no tokens).
 */
function accessLog(deps: HttpAppDeps, ctx: Context, state: RequestState, sizes: { bytesIn: number; bytesOut: number; durationMs: number }): void {
  const line = {
    requestId: state.requestId,
    method: ctx.method,
    path: ctx.path,
    status: ctx.status,
    ...sizes,
    driver: deps.driver,
    principal: state.principal?.kind ?? 'none',
    ...(ctx.res.writableFinished ? {} : { aborted: true }),
    ...(state.error instanceof DomainError ? { code: state.error.code } : {}),
  };
  const error = state.error;
  if (error instanceof BackendUnavailable) deps.logger.warn({ ...line, reason: error.reason }, error.message.toLowerCase());
  else if (error instanceof ClientGone) deps.logger.info(line, 'client went away');
  else if (ctx.status >= 500 && !(error instanceof DomainError)) deps.logger.error({ ...line, err: error }, 'request failed');
  else deps.logger.info(line, 'request');
}
