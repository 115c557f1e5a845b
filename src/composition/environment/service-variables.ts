import { z } from 'zod';
import { documented, text, integer, httpUrl } from './variable-syntax.ts';

/** Where the service listens, where files go, and how large they may be: what a first run sets. */
export const SERVICE_VARIABLES = {
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
};
