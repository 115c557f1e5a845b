import { z } from 'zod';
import { addressList, byteQuota, rateLimit } from './limit-syntax.ts';

/**
 * Every environment variable attache reads: its name, how it is validated, its default and its
 * documentation, each written once, here. loadConfig (config.ts) parses with this schema; the
 * configuration table in docs/ is generated from it (`npm run docs`), and a test checks that
 * nothing in src/ reads a variable this table lacks.
 */

/** A variable's documentation; `default` is for defaults that are not one plain value. */
type Doc = {
  readonly doc: string;
  readonly default?: string;
  /** Read only by the `attache` command, not by the service. */
  readonly cliOnly?: boolean;
};
const documented = <T extends z.ZodType>(schema: T, doc: Doc): T => schema.meta(doc) as T;

const text = z.string().trim().min(1, 'must not be empty');
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
const onOff = z.string().trim().toLowerCase().pipe(z.enum(['on', 'off'], 'must be on or off'));
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).transform((v) => v.replace(/\/+$/, ''));
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
  .transform((v) =>
    v
      .split(',')
      .map((o) => o.trim())
      .filter((o) => o !== ''),
  )
  .pipe(z.array(origin));
/** PREVIEW_MAX_HELD_BYTES when neither it nor a larger MAX_FILE_SIZE is set. */
export const DEFAULT_PREVIEW_MAX_HELD_BYTES = 64 * 1024 * 1024;
const urlMode = z.enum(['public', 'signed', 'redirect'], 'must be public, signed or redirect');
const payloadSigning = z.enum(['auto', 'unsigned-over-https', 'always'], 'must be auto, unsigned-over-https or always');
/** SigV4 and GCS V4 signatures are valid for at most 7 days (and so, for the same links, Azure SAS here). */
const SIGNED_URL_MAX_TTL = 604_800;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const ENVIRONMENT = z.object({
  PORT: documented(integer(0, 65535).default(8080), { doc: 'TCP port to listen on.' }),
  HOST: documented(text.default('127.0.0.1'), { doc: 'Address to listen on (`0.0.0.0` for all interfaces).' }),
  STORAGE_DRIVER: documented(z.enum(['local', 'memory', 's3', 'gcs', 'azure'], 'must be one of local, memory, s3, gcs, azure').default('local'), {
    doc: '`local` (files on this machine), `memory` (lost on restart), `s3`, `gcs` or `azure`.',
  }),
  LOCAL_STORAGE_DIR: documented(text.optional(), {
    default: "`data/uploads` in attache's own folder (the checkout, or the installed package)",
    doc: 'Where the `local` driver keeps files, for the service and the `attache` command alike; a relative path is relative to the service\'s working directory (the checkout under `npm start`), and to where the `attache` command was typed.',
  }),
  PUBLIC_BASE_URL: documented(httpUrl.optional(), {
    default: '`http://localhost:PORT/files` for `local`/`memory`; the bucket or container URL for `s3`/`gcs`/`azure`; `http://localhost:PORT` with `redirect` URLs',
    doc: 'Base of returned URLs (a CDN, or the address clients reach attache at). The object key is appended; with `S3_URL_MODE`/`GCS_URL_MODE`/`AZURE_URL_MODE=redirect`, it is the address clients reach attache at, and `/v1/chat/files/KEY` is appended.',
  }),
  MAX_FILE_SIZE: documented(integer(1, Number.MAX_SAFE_INTEGER).default(26_214_400), { doc: 'Largest accepted file, in bytes (25 MiB); larger uploads get 413.' }),
  AUTH_TOKENS_FILE: documented(optional, {
    default: '(none: development tokens are generated, unless `NODE_ENV=production`)',
    doc: 'JSON file `{"tokens":[{"token":"...","role":"admin"|"store","id":"7"}]}` of accepted tokens; a relative path is taken as `LOCAL_STORAGE_DIR`\'s is. Unreadable or invalid: attache refuses to start.',
  }),
  // Kept exactly as given: APIs such as Django's tell /me from /me/.
  AUTH_INTROSPECTION_URL: documented(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(), {
    doc: "The platform's endpoint that answers who holds a token: attache GETs it with the caller's `Authorization: Token <t>` header. Use it or `AUTH_TOKENS_FILE`, not both.",
  }),
  AUTH_ROLE_FIELD: documented(fieldPath.default('role'), {
    doc: 'Field of the introspection answer holding the role (`admin`/`store`); dotted paths such as `user.role` reach into objects.',
  }),
  AUTH_ID_FIELD: documented(fieldPath.default('id'), { doc: 'Field of the introspection answer holding the admin or store id; dotted paths allowed.' }),
  AUTH_CACHE_TTL: documented(integer(0, 86_400).default(60), { doc: 'Seconds an introspection answer for a valid token is reused (0 disables caching).' }),
  AUTH_NEGATIVE_CACHE_TTL: documented(integer(0, 86_400).default(10), {
    doc: 'Seconds an unknown-token answer is reused, so repeated bad tokens do not reach the backend each time.',
  }),
  AUTH_CACHE_MAX_ENTRIES: documented(integer(1, 10_000_000).default(10_000), { doc: 'Most tokens whose answers are cached at once, known and unknown tokens each in a cache of their own (so made-up tokens cannot evict valid ones); the oldest are dropped first.' }),
  AUTH_TIMEOUT_MS: documented(integer(1, 60_000).default(3000), { doc: 'How long an introspection request may take before the upload is answered 503.' }),
  CONTENT_CHECK: documented(onOff.default('on'), {
    doc: "`on`: a file's leading bytes must match its extension (JPEG, PNG, GIF, HEIC/HEIF, PDF, OLE2 DOC/XLS, OOXML DOCX/XLSX, password-protected DOCX/XLSX); `off`: the extension alone decides.",
  }),
  CORS_ORIGINS: documented(originList.default([]), {
    default: '(none: no CORS headers)',
    doc: 'Comma-separated browser origins (`https://app.example.com`) allowed to upload from a web page.',
  }),
  HTTP_HEADERS_TIMEOUT_MS: documented(integer(1000, 600_000).default(20_000), { doc: "Time a client has to send a request's headers." }),
  HTTP_REQUEST_TIMEOUT_MS: documented(integer(1000, 86_400_000).default(300_000), {
    doc: 'Time a client has to send a whole request, body included (a 25 MiB upload at 1 Mbit/s takes ~210 s).',
  }),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: documented(integer(0, 600_000).default(5000), {
    doc: 'How long an idle keep-alive connection stays open; keep it above your load balancer’s idle timeout: `65000` behind one whose idle timeout is 60 s (AWS ALB’s and nginx’s upstream default; operations.md).',
  }),
  MAX_CONNECTIONS: documented(integer(1, 1_000_000).default(8192), {
    doc: 'Most client connections open at once; one more is answered 503 and closed. Each holds a file descriptor: keep it a few hundred below the process’s limit (`ulimit -Hn`, which Node raises its soft limit to; systemd’s `LimitNOFILE`).',
  }),
  NODE_ENV: documented(optional, {
    default: '(unset)',
    doc: '`production` refuses to start without `AUTH_TOKENS_FILE` or `AUTH_INTROSPECTION_URL`, never makes development tokens, and never logs in the pretty format.',
  }),
  LOG_LEVEL: documented(z.enum(LOG_LEVELS, `must be one of ${LOG_LEVELS.join(', ')}`).default('info'), {
    doc: 'Least severe log level written: `fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`.',
  }),
  LOG_FORMAT: documented(z.enum(['json', 'pretty'], 'must be json or pretty').optional(), {
    default: '`pretty` when not production, stdout is a terminal and `pino-pretty` is installed; else `json`',
    doc: '`json` (one JSON object per line) or `pretty` (human-readable; needs the `pino-pretty` devDependency).',
  }),
  // An hour is far beyond any orchestrator's termination grace period; a larger value is a typo.
  SHUTDOWN_GRACE_MS: documented(integer(0, 3_600_000).default(25_000), {
    doc: 'On SIGTERM/SIGINT, how long uploads in flight may take to finish before their connections are closed.',
  }),
  REDIS_URL: documented(z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' }).optional(), {
    default: '(none: limits and `Idempotency-Key`s are kept in each process)',
    doc: 'A Valkey or Redis server (`redis://[user:password@]host:port[/db]`, `rediss://` for TLS) where every instance counts the limits below and keeps `Idempotency-Key`s; needed when more than one instance runs.',
  }),
  UPLOAD_RATE_LIMIT: documented(rateLimit.optional(), {
    default: '(none)',
    doc: 'Uploads per principal (admin or store id; the token’s hash where there is none) per window, e.g. `120/1m`; over it: 429 `Too many requests` before the body is read.',
  }),
  AUTH_FAILURE_LIMIT: documented(rateLimit.optional(), {
    default: '(none)',
    doc: 'Refused tokens per client address per window, e.g. `20/1m`; past it the address gets 429 `Too many requests`, whatever token it sends, until the window ends.',
  }),
  UPLOAD_QUOTA: documented(byteQuota.optional(), {
    default: '(none)',
    doc: 'Bytes per principal per window, e.g. `5GB/1d` (KB…TB by 1000, KiB…TiB by 1024): reserved from `Content-Length` (else `MAX_FILE_SIZE`) when an upload starts, settled with the size stored, given back when it fails; over it: 429 `Quota exceeded`.',
  }),
  RATE_LIMIT_ON_ERROR: documented(z.enum(['allow', 'reject'], 'must be allow or reject').default('allow'), {
    doc: 'When `REDIS_URL` cannot answer: `allow` (until it is back, each instance counts its share of each limit alone: the limit divided by the instances last seen) or `reject` (503 `Limits unavailable`). `/readyz`, metrics and logs say so either way.',
  }),
  IDEMPOTENCY_TTL: documented(integer(1, 30 * 86_400).default(86_400), {
    doc: 'Seconds an upload sent with an `Idempotency-Key` header is remembered (24 hours): a retry with the same key and file gets the first answer, nothing stored again. Kept in `REDIS_URL` when set (every instance sees it), else in the process.',
  }),
  TRUSTED_PROXIES: documented(addressList.default([]), {
    default: '(none: the peer address is the client)',
    doc: 'Comma-separated addresses or CIDR ranges of proxies (a load balancer) whose `X-Forwarded-For` is believed, so that `AUTH_FAILURE_LIMIT` counts clients, not the balancer.',
  }),
  S3_BUCKET: documented(optional, { default: '(required for `s3`)', doc: 'Bucket to store attachments in.' }),
  S3_REGION: documented(text.default('us-east-1'), { doc: 'Bucket region.' }),
  S3_ENDPOINT: documented(httpUrl.optional(), { default: '(AWS)', doc: 'Endpoint of an S3-compatible service (MinIO, Ceph, R2, B2, Wasabi).' }),
  S3_FORCE_PATH_STYLE: documented(bool.optional(), { default: '`true` when `S3_ENDPOINT` is set', doc: 'Address buckets as `ENDPOINT/BUCKET/KEY`.' }),
  S3_URL_MODE: documented(urlMode.default('public'), {
    doc: '`public` URLs, `signed` (presigned GET, dies after `S3_URL_TTL`) for private buckets, or `redirect`: links to attache that never expire (`PUBLIC_BASE_URL/v1/chat/files/KEY`), answered with a redirect to a fresh presigned URL.',
  }),
  S3_URL_TTL: documented(integer(1, SIGNED_URL_MAX_TTL).default(86_400), { doc: 'Lifetime of signed URLs, in seconds (at most 604800).' }),
  S3_PART_SIZE_MB: documented(integer(5, 5 * 1024).default(8), { doc: 'Multipart part size in MiB (at least 5); files up to one part go in a single PutObject.' }),
  S3_QUEUE_SIZE: documented(integer(1, 64).default(2), { doc: 'Parts uploaded in parallel; an upload holds about (queue + 1) × part size in memory.' }),
  S3_CONNECT_TIMEOUT_MS: documented(integer(1, 600_000).default(5000), { doc: 'Longest wait for a connection to S3.' }),
  S3_REQUEST_TIMEOUT_MS: documented(integer(1, 3_600_000).default(30_000), {
    doc: 'Longest one S3 request may take or stall; a hung backend fails an upload within about (attempts + 1) × this.',
  }),
  S3_MAX_ATTEMPTS: documented(integer(1, 10).default(3), { doc: 'Tries per S3 request, the first included.' }),
  S3_PAYLOAD_SIGNING: documented(payloadSigning.default('auto'), {
    doc: 'Multipart parts sent as `UNSIGNED-PAYLOAD` (TLS protects them; saves hashing every byte): `auto` to AWS S3 only, `unsigned-over-https` to any HTTPS endpoint; `always` signs them.',
  }),
  GCS_BUCKET: documented(optional, { default: '(required for `gcs`)', doc: 'Bucket to store attachments in.' }),
  GCS_PROJECT_ID: documented(optional, { default: '(from credentials)', doc: 'Google Cloud project.' }),
  GCS_API_ENDPOINT: documented(httpUrl.optional(), { default: '`STORAGE_EMULATOR_HOST`, else Google', doc: 'JSON API endpoint (an emulator or fake-gcs-server).' }),
  STORAGE_EMULATOR_HOST: documented(optional, {
    default: '(unset)',
    doc: "A GCS emulator's address (`host:port` or a URL), as Google's client libraries read it; attache then sends its GCS requests there. Must agree with `GCS_API_ENDPOINT` when both are set.",
  }),
  GCS_URL_MODE: documented(urlMode.default('public'), {
    doc: '`public` URLs, `signed` (V4 signed GET, dies after `GCS_URL_TTL`) for private buckets, or `redirect`: links to attache that never expire (`PUBLIC_BASE_URL/v1/chat/files/KEY`), answered with a redirect to a fresh signed URL.',
  }),
  RETENTION_DAYS: documented(integer(1, 36_500).optional(), {
    default: '(none: attachments are kept)',
    doc: 'Attachments and their previews expire this many days after their upload: a bucket lifecycle rule `attache storage setup` installs (`s3`, `gcs`), or the service’s hourly sweep (`local`, and `azure`, whose policy attache prints but cannot install).',
  }),
  STORAGE_CHECK: documented(onOff.default('on'), {
    doc: 'At start, check the bucket does what attache relies on (writable, a write to an existing key refused, a multi-part upload completes, the URL mode serves what was written) and refuse to start, in one line, when not. `off` skips it; `/readyz` checks reachability only.',
  }),
  REDIRECT_URL_TTL: documented(integer(2, SIGNED_URL_MAX_TTL).default(300), {
    doc: 'With `S3_URL_MODE`/`GCS_URL_MODE`/`AZURE_URL_MODE=redirect`: life of the presigned URL a link redirects to, in seconds; browsers and CDNs may reuse the redirect for half of it.',
  }),
  GCS_URL_TTL: documented(integer(1, SIGNED_URL_MAX_TTL).default(86_400), { doc: 'Lifetime of signed URLs, in seconds (at most 604800).' }),
  GCS_RESUMABLE_THRESHOLD_BYTES: documented(integer(1, 1024 * 1024 * 1024).default(8 * 1024 * 1024), {
    doc: 'Files up to this size go up in one request; larger ones as a resumable upload. Also the memory an upload holds.',
  }),
  GCS_REQUEST_TIMEOUT_MS: documented(integer(1, 3_600_000).default(30_000), {
    doc: 'Longest one GCS request may go without an answer (for resumable uploads: without a byte moving).',
  }),
  GCS_MAX_RETRIES: documented(integer(0, 10).default(2), { doc: 'Retries of transient GCS failures (408, 429, 5xx, resets); 0 disables them.' }),
  AZURE_STORAGE_CONTAINER: documented(optional, { default: '(required for `azure`)', doc: 'Blob container to store attachments in. It must exist.' }),
  AZURE_STORAGE_CONNECTION_STRING: documented(optional, {
    default: '(none)',
    doc: 'Storage account connection string (`AccountName=…;AccountKey=…`, a SAS one, or `UseDevelopmentStorage=true`). Use it or `AZURE_STORAGE_ACCOUNT`, not both.',
  }),
  AZURE_STORAGE_ACCOUNT: documented(optional, { default: '(none)', doc: 'Storage account name; with `AZURE_STORAGE_KEY`, or alone for the ambient identity (managed, workload or environment credentials).' }),
  AZURE_STORAGE_KEY: documented(optional, { default: '(none: ambient identity)', doc: "The account's shared key (base64)." }),
  AZURE_STORAGE_ENDPOINT: documented(httpUrl.optional(), {
    default: '`https://ACCOUNT.blob.core.windows.net`',
    doc: 'Blob service URL, account included (Azurite: `http://127.0.0.1:10000/devstoreaccount1`; a sovereign cloud).',
  }),
  AZURE_URL_MODE: documented(urlMode.default('public'), {
    doc: '`public` URLs (container with anonymous blob reads), `signed` (read-only SAS, dies after `AZURE_URL_TTL`: signed with the account key, or a user delegation SAS with the ambient identity), or `redirect`: links to attache that never expire (`PUBLIC_BASE_URL/v1/chat/files/KEY`), answered with a redirect to a fresh read-only SAS URL.',
  }),
  AZURE_URL_TTL: documented(integer(1, SIGNED_URL_MAX_TTL).default(86_400), { doc: 'Lifetime of SAS URLs, in seconds (at most 604800).' }),
  AZURE_BLOCK_SIZE_MB: documented(integer(1, 4000).default(8), { doc: 'Staged block size in MiB; files up to one block go in a single Put Blob.' }),
  AZURE_QUEUE_SIZE: documented(integer(1, 64).default(2), { doc: 'Blocks staged in parallel; an upload holds about (queue + 1) × block size in memory.' }),
  AZURE_REQUEST_TIMEOUT_MS: documented(integer(1, 3_600_000).default(30_000), {
    doc: 'Longest one Azure request may take until it is answered (a whole block must upload within it); a timed-out request is not retried.',
  }),
  AZURE_MAX_RETRIES: documented(integer(0, 10).default(2), { doc: 'Retries of refused or reset connections and 500/503 answers, per request; 0 disables them.' }),
  MALWARE_SCAN: documented(z.enum(['off', 'clamd'], 'must be off or clamd').default('off'), {
    doc: '`clamd`: every upload is scanned by ClamAV’s daemon as it streams, before a URL is handed out (infected: 422 `File rejected`); `off`: no scanning.',
  }),
  CLAMD_HOST: documented(text.default('127.0.0.1'), { doc: 'Host of clamd’s TCP socket (`TCPAddr`).' }),
  CLAMD_PORT: documented(integer(1, 65535).default(3310), { doc: 'Port of clamd’s TCP socket (`TCPSocket`).' }),
  CLAMD_SOCKET: documented(optional, { default: '(none: TCP)', doc: 'Path of clamd’s Unix socket (`LocalSocket`); used instead of host and port when set.' }),
  CLAMD_TIMEOUT_MS: documented(integer(100, 600_000).default(30_000), {
    doc: 'Longest clamd may take to connect, to take more bytes, or to answer once it has the whole file; at least its scan time for a MAX_FILE_SIZE file under load.',
  }),
  MALWARE_SCAN_ON_ERROR: documented(z.enum(['reject', 'accept'], 'must be reject or accept').default('reject'), {
    doc: 'When clamd cannot answer: `reject` (503 `Scanner unavailable`, nothing stored) or `accept` (stored unscanned, logged and counted). A file larger than clamd reads is refused either way.',
  }),
  PREVIEWS: documented(onOff.default('on'), {
    doc: '`on`: every image (JPEG, PNG, GIF, HEIC, HEIF) gets a WebP preview stored beside it, and the answer gains `preview_url`, `width`, `height`; `off`: none.',
  }),
  PREVIEW_MAX_PX: documented(integer(16, 8192).default(1280), { doc: 'Longest side of a preview, in pixels (smaller images are not enlarged).' }),
  PREVIEW_MAX_PIXELS: documented(integer(1, 1_000_000_000).default(50_000_000), {
    doc: 'Images declaring more pixels are stored without a preview (a decompression bomb never decodes).',
  }),
  PREVIEW_CONCURRENCY: documented(integer(1, 64).default(1), { doc: 'Images decoded at once; the others wait, their bytes in memory.' }),
  PREVIEW_MAX_WAITING: documented(integer(0, 1000).default(16), {
    doc: 'Whole images waiting for a decode beyond those being decoded; more are stored without a preview (`busy`).',
  }),
  PREVIEW_MAX_HELD_BYTES: documented(integer(0, Number.MAX_SAFE_INTEGER).optional(), {
    default: '67108864 (64 MiB), or `MAX_FILE_SIZE` when larger',
    doc: 'Bytes of images held in memory for previews across all uploads, from their first byte until decoded; an image that would go over is stored without a preview (`busy`). Bounds what previews hold, however slowly images arrive.',
  }),
  PREVIEW_TIMEOUT_MS: documented(integer(1000, 600_000).default(20_000), { doc: 'Longest one preview may take; a slower image is stored without one.' }),
  STRIP_METADATA: documented(onOff.default('off'), {
    doc: '`on`: JPEG and PNG originals lose EXIF (but their orientation), GPS, XMP, IPTC and comments as they are stored, without re-encoding; other types are stored as sent.',
  }),
  DIRECT_UPLOADS: documented(onOff.optional(), {
    default: '`on`; `off` with `NODE_ENV=production`',
    doc: "The direct-upload routes (`/v1/chat/upload/direct/`): clients send the bytes straight to storage, then attache checks what was stored. Opt-in in production, where it needs a `DIRECT_UPLOAD_SECRET` shared by every instance (and, for browsers, CORS on the bucket), so an upgrade never starts refusing to start; on elsewhere, so the documented examples work on the embedded default.",
  }),
  DIRECT_UPLOAD_SECRET: documented(z.string().min(32, 'must be at least 32 characters').optional(), {
    default: '(made up at every start, outside production)',
    doc: 'Key of the HMAC that signs `upload_id`s, at least 32 characters, the same on every instance; required with direct uploads on and `NODE_ENV=production`.',
  }),
  DIRECT_UPLOAD_PREVIOUS_SECRET: documented(z.string().min(32, 'must be at least 32 characters').optional(), {
    default: '(none)',
    doc: 'While rotating the secret: the one being replaced, whose `upload_id`s are still accepted (new ones are signed with `DIRECT_UPLOAD_SECRET`). Remove it twice `DIRECT_UPLOAD_TTL` after the switch.',
  }),
  DIRECT_UPLOAD_TTL: documented(integer(1, SIGNED_URL_MAX_TTL).default(900), {
    doc: "Seconds a direct upload's storage URL accepts bytes (15 minutes); its `upload_id` can be completed for as long again after that.",
  }),
  RESUMABLE_UPLOAD_TTL: documented(integer(60, 30 * 86_400).default(86_400), {
    doc: "Seconds a resumable upload (`/v1/chat/upload/resumable/`) takes requests after its creation (24 hours, its `Upload-Expires`); what was sent and never finished is then swept with the staged prefix (`attache storage setup`).",
  }),
  ATTACHE_TOKEN: documented(optional, { default: '(none)', doc: 'The token `attache upload` uses when `--token` is not given.', cliOnly: true }),
  INIT_CWD: documented(optional, {
    default: '(set by npm)',
    doc: 'Where `npm run attache -- …` was typed: npm sets it, and the file names given to `attache upload`, like relative `AUTH_TOKENS_FILE`, `LOCAL_STORAGE_DIR` and `CLAMD_SOCKET` paths, are relative to it.',
    cliOnly: true,
  }),
  CI: documented(optional, { default: '(unset)', doc: '`true` (as CI systems set it): `attache upload` draws no progress bar.', cliOnly: true }),
});

