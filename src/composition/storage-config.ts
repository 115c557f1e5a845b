import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from './config-error.ts';
import type { Environment } from './environment.ts';

/**
 * The `local` driver's folder when LOCAL_STORAGE_DIR is unset: `data/uploads` in attache's own
 * folder, wherever the service or the `attache` command is started from, so that both use one
 * folder and the command's URLs are the service's.
 */
export const DEFAULT_LOCAL_STORAGE_DIR = fileURLToPath(new URL('../../data/uploads', import.meta.url));

export type UrlMode = 'public' | 'signed' | 'redirect';

export type StorageConfig =
  /** publicBaseUrl undefined: this service's own /files route, wherever it ends up listening. */
  | { readonly driver: 'local'; readonly dir: string; readonly publicBaseUrl: string | undefined }
  | { readonly driver: 'memory'; readonly publicBaseUrl: string | undefined }
  | {
      readonly driver: 's3';
      readonly bucket: string;
      readonly region: string;
      readonly endpoint: string | undefined;
      readonly forcePathStyle: boolean;
      readonly publicBaseUrl: string | undefined;
      readonly urlMode: UrlMode;
      readonly urlTtlSeconds: number;
      /** With urlMode 'redirect': attache's own address (PUBLIC_BASE_URL); undefined: where the service listens. */
      readonly redirectBaseUrl: string | undefined;
      readonly partSizeBytes: number;
      readonly queueSize: number;
      readonly connectionTimeoutMs: number;
      readonly requestTimeoutMs: number;
      readonly maxAttempts: number;
      readonly payloadSigning: 'auto' | 'unsigned-over-https' | 'always';
    }
  | {
      readonly driver: 'gcs';
      readonly bucket: string;
      readonly projectId: string | undefined;
      readonly apiEndpoint: string | undefined;
      readonly publicBaseUrl: string | undefined;
      readonly urlMode: UrlMode;
      readonly urlTtlSeconds: number;
      /** With urlMode 'redirect': attache's own address (PUBLIC_BASE_URL); undefined: where the service listens. */
      readonly redirectBaseUrl: string | undefined;
      readonly resumableThresholdBytes: number;
      readonly requestTimeoutMs: number;
      readonly maxRetries: number;
    }
  | AzureStorageConfig;

/** STORAGE_DRIVER=azure. Credentials: a connection string, an account key, or else the ambient identity. */
export interface AzureStorageConfig {
  readonly driver: 'azure';
  readonly container: string;
  readonly connectionString: string | undefined;
  readonly account: string | undefined;
  readonly accountKey: string | undefined;
  /** True when neither a connection string nor a key is given: @azure/identity's DefaultAzureCredential. */
  readonly ambientIdentity: boolean;
  readonly endpoint: string | undefined;
  readonly publicBaseUrl: string | undefined;
  readonly urlMode: UrlMode;
  readonly urlTtlSeconds: number;
  /** With urlMode 'redirect': attache's own address (PUBLIC_BASE_URL); undefined: where the service listens. */
  readonly redirectBaseUrl: string | undefined;
  readonly blockSizeBytes: number;
  readonly queueSize: number;
  readonly requestTimeoutMs: number;
  readonly maxRetries: number;
}

