import { resolve } from 'node:path';
import type { HttpIntrospectionAuthOptions } from '../adapters/auth/http-introspection-auth.ts';
import { ConfigError } from './config-error.ts';
import { directUploadConfig, type DirectUploadConfig } from './direct-upload-config.ts';
import type { LimitRule } from '../application/upload-limits.ts';
import { DEFAULT_PREVIEW_MAX_HELD_BYTES, ENVIRONMENT, type Environment } from './environment.ts';
import { storageConfig, type StorageConfig } from './storage-config.ts';

export { configurationTable, ENVIRONMENT, ENVIRONMENT_VARIABLES } from './environment.ts';
export { ConfigError } from './config-error.ts';
export type { DirectUploadConfig } from './direct-upload-config.ts';
export { DEFAULT_LOCAL_STORAGE_DIR, type StorageConfig, type UrlMode } from './storage-config.ts';

/** The introspection adapter's own options, minus what only tests inject. */
export type IntrospectionConfig = Omit<HttpIntrospectionAuthOptions, 'now'>;

export interface HttpServerConfig {
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  /** Client connections open at once; more are answered 503 and closed. */
  readonly maxConnections: number;
  /** Origins allowed to call attache from a browser; empty: no CORS headers at all. */
  readonly corsOrigins: readonly string[];
  /** Proxies (addresses, CIDR ranges) whose X-Forwarded-For names the client. */
  readonly trustedProxies: readonly string[];
}

/** The limits on uploads and refused tokens, and where instances count them together. */
export interface LimitsConfig {
  /** Valkey/Redis; undefined: each process counts alone. */
  readonly redisUrl: string | undefined;
  readonly uploads: LimitRule | undefined;
  readonly authFailures: LimitRule | undefined;
  readonly quota: LimitRule | undefined;
  readonly onError: 'allow' | 'reject';
}
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** ClamAV's daemon, when MALWARE_SCAN=clamd. */
export interface MalwareScanConfig {
  readonly host: string;
  readonly port: number;
  readonly socket: string | undefined;
  readonly timeoutMs: number;
  readonly onError: 'reject' | 'accept';
}

export interface PreviewConfig {
  readonly maxPx: number;
  readonly maxPixels: number;
  readonly concurrency: number;
  readonly maxWaiting: number;
  readonly maxHeldBytes: number;
  readonly timeoutMs: number;
}

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly production: boolean;
  readonly maxFileSize: number;
  /** How long a resumable upload takes requests after its creation, in seconds (RESUMABLE_UPLOAD_TTL). */
  readonly resumableUploadTtlSeconds: number;
  /** RETENTION_DAYS: attachments expire this long after upload (rules `attache storage setup` installs). */
  readonly retentionDays: number | undefined;
  /** STORAGE_CHECK=on: the storage is checked at start (checkStorage) before uploads are taken. */
  readonly storageCheck: boolean;
  /** REDIRECT_URL_TTL: life of the presigned URL a stable link (/v1/chat/files/<key>) redirects to. */
  readonly redirectUrlTtlSeconds: number;
  readonly authTokensFile: string | undefined;
  /** Set when tokens are checked against the platform's API instead of a file. */
  readonly authIntrospection: IntrospectionConfig | undefined;
  /** Whether a file's content must agree with its extension. */
  readonly contentCheck: boolean;
  readonly http: HttpServerConfig;
  readonly storage: StorageConfig;
  readonly logLevel: LogLevel;
  /** undefined: decided at start-up from NODE_ENV, whether stdout is a terminal and whether pino-pretty resolves. */
  readonly logFormat: 'json' | 'pretty' | undefined;
  readonly shutdownGraceMs: number;
  /** The `attache` command's token when none is passed with --token (ATTACHE_TOKEN). */
  readonly attacheToken: string | undefined;
  /** Set when uploads are scanned for malware. */
  readonly malwareScan: MalwareScanConfig | undefined;
  /** Set when images get previews. */
  readonly previews: PreviewConfig | undefined;
  /** Whether JPEG and PNG originals are stripped of their metadata. */
  readonly stripMetadata: boolean;
  /** Set when direct uploads are on. */
  readonly directUploads: DirectUploadConfig | undefined;
  readonly limits: LimitsConfig;
  /** Idempotency-Key: how long a finished upload's answer is kept (IDEMPOTENCY_TTL), where (REDIS_URL: limits.redisUrl). */
  readonly idempotencyTtlSeconds: number;
}


export interface LoadConfigOptions {
  /** Where relative paths are taken from (default: the working directory; the CLI: where it was typed, INIT_CWD). */
  readonly cwd?: string;
}

