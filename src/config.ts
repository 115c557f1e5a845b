import { z } from 'zod';
import type { HttpIntrospectionAuthOptions } from './adapters/auth/http-introspection-auth.ts';

/**
 * Every environment variable attache reads, with its default and meaning. The README's
 * configuration table is checked against this list by a test, so they cannot drift apart.
 */
export const ENVIRONMENT_VARIABLES = {
  PORT: { default: '8080', description: 'TCP port to listen on.' },
  HOST: { default: '127.0.0.1', description: 'Address to listen on (`0.0.0.0` for all interfaces).' },
  STORAGE_DRIVER: { default: 'local', description: '`local` (files on this machine), `memory` (lost on restart), `s3` or `gcs`.' },
  LOCAL_STORAGE_DIR: { default: './data/uploads', description: 'Where the `local` driver keeps files.' },
  PUBLIC_BASE_URL: {
    default: '`http://localhost:PORT/files` for `local`/`memory`; the bucket URL for `s3`/`gcs`',
    description: 'Base of returned URLs (a CDN, or the address clients reach attache at). The object key is appended.',
  },
  MAX_FILE_SIZE: { default: '26214400', description: 'Largest accepted file, in bytes (25 MiB); larger uploads get 413.' },
  AUTH_TOKENS_FILE: {
    default: '(none: development tokens are generated, unless `NODE_ENV=production`)',
    description: 'JSON file `{"tokens":[{"token":"...","role":"admin"|"store","id":"7"}]}` of accepted tokens.',
  },
  AUTH_INTROSPECTION_URL: {
    default: '(none)',
    description:
      "The platform's endpoint that answers who holds a token: attache GETs it with the caller's `Authorization: Token <t>` header. Use it or `AUTH_TOKENS_FILE`, not both.",
  },
  AUTH_ROLE_FIELD: { default: '`role`', description: "Field of the introspection answer holding the role (`admin`/`store`); dotted paths such as `user.role` reach into objects." },
  AUTH_ID_FIELD: { default: '`id`', description: 'Field of the introspection answer holding the admin or store id; dotted paths allowed.' },
  AUTH_CACHE_TTL: { default: '`60`', description: 'Seconds an introspection answer for a valid token is reused (0 disables caching).' },
  AUTH_NEGATIVE_CACHE_TTL: { default: '`10`', description: 'Seconds an unknown-token answer is reused, so repeated bad tokens do not reach the backend each time.' },
  AUTH_CACHE_MAX_ENTRIES: { default: '`10000`', description: 'Most tokens whose answers are cached at once; the oldest are dropped first.' },
  AUTH_TIMEOUT_MS: { default: '`3000`', description: 'How long an introspection request may take before the upload is answered 503.' },
  CONTENT_CHECK: { default: '`on`', description: "`on`: a file's leading bytes must match its extension (JPEG, PNG, GIF, HEIC/HEIF, PDF, OLE2 DOC/XLS, OOXML DOCX/XLSX); `off`: the extension alone decides." },
  CORS_ORIGINS: { default: '(none: no CORS headers)', description: 'Comma-separated browser origins (`https://app.example.com`) allowed to upload from a web page.' },
  HTTP_HEADERS_TIMEOUT_MS: { default: '`20000`', description: "Time a client has to send a request's headers." },
  HTTP_REQUEST_TIMEOUT_MS: { default: '`300000`', description: 'Time a client has to send a whole request, body included (a 25 MiB upload at 1 Mbit/s takes ~210 s).' },
  HTTP_KEEP_ALIVE_TIMEOUT_MS: { default: '`5000`', description: 'How long an idle keep-alive connection stays open; keep it above your load balancer’s idle timeout.' },
  NODE_ENV: { default: '(unset)', description: '`production` refuses to start without `AUTH_TOKENS_FILE` or `AUTH_INTROSPECTION_URL`, and never logs in the pretty format.' },
  LOG_LEVEL: { default: '`info`', description: 'Least severe log level written: `fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`.' },
  LOG_FORMAT: {
    default: '`pretty` when not production, stdout is a terminal and `pino-pretty` is installed; else `json`',
    description: '`json` (one JSON object per line) or `pretty` (human-readable; needs the `pino-pretty` devDependency).',
  },
  SHUTDOWN_GRACE_MS: {
    default: '`25000`',
    description: 'On SIGTERM/SIGINT, how long uploads in flight may take to finish before their connections are closed.',
  },
  S3_BUCKET: { default: '(required for `s3`)', description: 'Bucket to store attachments in.' },
  S3_REGION: { default: '`us-east-1`', description: 'Bucket region.' },
  S3_ENDPOINT: { default: '(AWS)', description: 'Endpoint of an S3-compatible service (MinIO, Ceph, R2, B2, Wasabi).' },
  S3_FORCE_PATH_STYLE: { default: '`true` when `S3_ENDPOINT` is set', description: 'Address buckets as `ENDPOINT/BUCKET/KEY`.' },
  S3_URL_MODE: { default: '`public`', description: '`public` URLs, or `signed` (presigned GET) for private buckets.' },
  S3_URL_TTL: { default: '`86400`', description: 'Lifetime of signed URLs, in seconds (at most 604800).' },
  S3_PART_SIZE_MB: { default: '`8`', description: 'Multipart part size in MiB (at least 5); files up to one part go in a single PutObject.' },
  S3_QUEUE_SIZE: { default: '`2`', description: 'Parts uploaded in parallel; an upload holds about (queue + 1) × part size in memory.' },
  S3_CONNECT_TIMEOUT_MS: { default: '`5000`', description: 'Longest wait for a connection to S3.' },
  S3_REQUEST_TIMEOUT_MS: { default: '`30000`', description: 'Longest one S3 request may take or stall; a hung backend fails an upload within about (attempts + 1) × this.' },
  S3_MAX_ATTEMPTS: { default: '`3`', description: 'Tries per S3 request, the first included.' },
  GCS_BUCKET: { default: '(required for `gcs`)', description: 'Bucket to store attachments in.' },
  GCS_PROJECT_ID: { default: '(from credentials)', description: 'Google Cloud project.' },
  GCS_API_ENDPOINT: { default: '`STORAGE_EMULATOR_HOST`, else Google', description: 'JSON API endpoint (an emulator or fake-gcs-server).' },
  GCS_URL_MODE: { default: '`public`', description: '`public` URLs, or `signed` (V4 signed GET) for private buckets.' },
  GCS_URL_TTL: { default: '`86400`', description: 'Lifetime of signed URLs, in seconds (at most 604800).' },
  GCS_RESUMABLE_THRESHOLD_BYTES: { default: '`8388608`', description: 'Files up to this size go up in one request; larger ones as a resumable upload. Also the memory an upload holds.' },
  GCS_REQUEST_TIMEOUT_MS: { default: '`30000`', description: 'Longest one GCS request may go without an answer (for resumable uploads: without a byte moving).' },
  GCS_MAX_RETRIES: { default: '`2`', description: 'Retries of transient GCS failures (408, 429, 5xx, resets); 0 disables them.' },
} as const satisfies Record<string, { default: string; description: string }>;