/** The storage driver's settings from the environment; throws ConfigError for settings that cannot work together. */
export function storageConfig(e: Environment): StorageConfig {
  switch (e.STORAGE_DRIVER) {
    case 'local':
      return { driver: 'local', dir: resolve(e.LOCAL_STORAGE_DIR ?? DEFAULT_LOCAL_STORAGE_DIR), publicBaseUrl: e.PUBLIC_BASE_URL };
    case 'memory':
      return { driver: 'memory', publicBaseUrl: e.PUBLIC_BASE_URL };
    case 's3':
      if (!e.S3_BUCKET) throw new ConfigError('S3_BUCKET', 'is required when STORAGE_DRIVER=s3');
      if (e.S3_URL_MODE === 'signed' && e.PUBLIC_BASE_URL) {
        throw new ConfigError('PUBLIC_BASE_URL', 'cannot be combined with S3_URL_MODE=signed (a signature is valid only for the bucket\'s own host)');
      }
      return {
        driver: 's3',
        bucket: e.S3_BUCKET,
        region: e.S3_REGION,
        endpoint: e.S3_ENDPOINT,
        forcePathStyle: e.S3_FORCE_PATH_STYLE ?? e.S3_ENDPOINT !== undefined,
        ...urlSettings(e.S3_URL_MODE, e.PUBLIC_BASE_URL),
        urlTtlSeconds: e.S3_URL_TTL,
        partSizeBytes: e.S3_PART_SIZE_MB * 1024 * 1024,
        queueSize: e.S3_QUEUE_SIZE,
        connectionTimeoutMs: e.S3_CONNECT_TIMEOUT_MS,
        requestTimeoutMs: e.S3_REQUEST_TIMEOUT_MS,
        maxAttempts: e.S3_MAX_ATTEMPTS,
        payloadSigning: e.S3_PAYLOAD_SIGNING,
      };
    case 'gcs': {
      if (!e.GCS_BUCKET) throw new ConfigError('GCS_BUCKET', 'is required when STORAGE_DRIVER=gcs');
      const emulator = e.STORAGE_EMULATOR_HOST;
      const emulatorUrl = emulator ? (/^https?:\/\//.test(emulator) ? emulator : `http://${emulator}`).replace(/\/+$/, '') : undefined;
      // The client library sends some calls to STORAGE_EMULATOR_HOST whatever apiEndpoint says:
      // two different addresses would split one bucket's traffic between two servers.
      if (e.GCS_API_ENDPOINT && emulatorUrl && e.GCS_API_ENDPOINT !== emulatorUrl) {
        throw new ConfigError('GCS_API_ENDPOINT', `differs from STORAGE_EMULATOR_HOST (${emulatorUrl}); set one of them`);
      }
      return {
        driver: 'gcs',
        bucket: e.GCS_BUCKET,
        projectId: e.GCS_PROJECT_ID,
        apiEndpoint: e.GCS_API_ENDPOINT ?? emulatorUrl,
        ...urlSettings(e.GCS_URL_MODE, e.PUBLIC_BASE_URL),
        urlTtlSeconds: e.GCS_URL_TTL,
        resumableThresholdBytes: e.GCS_RESUMABLE_THRESHOLD_BYTES,
        requestTimeoutMs: e.GCS_REQUEST_TIMEOUT_MS,
        maxRetries: e.GCS_MAX_RETRIES,
      };
    }
    case 'azure':
      return azureStorageConfig(e);
  }
}

/** With `redirect` URLs, PUBLIC_BASE_URL is attache's own address, not the bucket's or a CDN's. */
function urlSettings(urlMode: UrlMode, publicBaseUrl: string | undefined) {
  return urlMode === 'redirect'
    ? { urlMode, publicBaseUrl: undefined, redirectBaseUrl: publicBaseUrl }
    : { urlMode, publicBaseUrl, redirectBaseUrl: undefined };
}

/**
 * Whether attache can sign SAS URLs for this container: with the account key, or with a user delegation
 * key the identity asks for; a SAS connection string can do neither.
 */
export function azureCanSign({ connectionString }: Pick<AzureStorageConfig, 'connectionString'>): boolean {
  return connectionString === undefined || /(^|;)\s*(AccountKey=|UseDevelopmentStorage=true)/i.test(connectionString);
}

function azureStorageConfig(e: Environment): AzureStorageConfig {
  if (!e.AZURE_STORAGE_CONTAINER) throw new ConfigError('AZURE_STORAGE_CONTAINER', 'is required when STORAGE_DRIVER=azure');
  const connectionString = e.AZURE_STORAGE_CONNECTION_STRING;
  if (connectionString !== undefined) {
    // The connection string names the account, its key and its endpoint: a second source would leave operators guessing.
    const stray = (['AZURE_STORAGE_ACCOUNT', 'AZURE_STORAGE_KEY', 'AZURE_STORAGE_ENDPOINT'] as const).find((name) => e[name] !== undefined);
    if (stray) throw new ConfigError(stray, 'cannot be combined with AZURE_STORAGE_CONNECTION_STRING, which names the account already');
  } else if (!e.AZURE_STORAGE_ACCOUNT && !e.AZURE_STORAGE_ENDPOINT) {
    throw new ConfigError('AZURE_STORAGE_ACCOUNT', 'or AZURE_STORAGE_CONNECTION_STRING is required when STORAGE_DRIVER=azure');
  }
  if (e.AZURE_STORAGE_KEY !== undefined && !e.AZURE_STORAGE_ACCOUNT) throw new ConfigError('AZURE_STORAGE_KEY', 'needs AZURE_STORAGE_ACCOUNT');
  if (e.AZURE_URL_MODE === 'signed' && e.PUBLIC_BASE_URL) {
    throw new ConfigError('PUBLIC_BASE_URL', 'cannot be combined with AZURE_URL_MODE=signed (a SAS URL points at the blob itself)');
  }
  if (e.AZURE_URL_MODE !== 'public') {
    if (!azureCanSign({ connectionString })) throw new ConfigError('AZURE_URL_MODE', `${e.AZURE_URL_MODE} needs a connection string with AccountKey (or AZURE_STORAGE_ACCOUNT with a key or an identity)`);
  }
  return {
    driver: 'azure',
    container: e.AZURE_STORAGE_CONTAINER,
    connectionString,
    account: e.AZURE_STORAGE_ACCOUNT,
    accountKey: e.AZURE_STORAGE_KEY,
    ambientIdentity: connectionString === undefined && e.AZURE_STORAGE_KEY === undefined,
    endpoint: e.AZURE_STORAGE_ENDPOINT,
    ...urlSettings(e.AZURE_URL_MODE, e.PUBLIC_BASE_URL),
    urlTtlSeconds: e.AZURE_URL_TTL,
    blockSizeBytes: e.AZURE_BLOCK_SIZE_MB * 1024 * 1024,
    queueSize: e.AZURE_QUEUE_SIZE,
    requestTimeoutMs: e.AZURE_REQUEST_TIMEOUT_MS,
    maxRetries: e.AZURE_MAX_RETRIES,
  };
}
