/**
 * The HTTP service's lifecycle: listen, build attache in its container, serve, shut down.
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { answerClientError, answerConnect, answeredMissingHost, answerUnmetExpectation } from '../adapters/http/client-error-handler.ts';
import { capConnections } from '../adapters/http/connection-cap.ts';
import { createHttpApp } from '../adapters/http/create-http-app.ts';
import type { AuthPort } from '../application/ports/auth-port.ts';
import type { ObjectStore } from '../application/ports/object-store.ts';
import type { DirectUpload } from '../application/direct/direct-upload.ts';
import type { UsageCounters } from '../application/ports/usage-counters.ts';
import type { IdempotencyRecords } from '../application/ports/idempotency-records.ts';
import { AbandonedUploadSweeper } from '../application/abandoned-upload-sweeper.ts';
import type { ResumableUpload } from '../application/resumable/resumable-upload.ts';
import type { DeleteAttachment } from '../application/delete-attachment.ts';
import type { OpenAttachment } from '../application/open-attachment.ts';
import type { UploadAttachment } from '../application/upload-attachment.ts';
import type { DevelopmentTokens } from './adapters.ts';
import type { Config } from './config.ts';
import { composeAttache, TOKENS, type ComposedAttache } from './container.ts';
import { createLogger } from './logger.ts';
import { readinessChecks } from './readiness-checks.ts';
import { startSweeping } from './sweeping.ts';
import { checkStorageAtStart } from './storage-check-at-start.ts';
import { startLifecycleSweeps } from './storage-setup.ts';

/** How long a shutdown whose grace period is over waits for cut-off uploads to undo their writes. */
const CLEAN_UP_AFTER_CUT_OFF_MS = 5_000;

export interface RunningAttache {
  readonly server: Server;
  /** `http://host:port` it listens on. */
  readonly url: string;
  readonly container: ComposedAttache['container'];
  /** Set when no tokens were configured outside production: the two it made up. */
  readonly developmentTokens?: DevelopmentTokens;
  /** Closes at once, waiting only for requests already being answered. */
  close(): Promise<void>;
  /**
   * Graceful stop: stops accepting connections, refuses new requests on open ones with 503
   * "Shutting down", lets requests in flight finish for up to `graceMs`, then closes what is
   * left. Resolves with how it ended.
   */
  shutdown(graceMs: number): Promise<'drained' | 'grace period over'>;
}

export interface StartOptions {
  readonly logger?: Logger;
  readonly store?: ObjectStore;
  readonly auth?: AuthPort;
  /**
   * Serve stored files at /files/. Default: for the local and memory drivers, whose URLs point back at
   * this service. A caller passing its own `store` says whether that store's URLs do.
   */
  readonly serveFiles?: boolean;
}

/** Builds attache from `config` and listens; resolves once it accepts uploads. Throws ConfigError for what the configuration names but cannot have. */
export async function startAttache(config: Config, options: StartOptions = {}): Promise<RunningAttache> {
  const logger = options.logger ?? (await createLogger(config));
  const listening = await listen(config);
  let composed: ComposedAttache;
  try {
    composed = await composeAttache(config, {
      logger,
      selfUrl: listening.selfUrl,
      ...(options.store !== undefined && { store: options.store }),
      ...(options.auth !== undefined && { auth: options.auth }),
    });
  } catch (error) {
    listening.server.close();
    throw error;
  }
  const { container } = composed;
  // A store the caller built is the caller's to vouch for; one built from configuration is checked.
  if (config.storageCheck && options.store === undefined) {
    const started = performance.now();
    await checkStorageAtStart(container.resolve<ObjectStore>(TOKENS.objectStore), config.storage).catch((error: unknown) => {
      listening.server.close();
      throw error;
    });
    logger.info({ driver: config.storage.driver, durationMs: Math.round(performance.now() - started) }, 'storage check passed');
  }
  const shuttingDown = new AbortController();
  const directUpload = container.resolve<DirectUpload | undefined>(TOKENS.directUpload);
  const store = container.resolve<ObjectStore>(TOKENS.objectStore);
  const stopSweeps = options.store === undefined ? await startLifecycleSweeps(config, logger, store) : () => {};
  const app = createHttpApp({
    useCase: container.resolve<UploadAttachment>(TOKENS.uploadAttachment),
    deleteAttachment: container.resolve<DeleteAttachment>(TOKENS.deleteAttachment),
    openAttachment: container.resolve<OpenAttachment>(TOKENS.openAttachment),
    store,
    auth: container.resolve<AuthPort>(TOKENS.auth),
    readiness: readinessChecks(config, container),
    serveFiles: options.serveFiles ?? (config.storage.driver === 'local' || config.storage.driver === 'memory'),
    corsOrigins: config.http.corsOrigins,
    trustedProxies: config.http.trustedProxies,
    driver: config.storage.driver,
    logger,
    shutdown: shuttingDown.signal,
    direct: directUpload && { upload: directUpload, acceptsBytes: directUpload.acceptsBytes },
    resumable: { upload: container.resolve<ResumableUpload>(TOKENS.resumableUpload), maxFileSize: config.maxFileSize },
  });
  app.metrics.watchConnections(listening.connections);
  const counters = container.resolve<UsageCounters | undefined>(TOKENS.usageCounters);
  const idempotencyRecords = container.resolve<IdempotencyRecords>(TOKENS.idempotencyRecords);
  // Removals of what completed resumable uploads staged run after their answers: let them end first.
  const resumableCleanups = () => container.resolve<ResumableUpload>(TOKENS.resumableUpload).settled();
  const closeShared = () => Promise.all([resumableCleanups(), counters?.close(), idempotencyRecords.close()]);
  // An upload_id completes for twice DIRECT_UPLOAD_TTL: a multipart upload's parts may arrive until then.
  // On S3 a resumable upload's pieces are the parts of one multipart upload (S3Pieces): they arrive
  // until RESUMABLE_UPLOAD_TTL, and its completion may take one request more.
  const longestStagedWriteMs = Math.max(
    config.directUploads ? 2 * config.directUploads.ttlSeconds * 1000 : 0,
    config.storage.driver === 's3' ? config.resumableUploadTtlSeconds * 1000 + config.http.requestTimeoutMs : 0,
  );
  const stopSweeping = startSweeping(new AbandonedUploadSweeper({ store, longestUploadMs: config.http.requestTimeoutMs, longestStagedWriteMs }), logger);
  const inFlight = listening.serve(app.callback());
  const closed = new Promise<void>((resolve) => listening.server.once('close', resolve));
  return {
    server: listening.server,
    url: listening.url,
    container,
    ...(composed.developmentTokens && { developmentTokens: composed.developmentTokens }),
    async close() {
      stopSweeping();
      stopSweeps();
      listening.server.close();
      listening.server.closeIdleConnections();
      await closed;
      await closeShared();
    },
    // The counters stay open while uploads drain: each one settles its reservation (and keeps its answer) when it ends.
    shutdown: (graceMs) => {
      stopSweeping();
      stopSweeps();
      return shutDown(listening.server, closed, inFlight, graceMs, shuttingDown).finally(closeShared);
    },
  };
}