export type UrlMode = 'public' | 'signed';

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
      readonly partSizeBytes: number;
      readonly queueSize: number;
      readonly connectionTimeoutMs: number;
      readonly requestTimeoutMs: number;
      readonly maxAttempts: number;
    }
  | {
      readonly driver: 'gcs';
      readonly bucket: string;
      readonly projectId: string | undefined;
      readonly apiEndpoint: string | undefined;
      readonly publicBaseUrl: string | undefined;
      readonly urlMode: UrlMode;
      readonly urlTtlSeconds: number;
      readonly resumableThresholdBytes: number;
      readonly requestTimeoutMs: number;
      readonly maxRetries: number;
    };

/** The introspection adapter's own options, minus what only tests inject. */
export type IntrospectionConfig = Omit<HttpIntrospectionAuthOptions, 'now'>;

export interface HttpServerConfig {
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  /** Origins allowed to call attache from a browser; empty: no CORS headers at all. */
  readonly corsOrigins: readonly string[];
}
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly production: boolean;
  readonly maxFileSize: number;
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
}

/** Start-up fails with this; its message is one line naming the variable and what is wrong. */
export class ConfigError extends Error {
  constructor(variable: string, problem: string) {
    super(`${variable}: ${problem}`);
    this.name = 'ConfigError';
  }
}

const optional = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();
const integer = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));
const bool = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no'], 'must be true or false'))
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const httpUrl = z
  .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
  .transform((v) => v.replace(/\/+$/, ''));
/** A dotted path of JSON field names, e.g. `user.role`. */
const fieldPath = z
  .string()
  .trim()
  .regex(/^[^.\s]+(\.[^.\s]+)*$/, 'must be a field name or a dotted path such as user.role');
