/**
 * The adapters a configuration names. What needs asynchronous work (loading an SDK's module,
 * reading the tokens file) is prepared first and yields a factory; the factory then builds the
 * adapter synchronously: the service's container registers these factories, and the library
 * calls them directly.
 */
import { HttpIntrospectionAuth } from '../adapters/auth/http-introspection-auth.ts';
import { StaticTokenAuth } from '../adapters/auth/static-token-auth.ts';
import { ContentMimeDetector } from '../adapters/mime/content-mime-detector.ts';
import { ExtensionMimeDetector } from '../adapters/mime/extension-mime-detector.ts';
import { InMemoryObjectStore } from '../adapters/object-store/in-memory/in-memory-object-store.ts';
import { LocalDiskObjectStore } from '../adapters/object-store/local-disk/local-disk-object-store.ts';
import { JpegPngMetadataStripper } from '../adapters/image/jpeg-png-metadata-stripper.ts';
import { ClamdScanner } from '../adapters/scanner/clamd-scanner.ts';
import type { UploadAttachmentDeps } from '../application/upload-attachment.ts';
import type { AuthPort } from '../application/ports/auth-port.ts';
import type { ImagePreviewer } from '../application/ports/image-previewer.ts';
import type { MetadataStripper } from '../application/ports/metadata-stripper.ts';
import type { MimeDetector } from '../application/ports/mime-detector.ts';
import type { ObjectStore } from '../application/ports/object-store.ts';
import type { UsageCounters } from '../application/ports/usage-counters.ts';
import { UploadLimits } from '../application/upload-limits.ts';
import { InProcessUsageCounters } from '../adapters/limits/in-process-usage-counters.ts';
import { STABLE_LINK_PREFIX } from '../application/open-attachment.ts';
import { InProcessIdempotencyRecords } from '../adapters/idempotency/in-process-idempotency-records.ts';
import type { IdempotencySettings } from '../application/idempotency/idempotent-uploads.ts';
import type { IdempotencyRecords } from '../application/ports/idempotency-records.ts';
import type { TokenCredential } from '@azure/core-auth';
import { checkSharpLoads, LazySharpImagePreviewer } from '../adapters/image/lazy-sharp-previewer.ts';
import { ConfigError, type Config, type StorageConfig } from './config.ts';

/**
 * Makes the ObjectStore the configuration names. SDKs are loaded only for the driver in use (the
 * AWS, Google and Azure SDKs are large, and local installs never need them). `selfUrl` is where the
 * attache service that serves `local`/`memory` files listens; their URLs default to its /files.
 */
export async function objectStoreFactory(storage: StorageConfig, selfUrl: string, azureCredential?: TokenCredential): Promise<() => ObjectStore> {
  switch (storage.driver) {
    case 'local':
      return () => new LocalDiskObjectStore({ rootDir: storage.dir, publicBaseUrl: storage.publicBaseUrl ?? `${selfUrl}/files` });
    case 'memory':
      return () => new InMemoryObjectStore({ publicBaseUrl: storage.publicBaseUrl ?? `${selfUrl}/files` });
    case 's3': {
      const { S3ObjectStore } = await import('../adapters/object-store/s3/s3-object-store.ts');
      const { driver: _driver, redirectBaseUrl, ...options } = storage;
      const redirect = stableLinkBase(storage.urlMode, redirectBaseUrl, selfUrl);
      return () => new S3ObjectStore({ ...options, ...(redirect !== undefined && { redirectBaseUrl: redirect }) });
    }
    case 'gcs': {
      const { GcsObjectStore } = await import('../adapters/object-store/gcs/gcs-object-store.ts');
      const { driver: _driver, redirectBaseUrl, ...options } = storage;
      const redirect = stableLinkBase(storage.urlMode, redirectBaseUrl, selfUrl);
      return () => new GcsObjectStore({ ...options, ...(redirect !== undefined && { redirectBaseUrl: redirect }) });
    }
    case 'azure': {
      const { AzureObjectStore, ambientCredential } = await import('../adapters/object-store/azure/azure-object-store.ts');
      const { driver: _driver, ambientIdentity, redirectBaseUrl, ...options } = storage;
      const credential = ambientIdentity ? (azureCredential ?? (await ambientCredential())) : undefined;
      const redirect = stableLinkBase(storage.urlMode, redirectBaseUrl, selfUrl);
      const make = () =>
        new AzureObjectStore({ ...options, ...(credential !== undefined && { credential }), ...(redirect !== undefined && { redirectBaseUrl: redirect }) });
      // Made once now (no request is sent): a connection string the SDK cannot read stops start-up
      // naming the variable, rather than with a stack trace when the store is first resolved.
      try {
        make().close();
      } catch (error) {
        if (options.connectionString === undefined) throw error;
        throw new ConfigError('AZURE_STORAGE_CONNECTION_STRING', `is not one the Azure SDK can read (${(error as Error).message})`);
      }
      return make;
    }
  }
}