/** Reads and validates the configuration; throws ConfigError on the first invalid variable. Paths come back absolute. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, options: LoadConfigOptions = {}): Config {
  // An empty variable means "not set", as in most shells' `VAR= command`.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ''));
  const e = withAbsolutePaths(parsedEnvironment(present, env), options.cwd ?? process.cwd());
  const production = e.NODE_ENV === 'production';
  if (e.HTTP_HEADERS_TIMEOUT_MS > e.HTTP_REQUEST_TIMEOUT_MS) {
    throw new ConfigError('HTTP_HEADERS_TIMEOUT_MS', `must not exceed HTTP_REQUEST_TIMEOUT_MS (${e.HTTP_REQUEST_TIMEOUT_MS})`);
  }
  return {
    port: e.PORT,
    host: e.HOST,
    production,
    maxFileSize: e.MAX_FILE_SIZE,
    resumableUploadTtlSeconds: e.RESUMABLE_UPLOAD_TTL,
    redirectUrlTtlSeconds: e.REDIRECT_URL_TTL,
    storageCheck: e.STORAGE_CHECK === 'on',
    retentionDays: e.RETENTION_DAYS,
    authTokensFile: e.AUTH_TOKENS_FILE,
    authIntrospection: introspectionConfig(e, present),
    contentCheck: e.CONTENT_CHECK === 'on',
    http: {
      headersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: e.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      maxConnections: e.MAX_CONNECTIONS,
      corsOrigins: e.CORS_ORIGINS,
      trustedProxies: e.TRUSTED_PROXIES,
    },
    storage: storageConfig(e),
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    attacheToken: e.ATTACHE_TOKEN,
    malwareScan: malwareScanConfig(e, present),
    previews: previewConfig(e),
    stripMetadata: e.STRIP_METADATA === 'on',
    directUploads: directUploadConfig(e, production),
    limits: { redisUrl: e.REDIS_URL, uploads: e.UPLOAD_RATE_LIMIT, authFailures: e.AUTH_FAILURE_LIMIT, quota: e.UPLOAD_QUOTA, onError: e.RATE_LIMIT_ON_ERROR },
    idempotencyTtlSeconds: e.IDEMPOTENCY_TTL,
  };
}

/** The variables set, validated; ConfigError names the first invalid one, with its value as given. */
function parsedEnvironment(present: Record<string, string | undefined>, env: NodeJS.ProcessEnv): Environment {
  const parsed = ENVIRONMENT.safeParse(present);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const variable = String(issue.path[0]);
  throw new ConfigError(variable, `${issue.message} (got ${JSON.stringify(env[variable])})`);
}

function previewConfig(e: Environment): Config['previews'] {
  if (e.PREVIEWS !== 'on') return undefined;
  return {
    maxPx: e.PREVIEW_MAX_PX,
    maxPixels: e.PREVIEW_MAX_PIXELS,
    concurrency: e.PREVIEW_CONCURRENCY,
    maxWaiting: e.PREVIEW_MAX_WAITING,
    // The largest file allowed must fit, or the largest photos would never get a preview.
    maxHeldBytes: e.PREVIEW_MAX_HELD_BYTES ?? Math.max(DEFAULT_PREVIEW_MAX_HELD_BYTES, e.MAX_FILE_SIZE),
    timeoutMs: e.PREVIEW_TIMEOUT_MS,
  };
}

/** Every variable naming a file or folder, resolved here once: no adapter resolves one against a folder of its own. */
function withAbsolutePaths(e: Environment, cwd: string): Environment {
  const at = (path: string | undefined) => path && resolve(cwd, path);
  return { ...e, AUTH_TOKENS_FILE: at(e.AUTH_TOKENS_FILE), LOCAL_STORAGE_DIR: at(e.LOCAL_STORAGE_DIR), CLAMD_SOCKET: at(e.CLAMD_SOCKET) };
}

const INTROSPECTION_ONLY = ['AUTH_ROLE_FIELD', 'AUTH_ID_FIELD', 'AUTH_CACHE_TTL', 'AUTH_NEGATIVE_CACHE_TTL', 'AUTH_CACHE_MAX_ENTRIES', 'AUTH_TIMEOUT_MS'] as const;

/**
 * Tokens come from exactly one place: a file or the platform's API. Both at once would leave
 * operators guessing which one refused a token, so it is a configuration error, as is tuning
 * introspection that is not in use.
 */
function introspectionConfig(e: Environment, given: Record<string, unknown>): IntrospectionConfig | undefined {
  if (e.AUTH_INTROSPECTION_URL === undefined) {
    const stray = INTROSPECTION_ONLY.find((name) => given[name] !== undefined);
    if (stray) throw new ConfigError(stray, 'applies only with AUTH_INTROSPECTION_URL, which is not set');
    return undefined;
  }
  if (e.AUTH_TOKENS_FILE !== undefined) {
    throw new ConfigError('AUTH_INTROSPECTION_URL', 'cannot be combined with AUTH_TOKENS_FILE; set only one of them');
  }
  return {
    url: e.AUTH_INTROSPECTION_URL,
    roleField: e.AUTH_ROLE_FIELD,
    idField: e.AUTH_ID_FIELD,
    cacheTtlSeconds: e.AUTH_CACHE_TTL,
    negativeCacheTtlSeconds: e.AUTH_NEGATIVE_CACHE_TTL,
    cacheMaxEntries: e.AUTH_CACHE_MAX_ENTRIES,
    timeoutMs: e.AUTH_TIMEOUT_MS,
  };
}

const CLAMD_ONLY = ['CLAMD_HOST', 'CLAMD_PORT', 'CLAMD_SOCKET', 'CLAMD_TIMEOUT_MS', 'MALWARE_SCAN_ON_ERROR'] as const;

/** Scanning settings that would do nothing are a mistake worth saying, as for introspection. */
function malwareScanConfig(e: Environment, given: Record<string, unknown>): MalwareScanConfig | undefined {
  if (e.MALWARE_SCAN === 'off') {
    const stray = CLAMD_ONLY.find((name) => given[name] !== undefined);
    if (stray) throw new ConfigError(stray, 'applies only with MALWARE_SCAN=clamd, which is not set');
    return undefined;
  }
  return { host: e.CLAMD_HOST, port: e.CLAMD_PORT, socket: e.CLAMD_SOCKET, timeoutMs: e.CLAMD_TIMEOUT_MS, onError: e.MALWARE_SCAN_ON_ERROR };
}
