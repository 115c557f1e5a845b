import cors from '@koa/cors';
import Router from '@koa/router';
import Koa, { type Context } from 'koa';
import type { AuthPort } from '../../application/ports/auth-port.ts';
import type { ObjectStore } from '../../application/ports/object-store.ts';
import type { DeleteAttachment } from '../../application/delete-attachment.ts';
import type { DirectUpload } from '../../application/direct/direct-upload.ts';
import type { OpenAttachment } from '../../application/open-attachment.ts';
import type { ResumableUpload } from '../../application/resumable/resumable-upload.ts';
import type { UploadAttachment, UploadedAttachment } from '../../application/upload-attachment.ts';
import { DomainError, LimitsUnavailable } from '../../domain/errors.ts';
import { accessLog, type HttpLogger, type RequestState } from './access-log.ts';
import { answerErrors } from './answer-errors.ts';
import { ATTACHMENT_FILES_PREFIX, attachmentFilesRoute } from './attachment-files-route.ts';
import { trustedProxies } from './client-address.ts';
import { addDirectRoutes } from './direct/direct-routes.ts';
import { addUppyS3Routes } from './uppy/uppy-s3-routes.ts';
import { TUS_EXPOSED_HEADERS, TUS_REQUEST_HEADERS } from './resumable/tus-headers.ts';
import { addTusRoutes } from './resumable/tus-routes.ts';
import { FILES_PREFIX, filesRoute } from './files-route.ts';
import { OPENAPI_DOCUMENT } from './openapi-document.ts';
import { readinessRoute, type ReadinessCheck } from './readiness-route.ts';
import { UploadMetrics } from './upload-metrics.ts';
import { ClientGone, uploadAnswer, uploadRoute } from './upload-route.ts';

export type { HttpLogger } from './access-log.ts';

export interface HttpAppDeps {
  readonly useCase: UploadAttachment;
  /** Answers stable links, GET/HEAD /v1/chat/files/<key>, and takes attachments back (DELETE there). */
  readonly openAttachment: OpenAttachment;
  readonly deleteAttachment: DeleteAttachment;
  /** Where the use case stores; checked by /readyz, and served at /files/ when `serveFiles`. */
  readonly store: ObjectStore;
  /** Checked by /readyz when it has a checkReady. */
  readonly auth?: AuthPort;
  /**
   * What /readyz checks, each marked as this instance's own or shared (readiness-route.ts); the
   * composition root knows which is which. Default: the store, the auth port and the scanner, all
   * counted as the instance's own.
   */
  readonly readiness?: readonly ReadinessCheck[];
  /** True for the local and in-memory drivers, whose URLs point back at this service. */
  readonly serveFiles: boolean;
  /** Browser origins allowed to call attache (exact `scheme://host[:port]`); empty: no CORS headers. */
  readonly corsOrigins?: readonly string[];
  /** The storage driver's name, for logs and metrics. */
  readonly driver: string;
  readonly logger: HttpLogger;
  /** Proxies whose X-Forwarded-For names the client (TRUSTED_PROXIES): addresses and CIDR ranges. */
  readonly trustedProxies?: readonly string[];
  /** Aborted when the service starts shutting down: new requests are then refused with 503. */
  readonly shutdown?: AbortSignal;
  /** Set when direct uploads are on: their routes, and whether their bytes come through attache. */
  readonly direct?: { readonly upload: DirectUpload; readonly acceptsBytes: boolean } | undefined;
  /** Resumable uploads (tus) at RESUMABLE_PATH, with the largest size they take (MAX_FILE_SIZE). */
  readonly resumable?: { readonly upload: ResumableUpload; readonly maxFileSize: number } | undefined;
}

export const UPLOAD_PATH = '/v1/chat/upload/';

export function createHttpApp(deps: HttpAppDeps): Koa & { readonly metrics: UploadMetrics } {
  const app = new Koa();
  const metrics = new UploadMetrics({ driver: deps.driver });
  app.use(accessLog(deps.logger, deps.driver));
  const allowedOrigins = new Set(deps.corsOrigins ?? []);
  // Outside the error answers, so every answer to an allowed origin carries the headers, errors
  // included: a browser page can only read a 400/401/413 body that has them.
  if (allowedOrigins.size > 0) app.use(corsFor(allowedOrigins));
  app.use(answerErrors({ metrics, shutdown: deps.shutdown }));
  if (deps.serveFiles) {
    const serveFile = filesRoute(deps.store);
    app.use(async (ctx, next) => {
      if ((ctx.method === 'GET' || ctx.method === 'HEAD') && ctx.path.startsWith(FILES_PREFIX)) return serveFile(ctx);
      return next();
    });
  }
  const attachmentFile = attachmentFilesRoute({ openAttachment: deps.openAttachment, deleteAttachment: deps.deleteAttachment });
  app.use(async (ctx, next) => (ctx.path.startsWith(ATTACHMENT_FILES_PREFIX) ? attachmentFile(ctx) : next()));
  const router = routes(deps, metrics);
  app.use(router.routes());
  app.use(router.allowedMethods());
  // Koa's own handler would log and answer in plain text; every error is answered above.
  app.silent = true;
  return Object.assign(app, { metrics });
}

