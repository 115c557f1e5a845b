/**
 * Composition root of the HTTP service, and the one module that imports tsyringe. It reads the
 * configuration, builds the adapters it names (through adapters/compose.ts, shared with the
 * library and the CLI), wires them into the use case with tsyringe (tokens and factories, no
 * decorators) and serves HTTP. `npm start` runs it.
 */
import 'reflect-metadata';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import { container as rootContainer, instanceCachingFactory, type DependencyContainer } from 'tsyringe';
import { createAuth, createMimeDetector, createObjectStore, type AuthSetup } from './adapters/compose.ts';
import { answerClientError } from './adapters/http/client-error-handler.ts';
import { createHttpApp } from './adapters/http/create-http-app.ts';
import type { AuthPort } from './application/ports/auth-port.ts';
import type { MimeDetector } from './application/ports/mime-detector.ts';
import type { ObjectStore } from './application/ports/object-store.ts';
import { UploadAttachment } from './application/upload-attachment.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { developmentBanner, SAMPLE_ATTACHMENT_FILE } from './development-banner.ts';

// Built without the container in adapters/compose.ts, which the library and the CLI share.
export { createAuth, createObjectStore, type AuthSetup };

export const TOKENS = {
  config: Symbol('Config'),
  logger: Symbol('Logger'),
  objectStore: Symbol('ObjectStore'),
  auth: Symbol('AuthPort'),
  mime: Symbol('MimeDetector'),
  uploadAttachment: Symbol('UploadAttachment'),
} as const;

/**
 * The process's logger: JSON lines for machines, or pino-pretty for a developer at a terminal.
 * pino-pretty is a devDependency, so it is loaded only when wanted and never required in production.
 */