export type Environment = z.infer<typeof ENVIRONMENT>;

/** Every variable with its default and meaning, as the docs show them. */
export const ENVIRONMENT_VARIABLES: Readonly<Record<string, { readonly default: string; readonly description: string }>> = Object.fromEntries(
  Object.entries(ENVIRONMENT.shape).map(([name, schema]) => {
    const doc = schema.meta() as unknown as Doc;
    return [name, { default: doc.default ?? defaultOf(schema), description: doc.cliOnly ? `${doc.doc} (The \`attache\` command only.)` : doc.doc }];
  }),
);

/** The configuration table of docs/configuration.md, generated from ENVIRONMENT (`npm run docs` writes it). */
export function configurationTable(): string {
  const cell = (value: string) => value.replaceAll('|', '\\|');
  const rows = Object.entries(ENVIRONMENT_VARIABLES).map(([name, v]) => `| \`${name}\` | ${cell(v.default)} | ${cell(v.description)} |`);
  return ['| Variable | Default | Meaning |', '| --- | --- | --- |', ...rows].join('\n');
}

/** A schema's own default, as docs show it: `value`, or (none). */
function defaultOf(schema: z.ZodType): string {
  const def = (schema as { def: { type: string; defaultValue?: unknown } }).def;
  if (def.type !== 'default') return '(none)';
  const value = def.defaultValue;
  return Array.isArray(value) && value.length === 0 ? '(none)' : `\`${String(value)}\``;
}