/**
 * With `redirect` URLs, where stable links point: attache's address (PUBLIC_BASE_URL, else where
 * the service listens) and its /v1/chat/files route.
 */
function stableLinkBase(urlMode: string, attacheUrl: string | undefined, selfUrl: string): string | undefined {
  if (urlMode !== 'redirect') return undefined;
  return `${(attacheUrl ?? selfUrl).replace(/\/+$/, '')}${STABLE_LINK_PREFIX.slice(0, -1)}`;
}

/** The ObjectStore the configuration names; see objectStoreFactory. */
export async function createObjectStore(storage: StorageConfig, selfUrl: string, azureCredential?: TokenCredential): Promise<ObjectStore> {
  return (await objectStoreFactory(storage, selfUrl, azureCredential))();
}

/**
 * The identity an Azure store without a key or connection string acts as (@azure/identity's
 * DefaultAzureCredential), made once per instance and handed to everything that talks to Azure (the
 * store, the direct-upload targets), so that they share its tokens instead of each asking the
 * identity provider for its own; undefined for any other storage.
 */
export async function ambientAzureCredential(storage: StorageConfig): Promise<TokenCredential | undefined> {
  if (storage.driver !== 'azure' || !storage.ambientIdentity) return undefined;
  const { ambientCredential } = await import('../adapters/object-store/azure/azure-options.ts');
  return ambientCredential();
}

export type DevelopmentTokens = { readonly admin: string; readonly store: string };

export interface AuthFactory {
  readonly make: () => AuthPort;
  /** Set when development tokens were made up because none were configured. */
  readonly developmentTokens?: DevelopmentTokens;
}

/**
 * Tokens come from the platform's API (AUTH_INTROSPECTION_URL) or from a file
 * (AUTH_TOKENS_FILE); config.ts refuses both at once. Neither: development tokens, except in
 * production. Throws ConfigError for an unreadable tokens file.
 */
export async function authFactory(config: Config): Promise<AuthFactory> {
  const introspection = config.authIntrospection;
  if (introspection !== undefined) return { make: () => new HttpIntrospectionAuth(introspection) };
  if (config.authTokensFile !== undefined) {
    try {
      const entries = await StaticTokenAuth.readFile(config.authTokensFile);
      return { make: () => new StaticTokenAuth(entries) };
    } catch (error) {
      throw new ConfigError('AUTH_TOKENS_FILE', (error as Error).message);
    }
  }
  if (config.production) throw new ConfigError('AUTH_TOKENS_FILE', 'or AUTH_INTROSPECTION_URL is required when NODE_ENV=production');
  const { entries, tokens } = StaticTokenAuth.developmentEntries();
  return { make: () => new StaticTokenAuth(entries), developmentTokens: tokens };
}

export interface AuthSetup {
  readonly auth: AuthPort;
  /** Set when development tokens were made up because none were configured. */
  readonly developmentTokens?: DevelopmentTokens;
}

/** The AuthPort the configuration names, with its development tokens if it made some; see authFactory. */
export async function createAuth(config: Config): Promise<AuthSetup> {
  const { make, developmentTokens } = await authFactory(config);
  return developmentTokens ? { auth: make(), developmentTokens } : { auth: make() };
}

/**
 * The spec's rule, the MIME type comes from the extension; with CONTENT_CHECK on (the default)
 * the file's first bytes must also agree with it.
 */
export function createMimeDetector(config: Pick<Config, 'contentCheck'>): MimeDetector {
  return config.contentCheck ? new ContentMimeDetector() : new ExtensionMimeDetector();
}

/** The malware scan the configuration names (MALWARE_SCAN=clamd), or undefined. */
export function createMalwareScan(config: Pick<Config, 'malwareScan'>): UploadAttachmentDeps['malwareScan'] {
  const scan = config.malwareScan;
  if (scan === undefined) return undefined;
  const where = scan.socket !== undefined ? { socket: scan.socket } : { host: scan.host, port: scan.port };
  return { scanner: new ClamdScanner({ ...where, timeoutMs: scan.timeoutMs }), onError: scan.onError };
}

/**
 * Makes the image previewer (PREVIEWS=on), or undefined. Whether sharp (libvips) loads is checked
 * here, at start, in a child process (a missing or broken sharp stops the start); this process
 * loads it at the first image to preview: its ~7 MB are not paid by a process that takes none, nor
 * at all with previews off.
 */
export async function imagePreviewerFactory(config: Pick<Config, 'previews'>): Promise<() => ImagePreviewer | undefined> {
  const previews = config.previews;
  if (previews === undefined) return () => undefined;
  await checkSharpLoads();
  return () => new LazySharpImagePreviewer(previews);
}