const origin = z
  .url({ protocol: /^https?$/, error: 'must list origins such as https://app.example.com' })
  .transform((v) => new URL(v))
  .refine((u) => u.pathname === '/' && !u.search && !u.hash && !u.username, 'must list origins (scheme://host[:port]) without a path')
  .transform((u) => u.origin);
const originList = z
  .string()
  .transform((v) => v.split(',').map((o) => o.trim()).filter((o) => o !== ''))
  .pipe(z.array(origin));
const urlMode = z.enum(['public', 'signed'], 'must be public or signed');
const SIGNED_URL_MAX_TTL = 604_800; // SigV4 and GCS V4 signatures are valid for at most 7 days

const environment = z.object({
  PORT: integer(0, 65535).default(8080),
  HOST: z.string().trim().min(1, 'must not be empty').default('127.0.0.1'),
  STORAGE_DRIVER: z.enum(['local', 'memory', 's3', 'gcs'], 'must be one of local, memory, s3, gcs').default('local'),
  LOCAL_STORAGE_DIR: z.string().trim().min(1, 'must not be empty').default('./data/uploads'),
  PUBLIC_BASE_URL: httpUrl.optional(),
  MAX_FILE_SIZE: integer(1, Number.MAX_SAFE_INTEGER).default(26_214_400),
  AUTH_TOKENS_FILE: optional,
  NODE_ENV: optional,
  // Kept exactly as given: APIs such as Django's tell /me from /me/.
  AUTH_INTROSPECTION_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  AUTH_ROLE_FIELD: fieldPath.optional(),
  AUTH_ID_FIELD: fieldPath.optional(),
  AUTH_CACHE_TTL: integer(0, 86_400).optional(),
  AUTH_NEGATIVE_CACHE_TTL: integer(0, 86_400).optional(),
  AUTH_CACHE_MAX_ENTRIES: integer(1, 10_000_000).optional(),
  AUTH_TIMEOUT_MS: integer(1, 60_000).optional(),
  CONTENT_CHECK: z.string().trim().toLowerCase().pipe(z.enum(['on', 'off'], 'must be on or off')).default('on'),
  CORS_ORIGINS: originList.default([]),
  HTTP_HEADERS_TIMEOUT_MS: integer(1000, 600_000).default(20_000),
  HTTP_REQUEST_TIMEOUT_MS: integer(1000, 86_400_000).default(300_000),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: integer(0, 600_000).default(5_000),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'must be one of fatal, error, warn, info, debug, trace, silent')
    .default('info'),
  LOG_FORMAT: z.enum(['json', 'pretty'], 'must be json or pretty').optional(),
  // An hour is far beyond any orchestrator's termination grace period; a larger value is a typo.
  SHUTDOWN_GRACE_MS: integer(0, 3_600_000).default(25_000),
  S3_BUCKET: optional,
  S3_REGION: z.string().trim().min(1).default('us-east-1'),
  S3_ENDPOINT: httpUrl.optional(),
  S3_FORCE_PATH_STYLE: bool.optional(),
  S3_URL_MODE: urlMode.default('public'),
  S3_URL_TTL: integer(1, SIGNED_URL_MAX_TTL).default(86_400),
  S3_PART_SIZE_MB: integer(5, 5 * 1024).default(8),
  S3_QUEUE_SIZE: integer(1, 64).default(2),
  S3_CONNECT_TIMEOUT_MS: integer(1, 600_000).default(5000),
  S3_REQUEST_TIMEOUT_MS: integer(1, 3_600_000).default(30_000),
  S3_MAX_ATTEMPTS: integer(1, 10).default(3),
  GCS_BUCKET: optional,
  GCS_PROJECT_ID: optional,
  GCS_API_ENDPOINT: httpUrl.optional(),
  STORAGE_EMULATOR_HOST: optional,
  GCS_URL_MODE: urlMode.default('public'),
  GCS_URL_TTL: integer(1, SIGNED_URL_MAX_TTL).default(86_400),
  GCS_RESUMABLE_THRESHOLD_BYTES: integer(1, 1024 * 1024 * 1024).default(8 * 1024 * 1024),
  GCS_REQUEST_TIMEOUT_MS: integer(1, 3_600_000).default(30_000),
  GCS_MAX_RETRIES: integer(0, 10).default(2),
});

