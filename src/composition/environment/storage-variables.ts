import { documented, text, optional, integer, bool, onOff, httpUrl, urlMode, payloadSigning, SIGNED_URL_MAX_TTL } from './variable-syntax.ts';

/** The storage backends (S3, GCS, Azure), with the settings every bucket shares (retention, the check at start, redirect links). */
export const STORAGE_VARIABLES = {
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
};
