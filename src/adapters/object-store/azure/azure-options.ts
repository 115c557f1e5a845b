import type { TokenCredential } from '@azure/core-auth';
import {
  AnonymousCredential,
  BlobServiceClient,
  newPipeline,
  StorageSharedKeyCredential,
  type RequestPolicyFactory,
} from '@azure/storage-blob';

export interface AzureObjectStoreOptions {
  /** The container attachments go to. It must exist: the store never creates it. */
  readonly container: string;
  /** A storage account connection string (keys or SAS, or `UseDevelopmentStorage=true`); its endpoint is used. */
  readonly connectionString?: string;
  /** The storage account's name; with `accountKey`, or alone with `credential`. */
  readonly account?: string;
  /** The account's shared key (base64), for Shared Key requests and account-key SAS URLs. */
  readonly accountKey?: string;
  /** An identity's token credential (@azure/identity's DefaultAzureCredential): managed, workload, environment. */
  readonly credential?: TokenCredential;
  /**
   * The Blob service's URL, account included: Azurite's `http://127.0.0.1:10000/devstoreaccount1`, a
   * sovereign cloud's `https://ACCOUNT.blob.core.chinacloudapi.cn`. Default `https://ACCOUNT.blob.core.windows.net`.
   */
  readonly endpoint?: string;
  /** Public mode: URLs are this + `/` + key (a CDN in front of the container). Default: the container's own URL. */
  readonly publicBaseUrl?: string;
  /**
   * `public`: plain URLs (the container must allow anonymous blob reads); `signed`: read-only SAS URLs;
   * `redirect`: `redirectBaseUrl/KEY`, a link to attache that never expires, which attache answers with a
   * redirect to a fresh read-only SAS URL (directUrlFor).
   */
  readonly urlMode: 'public' | 'signed' | 'redirect';
  /** With urlMode 'redirect': where attache serves /v1/chat/files (`https://chat.example/v1/chat/files`). */
  readonly redirectBaseUrl?: string;
  /** How long a SAS URL stays valid, in seconds. Default 86400; at most 604800 (7 days, as the other drivers). */
  readonly urlTtlSeconds?: number;
  /**
   * Bytes per staged block, and the largest file sent as one Put Blob. Default 8 MiB; 1 MiB to 4000 MiB
   * (Azure's limit per block). Files up to 50,000 blocks (400 GiB at the default).
   */
  readonly blockSizeBytes?: number;
  /** Blocks staged in parallel. Default 2. An upload holds about (queueSize + 1) × blockSizeBytes in memory. */
  readonly queueSize?: number;
  /**
   * Longest one request may take until Azure answers (a whole block must upload within it). A request
   * that times out is not retried. Default 30 000 ms.
   */
  readonly requestTimeoutMs?: number;
  /** Retries of refused or reset connections and of 500/503 answers, per request; 0 disables them. Default 2. */
  readonly maxRetries?: number;
}

/** The options with their defaults applied, checked. */
export interface AzureSettings {
  readonly container: string;
  readonly urlMode: 'public' | 'signed' | 'redirect';
  readonly redirectBaseUrl: string | undefined;
  readonly urlTtlSeconds: number;
  readonly publicBaseUrl: string | undefined;
  readonly blockSize: number;
  readonly queueSize: number;
  readonly requestTimeoutMs: number;
  readonly maxRetries: number;
}

const MIB = 1024 * 1024;
/** Azure takes blocks up to 4000 MiB. */
const MAX_BLOCK_SIZE = 4000 * MIB;
const MAX_URL_TTL_SECONDS = 7 * 24 * 3600;
/** First wait before a retry; the SDK doubles it per retry, and no wait exceeds MAX_RETRY_DELAY_MS. */
const RETRY_DELAY_MS = 500;
const MAX_RETRY_DELAY_MS = 4_000;

/**
 * @azure/identity's DefaultAzureCredential (environment, workload identity, managed identity, then
 * developer tools). Loaded only for it: keys and connection strings never need that package.
 */
export async function ambientCredential(): Promise<TokenCredential> {
  const { DefaultAzureCredential } = await import('@azure/identity');
  return new DefaultAzureCredential();
}