/** Reads and validates the configuration; throws ConfigError on the first invalid variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable means "not set", as in most shells' `VAR= command`.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ''));
  const parsed = environment.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0]);
    throw new ConfigError(variable, `${issue.message} (got ${JSON.stringify(env[variable])})`);
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  if (e.HTTP_HEADERS_TIMEOUT_MS > e.HTTP_REQUEST_TIMEOUT_MS) {
    throw new ConfigError('HTTP_HEADERS_TIMEOUT_MS', `must not exceed HTTP_REQUEST_TIMEOUT_MS (${e.HTTP_REQUEST_TIMEOUT_MS})`);
  }
  return {
    port: e.PORT,
    host: e.HOST,
    production,
    maxFileSize: e.MAX_FILE_SIZE,
    authTokensFile: e.AUTH_TOKENS_FILE,
    authIntrospection: introspectionConfig(e),
    contentCheck: e.CONTENT_CHECK === 'on',
    http: {
      headersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: e.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      corsOrigins: e.CORS_ORIGINS,
    },
    storage: storageConfig(e),
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
  };
}

const INTROSPECTION_ONLY = ['AUTH_ROLE_FIELD', 'AUTH_ID_FIELD', 'AUTH_CACHE_TTL', 'AUTH_NEGATIVE_CACHE_TTL', 'AUTH_CACHE_MAX_ENTRIES', 'AUTH_TIMEOUT_MS'] as const;

/**
 * Tokens come from exactly one place: a file or the platform's API. Both at once would leave
 * operators guessing which one refused a token, so it is a configuration error, as is tuning
 * introspection that is not in use.
 */
function introspectionConfig(e: z.infer<typeof environment>): IntrospectionConfig | undefined {
  if (e.AUTH_INTROSPECTION_URL === undefined) {
    const stray = INTROSPECTION_ONLY.find((name) => e[name] !== undefined);
    if (stray) throw new ConfigError(stray, 'applies only with AUTH_INTROSPECTION_URL, which is not set');
    return undefined;
  }
  if (e.AUTH_TOKENS_FILE !== undefined) {
    throw new ConfigError('AUTH_INTROSPECTION_URL', 'cannot be combined with AUTH_TOKENS_FILE; set only one of them');
  }
  return {
    url: e.AUTH_INTROSPECTION_URL,
    roleField: e.AUTH_ROLE_FIELD ?? 'role',
    idField: e.AUTH_ID_FIELD ?? 'id',
    cacheTtlSeconds: e.AUTH_CACHE_TTL ?? 60,
    negativeCacheTtlSeconds: e.AUTH_NEGATIVE_CACHE_TTL ?? 10,
    cacheMaxEntries: e.AUTH_CACHE_MAX_ENTRIES ?? 10_000,
    timeoutMs: e.AUTH_TIMEOUT_MS ?? 3_000,
  };
}

function storageConfig(e: z.infer<typeof environment>): StorageConfig {
  switch (e.STORAGE_DRIVER) {
    case 'local':
      return { driver: 'local', dir: e.LOCAL_STORAGE_DIR, publicBaseUrl: e.PUBLIC_BASE_URL };
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
        publicBaseUrl: e.PUBLIC_BASE_URL,
        urlMode: e.S3_URL_MODE,
        urlTtlSeconds: e.S3_URL_TTL,
        partSizeBytes: e.S3_PART_SIZE_MB * 1024 * 1024,
        queueSize: e.S3_QUEUE_SIZE,
        connectionTimeoutMs: e.S3_CONNECT_TIMEOUT_MS,
        requestTimeoutMs: e.S3_REQUEST_TIMEOUT_MS,
        maxAttempts: e.S3_MAX_ATTEMPTS,
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
        publicBaseUrl: e.PUBLIC_BASE_URL,
        urlMode: e.GCS_URL_MODE,
        urlTtlSeconds: e.GCS_URL_TTL,
        resumableThresholdBytes: e.GCS_RESUMABLE_THRESHOLD_BYTES,
        requestTimeoutMs: e.GCS_REQUEST_TIMEOUT_MS,
        maxRetries: e.GCS_MAX_RETRIES,
      };
    }
  }
}

/** The README's configuration table, generated from ENVIRONMENT_VARIABLES (`npm run docs` writes it). */
export function configurationTable(): string {
  const cell = (text: string) => text.replaceAll('|', '\\|');
  const rows = Object.entries(ENVIRONMENT_VARIABLES).map(([name, v]) => `| \`${name}\` | ${cell(v.default)} | ${cell(v.description)} |`);
  return ['| Variable | Default | Meaning |', '| --- | --- | --- |', ...rows].join('\n');
}