export async function createLogger(config: Config, stdout: { isTTY?: boolean } = process.stdout): Promise<Logger> {
  const options = {
    name: 'attache',
    level: config.logLevel,
    // Defence in depth: nothing logs headers or tokens, and if something ever does, pino blanks them.
    redact: ['authorization', '*.authorization', 'headers.authorization', '*.headers.authorization', 'token', '*.token'],
  };
  const prettyResolves = () => {
    try {
      import.meta.resolve('pino-pretty');
      return true;
    } catch {
      return false;
    }
  };
  if (config.logFormat === 'pretty') {
    if (config.production) throw new ConfigError('LOG_FORMAT', 'pretty is for development; with NODE_ENV=production use json');
    if (!prettyResolves()) throw new ConfigError('LOG_FORMAT', 'pretty needs pino-pretty, a devDependency that is not installed here');
  }
  const pretty = config.logFormat === 'pretty' || (config.logFormat === undefined && !config.production && stdout.isTTY === true && prettyResolves());
  // Synchronous writes to stdout: pino's default asynchronous stream flushes itself on exit, and
  // when the reader of stdout has gone (EPIPE) that flush retries for ever and the process never
  // exits (sonic-boom 4, which pino 10 uses). A line written synchronously is also never lost in a crash.
  if (!pretty) return pino(options, pino.destination({ dest: 1, sync: true }));
  const { default: pinoPretty } = await import('pino-pretty');
  return pino(options, pinoPretty({ sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,name' }));
}

/** How long a shutdown whose grace period is over waits for cut-off uploads to undo their writes. */
const CLEAN_UP_AFTER_CUT_OFF_MS = 5_000;

/** A child container holding every part of one attache instance. */
export async function composeAttache(
  config: Config,
  parts: { logger: Logger; selfUrl: string; store?: ObjectStore; auth?: AuthPort },
): Promise<DependencyContainer> {
  const store = parts.store ?? (await createObjectStore(config.storage, parts.selfUrl));
  const auth = parts.auth ?? (await createAuth(config)).auth;
  const c = rootContainer.createChildContainer();
  c.register(TOKENS.config, { useValue: config });
  c.register(TOKENS.logger, { useValue: parts.logger });
  c.register(TOKENS.objectStore, { useValue: store });
  c.register(TOKENS.auth, { useValue: auth });
  c.register(TOKENS.mime, { useFactory: instanceCachingFactory<MimeDetector>(() => createMimeDetector(config)) });
  c.register(TOKENS.uploadAttachment, {
    useFactory: instanceCachingFactory(
      (r) =>
        new UploadAttachment({
          store: r.resolve<ObjectStore>(TOKENS.objectStore),
          auth: r.resolve<AuthPort>(TOKENS.auth),
          mime: r.resolve<MimeDetector>(TOKENS.mime),
          maxFileSize: config.maxFileSize,
        }),
    ),
  });
  return c;
}

export interface RunningAttache {
  readonly server: Server;
  /** `http://host:port` it listens on. */
  readonly url: string;
  readonly container: DependencyContainer;
  /** Closes at once, waiting only for requests already being answered. */
  close(): Promise<void>;
  /**
   * Graceful stop: stops accepting connections, refuses new requests on open ones with 503
   * "Shutting down", lets requests in flight finish for up to `graceMs`, then closes what is
   * left. Resolves with how it ended.
   */
  shutdown(graceMs: number): Promise<'drained' | 'grace period over'>;
}

/** Builds attache from `config` and listens; resolves once it accepts uploads. */
export async function startAttache(
  config: Config,
  options: {
    logger?: Logger;
    store?: ObjectStore;
    auth?: AuthPort;
    /**
     * Serve stored files at /files/. Default: for the local and memory drivers, whose URLs point back at
     * this service. A caller passing its own `store` says whether that store's URLs do.
     */
    serveFiles?: boolean;
  } = {},
): Promise<RunningAttache> {
  const logger = options.logger ?? (await createLogger(config));
  // Listen first: with PORT=0 the port, and so the default URL of /files, is known only then.
  // Until the app is built, requests get a 503 rather than hanging.
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
    },
    (req, res) => handle(req, res),
  );
  server.on('clientError', answerClientError);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const isLoopback = ['127.0.0.1', '::1', '0.0.0.0', '::'].includes(address.address);
  const host = isLoopback ? 'localhost' : address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  let container: DependencyContainer;
  try {
    container = await composeAttache(config, {
      logger,
      selfUrl: `http://${host}:${address.port}`,
      ...(options.store !== undefined && { store: options.store }),
      ...(options.auth !== undefined && { auth: options.auth }),
    });
  } catch (error) {
    server.close();
    throw error;
  }
  const store = container.resolve<ObjectStore>(TOKENS.objectStore);
  const shuttingDown = new AbortController();
  const app = createHttpApp({
    useCase: container.resolve<UploadAttachment>(TOKENS.uploadAttachment),
    store,
    auth: container.resolve<AuthPort>(TOKENS.auth),
    maxFileSize: config.maxFileSize,
    serveFiles: options.serveFiles ?? (config.storage.driver === 'local' || config.storage.driver === 'memory'),
    corsOrigins: config.http.corsOrigins,
    driver: config.storage.driver,
    logger,
    shutdown: shuttingDown.signal,
  });
  const answer = app.callback();
  // Requests still being handled, so a shutdown that cuts connections can still wait for their
  // clean-up (an upload cut off removes what it wrote) before the process exits.
  const handling = new Set<Promise<void>>();
  handle = (req, res) => {
    const handled = Promise.resolve(answer(req, res)).catch(() => {});
    handling.add(handled);
    void handled.finally(() => handling.delete(handled));
  };
  const closed = new Promise<void>((resolve) => server.once('close', resolve));
  return {
    server,
    url,
    container,
    async close() {
      server.close();
      server.closeIdleConnections();
      await closed;
    },
    async shutdown(graceMs) {
      shuttingDown.abort();
      // close() stops listening and ends idle keep-alive connections; busy ones end after
      // their answer, which carries `Connection: close` from now on.
      server.close();
      server.closeIdleConnections();
      let timer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<'grace period over'>((resolve) => (timer = setTimeout(resolve, graceMs, 'grace period over')));
      const outcome = await Promise.race([closed.then(() => 'drained' as const), graceOver]);
      clearTimeout(timer);
      if (outcome === 'grace period over') {
        server.closeAllConnections();
        await closed;
        // Cut off, uploads fail and undo what they wrote; exiting first would leave it behind.
        // Bounded, as a store that does not answer must not hold the exit.
        let cleanUpTimer: NodeJS.Timeout | undefined;
        await Promise.race([
          Promise.allSettled([...handling]),
          new Promise((resolve) => (cleanUpTimer = setTimeout(resolve, CLEAN_UP_AFTER_CUT_OFF_MS))),
        ]);
        clearTimeout(cleanUpTimer);
      }
      return outcome;
    },
  };
}

async function main(): Promise<void> {
  let config: Config;
  let authSetup: AuthSetup;
  let logger: Logger;
  try {
    config = loadConfig();
    logger = await createLogger(config);
    authSetup = await createAuth(config);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`attache: invalid configuration: ${error.message}`);
    process.exit(1);
  }
  let running: RunningAttache;
  try {
    running = await startAttache(config, { logger, auth: authSetup.auth });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`attache: invalid configuration: ${error.message}`);
    process.exit(1);
  }
  if (authSetup.developmentTokens) {
    console.log(developmentBanner({ url: running.url, tokens: authSetup.developmentTokens, sampleFile: SAMPLE_ATTACHMENT_FILE }).join('\n'));
  }
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) {
      // A second signal (Ctrl-C twice) means "now".
      logger.warn({ signal }, 'stopping without waiting for uploads in flight');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal, graceMs: config.shutdownGraceMs }, 'shutting down: finishing uploads in flight, refusing new ones');
    void running.shutdown(config.shutdownGraceMs).then((outcome) => {
      logger.info({ outcome }, 'stopped');
      process.exit(0);
    });
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  // Logged only now: whoever waits for this line may send SIGTERM at once, and it must be handled.
  logger.info({ url: running.url, driver: config.storage.driver, maxFileSize: config.maxFileSize }, 'attache is accepting uploads');
}

if (import.meta.main) await main();
