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
  NODE_ENV: { default: '(unset)', description: '`production` refuses to start without `AUTH_TOKENS_FILE`.' },
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

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly production: boolean;
  readonly maxFileSize: number;
  readonly authTokensFile: string | undefined;
  readonly storage: StorageConfig;
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
  return {
    port: e.PORT,
    host: e.HOST,
    production,
    maxFileSize: e.MAX_FILE_SIZE,
    authTokensFile: e.AUTH_TOKENS_FILE,
    storage: storageConfig(e),
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
      if (e.GCS_URL_MODE === 'signed' && e.PUBLIC_BASE_URL) {
        throw new ConfigError('PUBLIC_BASE_URL', 'cannot be combined with GCS_URL_MODE=signed (a signature is valid only for the storage host)');
      }
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