/** The metadata stripper (STRIP_METADATA=on), or undefined. */
export function createMetadataStripper(config: Pick<Config, 'stripMetadata'>): MetadataStripper | undefined {
  return config.stripMetadata ? new JpegPngMetadataStripper() : undefined;
}

/** What the limits report about the shared counters, for logs. */
export interface LimitsLog {
  warn(fields: object, message: string): void;
  info(fields: object, message: string): void;
}

/**
 * The limits the configuration names (UPLOAD_RATE_LIMIT, AUTH_FAILURE_LIMIT, UPLOAD_QUOTA), or
 * undefined when none is set. Counted in Valkey when REDIS_URL is set (ioredis is loaded only
 * then), else in this process; this process's own counters are the fallback while Valkey cannot
 * answer and RATE_LIMIT_ON_ERROR=allow. `counters` is for whoever closes the connection.
 */
export async function createUploadLimits(config: Pick<Config, 'limits'>, log: LimitsLog): Promise<{ limits: UploadLimits; counters: UsageCounters } | undefined> {
  const { redisUrl, uploads, authFailures, quota, onError } = config.limits;
  if (!uploads && !authFailures && !quota) return undefined;
  let counters: UsageCounters = new InProcessUsageCounters();
  if (redisUrl !== undefined) {
    const { ValkeyUsageCounters } = await import('../adapters/limits/valkey-usage-counters.ts');
    const valkey = new ValkeyUsageCounters({
      url: redisUrl,
      onConnectionChange: (up, reason) =>
        up
          ? log.info({ limits: 'shared' }, 'Valkey (REDIS_URL) answers: limits are counted across instances')
          : log.warn({ limits: onError === 'allow' ? 'per instance' : 'refusing uploads', reason }, 'Valkey (REDIS_URL) cannot answer'),
    });
    // A server still away at start is RATE_LIMIT_ON_ERROR's business, not a reason not to start.
    if (!(await valkey.connected(2000))) log.warn({ onError }, 'Valkey (REDIS_URL) did not answer at start');
    counters = valkey;
  }
  const limits = new UploadLimits({ counters, fallback: new InProcessUsageCounters(), onError, uploads, authFailures, quota });
  return { limits, counters };
}

/**
 * Longest a direct or resumable upload's completion takes from its attachment getting its key to
 * its answer being kept (StagedCompletion): the scan's verdict (CLAMD_TIMEOUT_MS) and the preview
 * (PREVIEW_TIMEOUT_MS) may still be coming, then two small writes, within HTTP_REQUEST_TIMEOUT_MS,
 * which also covers the store's clock and this instance's disagreeing. An attachment older than
 * that with no answer kept was left by a completion whose process died: a retry finishes it.
 */
export function completionTailMsFor(config: Pick<Config, 'http' | 'malwareScan' | 'previews'>): number {
  return config.http.requestTimeoutMs + (config.malwareScan?.timeoutMs ?? 0) + (config.previews?.timeoutMs ?? 0);
}

/** How much longer than the request's timeout an upload's claim lasts: its completion (a move, a preview) after the last byte. */
const COMPLETION_MARGIN_MS = 60_000;

/**
 * Where Idempotency-Key claims and answers are kept: in Valkey when REDIS_URL is set (ioredis is
 * loaded only then), so that a retry reaching another instance finds them; else in this process.
 * A claim lasts as long as an upload can (HTTP_REQUEST_TIMEOUT_MS, and its completion): past that,
 * the instance that held it died, and a retry runs. `records` is for whoever closes the connection.
 */
export async function createIdempotency(config: Pick<Config, 'limits' | 'idempotencyTtlSeconds' | 'http'>): Promise<IdempotencySettings> {
  const { redisUrl } = config.limits;
  let records: IdempotencyRecords = new InProcessIdempotencyRecords();
  if (redisUrl !== undefined) {
    const { ValkeyIdempotencyRecords } = await import('../adapters/idempotency/valkey-idempotency-records.ts');
    const valkey = new ValkeyIdempotencyRecords({ url: redisUrl });
    // As for the limits: a server still away at start answers 503 to keyed uploads, it does not stop the start.
    await valkey.connected(2000);
    records = valkey;
  }
  return { records, ttlSeconds: config.idempotencyTtlSeconds, inFlightMs: config.http.requestTimeoutMs + COMPLETION_MARGIN_MS };
}

/**
 * Where the service would listen with this configuration, as clients reach it: the default
 * base of `local`/`memory` URLs when the store is used outside the service (library, CLI).
 */
export function defaultSelfUrl(config: Config): string {
  const loopback = ['127.0.0.1', '::1', '0.0.0.0', '::', 'localhost'].includes(config.host);
  const host = loopback ? 'localhost' : config.host.includes(':') ? `[${config.host}]` : config.host;
  return `http://${host}:${config.port}`;
}
