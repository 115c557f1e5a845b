/**
 * Composition root of the HTTP service, and the one module that imports tsyringe. It reads the
 * configuration, builds the adapters it names (through adapters/compose.ts, shared with the
 * library and the CLI), wires them into the use case with tsyringe (tokens and factories, no
 * decorators) and serves HTTP. `npm start` runs it.
 */
import 'reflect-metadata';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { container as rootContainer, instanceCachingFactory, type DependencyContainer } from 'tsyringe';
import { createAuth, createMimeDetector, createObjectStore, type AuthSetup } from './adapters/compose.ts';
import { answerClientError } from './adapters/http/client-error-handler.ts';
import { createHttpApp } from './adapters/http/create-http-app.ts';
import { LocalDiskObjectStore } from './adapters/object-store/local-disk-object-store.ts';
import type { AuthPort, MimeDetector, ObjectStore } from './application/ports.ts';
import { UploadAttachment } from './application/upload-attachment.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';

// Built without the container in adapters/compose.ts, which the library and the CLI share.
export { createAuth, createObjectStore, type AuthSetup };

export const TOKENS = {
  config: Symbol('Config'),
  logger: Symbol('Logger'),
  objectStore: Symbol('ObjectStore'),
  spool: Symbol('SpoolStore'),
  auth: Symbol('AuthPort'),
  mime: Symbol('MimeDetector'),
  uploadAttachment: Symbol('UploadAttachment'),
} as const;

/** A child container holding every part of one attache instance. */
export async function composeAttache(
  config: Config,
  parts: { logger: Logger; selfUrl: string; store?: ObjectStore; auth?: AuthPort; spoolDir: string },
): Promise<DependencyContainer> {
  const store = parts.store ?? (await createObjectStore(config.storage, parts.selfUrl));
  const auth = parts.auth ?? (await createAuth(config)).auth;
  const c = rootContainer.createChildContainer();
  c.register(TOKENS.config, { useValue: config });
  c.register(TOKENS.logger, { useValue: parts.logger });
  c.register(TOKENS.objectStore, { useValue: store });
  c.register(TOKENS.auth, { useValue: auth });
  c.register(TOKENS.spool, {
    useFactory: instanceCachingFactory(() => new LocalDiskObjectStore({ rootDir: parts.spoolDir, publicBaseUrl: 'file:///spool' })),
  });
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
  /** Where files wait whose session_id comes after them; empty between requests. */
  readonly spoolDir: string;
  close(): Promise<void>;
}

/** Builds attache from `config` and listens; resolves once it accepts uploads. */
export async function startAttache(
  config: Config,
  options: { logger?: Logger; store?: ObjectStore; auth?: AuthPort } = {},
): Promise<RunningAttache> {
  const logger = options.logger ?? pino({ name: 'attache' });
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
  const spoolDir = await mkdtemp(join(tmpdir(), 'attache-spool-'));
  let container: DependencyContainer;
  try {
    container = await composeAttache(config, { logger, spoolDir, selfUrl: `http://${host}:${address.port}`, ...options });
  } catch (error) {
    server.close();
    await rm(spoolDir, { recursive: true, force: true });
    throw error;
  }
  const store = container.resolve<ObjectStore>(TOKENS.objectStore);
  const app = createHttpApp({
    useCase: container.resolve<UploadAttachment>(TOKENS.uploadAttachment),
    store,
    spool: container.resolve<ObjectStore>(TOKENS.spool),
    maxFileSize: config.maxFileSize,
    serveFiles: config.storage.driver === 'local' || config.storage.driver === 'memory',
    corsOrigins: config.http.corsOrigins,
    logger,
  });
  handle = app.callback();
  return {
    server,
    url,
    container,
    spoolDir,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await rm(spoolDir, { recursive: true, force: true });
    },
  };
}

async function main(): Promise<void> {
  let config: Config;
  let authSetup: AuthSetup;
  try {
    config = loadConfig();
    authSetup = await createAuth(config);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`attache: invalid configuration: ${error.message}`);
    process.exit(1);
  }
  const logger = pino({ name: 'attache' });
  let running: RunningAttache;
  try {
    running = await startAttache(config, { logger, auth: authSetup.auth });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`attache: invalid configuration: ${error.message}`);
    process.exit(1);
  }
  if (authSetup.developmentTokens) {
    const { admin, store } = authSetup.developmentTokens;
    console.log(
      [
        '',
        'No AUTH_TOKENS_FILE is set, so attache made up two development tokens (valid until it stops):',
        `  admin (id 1): ${admin}`,
        `  store (id 1): ${store}`,
        '',
        'Try it:',
        `  curl -X POST "${running.url.replace('127.0.0.1', 'localhost')}/v1/chat/upload/" \\`,
        `    -H "Authorization: Token ${store}" \\`,
        '    -F "file=@/path/to/image.jpg" -F "session_id=1"',
        '',
      ].join('\n'),
    );
  }
  logger.info({ url: running.url, driver: config.storage.driver, maxFileSize: config.maxFileSize }, 'attache is accepting uploads');
  const shutdown = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    void running.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

if (import.meta.main) await main();
