import { z } from 'zod';

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
  NODE_ENV: { default: '(unset)', description: '`production` refuses to start without `AUTH_TOKENS_FILE`, and never logs in the pretty format.' },
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
  GCS_BUCKET: { default: '(required for `gcs`)', description: 'Bucket to store attachments in.' },
  GCS_PROJECT_ID: { default: '(from credentials)', description: 'Google Cloud project.' },
  GCS_API_ENDPOINT: { default: '`STORAGE_EMULATOR_HOST`, else Google', description: 'JSON API endpoint (an emulator or fake-gcs-server).' },
  GCS_URL_MODE: { default: '`public`', description: '`public` URLs, or `signed` (V4 signed GET) for private buckets.' },
  GCS_URL_TTL: { default: '`86400`', description: 'Lifetime of signed URLs, in seconds (at most 604800).' },
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
    }
  | {
      readonly driver: 'gcs';
      readonly bucket: string;
      readonly projectId: string | undefined;
      readonly apiEndpoint: string | undefined;
      readonly publicBaseUrl: string | undefined;
      readonly urlMode: UrlMode;
      readonly urlTtlSeconds: number;
    };

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly production: boolean;
  readonly maxFileSize: number;
  readonly authTokensFile: string | undefined;
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
  GCS_BUCKET: optional,
  GCS_PROJECT_ID: optional,
  GCS_API_ENDPOINT: httpUrl.optional(),
  STORAGE_EMULATOR_HOST: optional,
  GCS_URL_MODE: urlMode.default('public'),
  GCS_URL_TTL: integer(1, SIGNED_URL_MAX_TTL).default(86_400),
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
  return {
    port: e.PORT,
    host: e.HOST,
    production,
    maxFileSize: e.MAX_FILE_SIZE,
    authTokensFile: e.AUTH_TOKENS_FILE,
    storage: storageConfig(e),
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
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
      return {
        driver: 's3',
        bucket: e.S3_BUCKET,
        region: e.S3_REGION,
        endpoint: e.S3_ENDPOINT,
        forcePathStyle: e.S3_FORCE_PATH_STYLE ?? e.S3_ENDPOINT !== undefined,
        publicBaseUrl: e.PUBLIC_BASE_URL,
        urlMode: e.S3_URL_MODE,
        urlTtlSeconds: e.S3_URL_TTL,
      };
    case 'gcs': {
      if (!e.GCS_BUCKET) throw new ConfigError('GCS_BUCKET', 'is required when STORAGE_DRIVER=gcs');
      const emulator = e.STORAGE_EMULATOR_HOST;
      return {
        driver: 'gcs',
        bucket: e.GCS_BUCKET,
        projectId: e.GCS_PROJECT_ID,
        apiEndpoint: e.GCS_API_ENDPOINT ?? (emulator ? (emulator.startsWith('http') ? emulator : `http://${emulator}`) : undefined),
        publicBaseUrl: e.PUBLIC_BASE_URL,
        urlMode: e.GCS_URL_MODE,
        urlTtlSeconds: e.GCS_URL_TTL,
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