/** How often Node closes connections past HTTP_HEADERS_TIMEOUT_MS or HTTP_REQUEST_TIMEOUT_MS. */
export function connectionsCheckingIntervalFor(http: { readonly headersTimeoutMs: number; readonly requestTimeoutMs: number }): number {
  return Math.max(10, Math.min(1000, Math.floor(Math.min(http.headersTimeoutMs, http.requestTimeoutMs) / 10)));
}

/**
 * Listens first: with PORT=0 the port, and so the default URL of /files, is known only then.
 * Until `serve` is called, requests get a 503 rather than hanging.
 */
async function listen(config: Config) {
  let handle: RequestListener = (_req, res) => {
    res.writeHead(503, { 'Content-Type': 'application/json; charset=utf-8', 'Retry-After': '1' });
    res.end(JSON.stringify({ error: 'Starting' }));
  };
  const server = createServer(
    {
      // Slow clients (slowloris, a stalled upload) cannot hold a connection for ever.
      headersTimeout: config.http.headersTimeoutMs,
      requestTimeout: config.http.requestTimeoutMs,
      keepAliveTimeout: config.http.keepAliveTimeoutMs,
      // Node looks for requests past those timeouts only this often (30 s unless set): a stalled
      // body held its connection up to 30 s past HTTP_REQUEST_TIMEOUT_MS. A tenth of the shorter
      // timeout, at most 1 s, makes them hold as documented.
      connectionsCheckingInterval: connectionsCheckingIntervalFor(config.http),
      // Node's own answer to a missing Host is a bare 400: answeredMissingHost gives it in JSON.
      requireHostHeader: false,
    },
    (req, res) => answeredMissingHost(req, res) || handle(req, res),
  );
  server.on('clientError', answerClientError);
  server.on('checkExpectation', answerUnmetExpectation);
  server.on('connect', answerConnect);
  const connections = capConnections(server, config.http.maxConnections);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const isLoopback = ['127.0.0.1', '::1', '0.0.0.0', '::'].includes(address.address);
  const bracketed = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    server,
    connections,
    url: `http://${bracketed}:${address.port}`,
    /** How clients reach it: the base of the default /files URLs. */
    selfUrl: `http://${isLoopback ? 'localhost' : bracketed}:${address.port}`,
    /** Serves requests with `listener`; returns the requests being handled, for a shutdown to wait on. */
    serve(listener: (req: Parameters<RequestListener>[0], res: Parameters<RequestListener>[1]) => unknown): Set<Promise<void>> {
      const inFlight = new Set<Promise<void>>();
      handle = (req, res) => {
        const handled = Promise.resolve(listener(req, res)).then(
          () => {},
          () => {},
        );
        inFlight.add(handled);
        void handled.finally(() => inFlight.delete(handled));
      };
      return inFlight;
    },
  };
}

async function shutDown(
  server: Server,
  closed: Promise<void>,
  inFlight: ReadonlySet<Promise<void>>,
  graceMs: number,
  shuttingDown: AbortController,
): Promise<'drained' | 'grace period over'> {
  shuttingDown.abort();
  // close() stops listening and ends idle keep-alive connections; busy ones end after
  // their answer, which carries `Connection: close` from now on.
  server.close();
  server.closeIdleConnections();
  const outcome = await within(graceMs, closed.then(() => 'drained' as const), 'grace period over' as const);
  if (outcome === 'grace period over') {
    server.closeAllConnections();
    await closed;
    // Cut off, uploads fail and undo what they wrote; exiting first would leave it behind.
    // Bounded, as a store that does not answer must not hold the exit.
    await within(CLEAN_UP_AFTER_CUT_OFF_MS, Promise.allSettled([...inFlight]), undefined);
  }
  return outcome;
}

/** `promise`'s value, or `otherwise` once `ms` have passed. */
async function within<T, U>(ms: number, promise: Promise<T>, otherwise: U): Promise<T | U> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<U>((resolve) => (timer = setTimeout(resolve, ms, otherwise)))]);
  } finally {
    clearTimeout(timer);
  }
}