function routes(deps: HttpAppDeps, metrics: UploadMetrics): Router {
  const router = new Router();
  const believedProxies = trustedProxies(deps.trustedProxies ?? []);
  const upload = uploadRoute({ useCase: deps.useCase, trustedProxies: believedProxies });
  const measuredUpload = (ctx: Context) => measured(ctx, () => upload(ctx));
  /** Counts an upload (a form's, a direct upload's completion) and answers with its attachment. */
  async function measured(ctx: Context, uploading: () => Promise<UploadedAttachment>): Promise<void> {
    ctx.body = uploadAnswer((await measure(ctx, uploading))!);
  }
  /**
   * Counts an upload request: one that made an attachment (`ok` with its type), or a resumable
   * upload's piece stored without one yet (`ok`, type `none`), or its refusal by code.
   */
  async function measure(ctx: Context, uploading: () => Promise<UploadedAttachment | undefined>): Promise<UploadedAttachment | undefined> {
    const uploadEnded = metrics.uploadStarted();
    try {
      const uploaded = await uploading();
      const state = ctx.state as RequestState;
      if (state.limitsCountedLocally !== undefined) metrics.limitsCounted(state.limitsCountedLocally ? 'fallback' : 'primary');
      if (uploaded === undefined) {
        uploadEnded('ok');
        return undefined;
      }
      state.uploaded = uploaded;
      // A retry answered from its Idempotency-Key stored nothing, scanned nothing: counted apart.
      if (uploaded.replayed) {
        uploadEnded('replayed');
        return uploaded;
      }
      uploadEnded('ok', { type: uploaded.type, bytes: uploaded.size });
      if (uploaded.malwareScan) metrics.scanned(uploaded.malwareScan.verdict === 'clean' ? 'clean' : 'not_scanned');
      if (uploaded.image) metrics.previewed(uploaded.image.preview ? 'made' : (uploaded.image.noPreview?.reason ?? 'undecodable'));
      return uploaded;
    } catch (error) {
      uploadEnded(outcomeOf(error));
      if (error instanceof LimitsUnavailable) metrics.limitsCounted('unavailable');
      const verdict = error instanceof DomainError ? SCAN_VERDICT_OF_CODE[error.code] : undefined;
      if (verdict) metrics.scanned(verdict);
      throw error;
    }
  }
  // Both spellings of the path; the spec's has the trailing slash.
  router.post(UPLOAD_PATH, measuredUpload);
  router.post(UPLOAD_PATH.slice(0, -1), measuredUpload);
  if (deps.direct) addDirectRoutes(router, { direct: deps.direct.upload, useCase: deps.useCase, acceptsBytes: deps.direct.acceptsBytes, measured, trustedProxies: believedProxies });
  if (deps.direct) addUppyS3Routes(router, { multipart: deps.direct.upload.multipart, useCase: deps.useCase, measured, trustedProxies: believedProxies });
  if (deps.resumable) addTusRoutes(router, { resumable: deps.resumable.upload, useCase: deps.useCase, maxFileSize: deps.resumable.maxFileSize, measure, trustedProxies: believedProxies });
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', readinessRoute(deps.readiness ?? defaultReadiness(deps), metrics));
  router.get('/metrics', async (ctx) => {
    ctx.type = metrics.contentType;
    ctx.body = await metrics.exposition();
  });
  router.get('/openapi.json', (ctx) => {
    ctx.body = OPENAPI_DOCUMENT;
  });
  return router;
}

function defaultReadiness(deps: HttpAppDeps): ReadinessCheck[] {
  const checks: ReadinessCheck[] = [{ dependency: 'storage', own: true, check: () => deps.store.checkReady() }];
  const auth = deps.auth;
  if (auth?.checkReady) checks.push({ dependency: 'auth', own: true, check: () => auth.checkReady!() });
  checks.push({ dependency: 'scanner', own: true, check: () => deps.useCase.checkScannerReady() });
  if (deps.useCase.limitsOnError !== undefined) checks.push({ dependency: 'limits', own: false, check: () => deps.useCase.checkLimitsReady() });
  return checks;
}

function corsFor(allowedOrigins: ReadonlySet<string>) {
  return cors({
    origin: (ctx) => {
      const origin = ctx.get('Origin');
      return allowedOrigins.has(origin) ? origin : '';
    },
    // PUT and DELETE: direct uploads' bytes (local, memory) and their cancellation; PATCH: tus.
    allowMethods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', ...TUS_REQUEST_HEADERS],
    // So a page can check a download against the upload's sha256 (/files answers both), and a tus
    // client can follow its upload and read the attachment it made.
    exposeHeaders: ['Repr-Digest', 'X-Checksum-Sha256', 'Location', ...TUS_EXPOSED_HEADERS],
    maxAge: 600,
  });
}

/** The scan verdicts that end an upload as errors. */
const SCAN_VERDICT_OF_CODE: Readonly<Record<string, 'infected' | 'too_large' | 'unavailable'>> = {
  MALWARE_FOUND: 'infected',
  FILE_TOO_LARGE_TO_SCAN: 'too_large',
  SCANNER_UNAVAILABLE: 'unavailable',
};

/** The label an upload's failure is counted under: its stable code, never a message. */
function outcomeOf(error: unknown): string {
  if (error instanceof DomainError) return error.code;
  if (error instanceof ClientGone) return 'CLIENT_GONE';
  return 'INTERNAL';
}