/** Throws TypeError for options that cannot work. */
export function azureSettingsFrom(options: AzureObjectStoreOptions): AzureSettings {
  const settings: AzureSettings = {
    container: options.container,
    urlMode: options.urlMode,
    redirectBaseUrl: options.redirectBaseUrl,
    urlTtlSeconds: options.urlTtlSeconds ?? 86_400,
    publicBaseUrl: options.publicBaseUrl,
    blockSize: options.blockSizeBytes ?? 8 * MIB,
    queueSize: options.queueSize ?? 2,
    requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    maxRetries: options.maxRetries ?? 2,
  };
  if (!settings.container) throw new TypeError('AzureObjectStore needs a container');
  if (!['public', 'signed', 'redirect'].includes(settings.urlMode)) throw new TypeError("AzureObjectStore: urlMode must be 'public', 'signed' or 'redirect'");
  if (settings.urlMode !== 'public' && settings.publicBaseUrl !== undefined) {
    throw new TypeError("AzureObjectStore: publicBaseUrl is for urlMode 'public'; SAS URLs point at the blob itself");
  }
  if ((settings.urlMode === 'redirect') !== (settings.redirectBaseUrl !== undefined)) {
    throw new TypeError("AzureObjectStore: redirectBaseUrl goes with urlMode 'redirect', and only with it");
  }
  const ttl = settings.urlTtlSeconds;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_URL_TTL_SECONDS) throw new TypeError(`AzureObjectStore: urlTtlSeconds must be an integer from 1 to ${MAX_URL_TTL_SECONDS}`);
  if (!Number.isInteger(settings.blockSize) || settings.blockSize < MIB || settings.blockSize > MAX_BLOCK_SIZE) {
    throw new TypeError('AzureObjectStore: blockSizeBytes must be an integer from 1 MiB to 4000 MiB');
  }
  if (!Number.isInteger(settings.queueSize) || settings.queueSize < 1) throw new TypeError('AzureObjectStore: queueSize must be a positive integer');
  if (!(Number.isFinite(settings.requestTimeoutMs) && settings.requestTimeoutMs > 0)) throw new TypeError('AzureObjectStore: requestTimeoutMs must be positive');
  if (!Number.isInteger(settings.maxRetries) || settings.maxRetries < 0) throw new TypeError('AzureObjectStore: maxRetries must be a non-negative integer');
  if (settings.publicBaseUrl !== undefined) new URL(settings.publicBaseUrl); // throws on a malformed URL
  if (settings.redirectBaseUrl !== undefined) new URL(settings.redirectBaseUrl);
  return settings;
}

/**
 * The Blob service client: its URL and credential from the options, and a pipeline whose requests
 * time out. The SDK sets no client-side timeout (its `tryTimeoutInMs` is only the `timeout` query
 * parameter the server applies), so a backend that accepts a connection and never answers would hang
 * a call for ever; the policy below gives every request (each try) `requestTimeoutMs`.
 */
export function createServiceClient(options: AzureObjectStoreOptions, settings: AzureSettings): BlobServiceClient {
  const { url, credential } = serviceAddress(options);
  const pipeline = newPipeline(credential, {
    retryOptions: { maxTries: settings.maxRetries + 1, retryDelayInMs: RETRY_DELAY_MS, maxRetryDelayInMs: MAX_RETRY_DELAY_MS },
  });
  // Added to this pipeline rather than to a new Pipeline: newPipeline keeps the credential on the
  // instance, and a copy would send every request unsigned.
  pipeline.factories.push(requestTimeout(settings.requestTimeoutMs));
  return new BlobServiceClient(url, pipeline);
}

function serviceAddress(options: AzureObjectStoreOptions): { url: string; credential: StorageSharedKeyCredential | AnonymousCredential | TokenCredential } {
  if (options.connectionString !== undefined) {
    // Parsed by the SDK (keys, SAS, UseDevelopmentStorage=true); only its URL and credential are kept.
    const parsed = BlobServiceClient.fromConnectionString(options.connectionString);
    return { url: parsed.url, credential: parsed.credential };
  }
  const url = options.endpoint?.replace(/\/+$/, '') ?? (options.account ? `https://${options.account}.blob.core.windows.net` : undefined);
  if (url === undefined) throw new TypeError('AzureObjectStore needs a connection string, an account or an endpoint');
  if (options.accountKey !== undefined) {
    if (!options.account) throw new TypeError('AzureObjectStore: accountKey needs account');
    return { url, credential: new StorageSharedKeyCredential(options.account, options.accountKey) };
  }
  return { url, credential: options.credential ?? new AnonymousCredential() };
}

/** A request policy (run before the retry policy) that gives each request a client-side timeout. */
function requestTimeout(timeoutMs: number): RequestPolicyFactory {
  return {
    create: (next) => ({
      sendRequest(request) {
        // Carried by the request through every try: the HTTP client aborts a try after it.
        request.timeout = timeoutMs;
        return next.sendRequest(request);
      },
    }),
  };
}
