import { z } from 'zod';
import { addressList, byteQuota, rateLimit } from '../limit-syntax.ts';
import { documented, integer } from './variable-syntax.ts';

/** Limits shared by every instance (REDIS_URL), and Idempotency-Keys. */
export const LIMIT_VARIABLES = {
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
    doc: 'Bytes per principal per window, e.g. `5GB/1d` (KB…TB by 1000, KiB…TiB by 1024): reserved from `Content-Length` (else `MAX_FILE_SIZE`) when an upload starts (a direct upload: its announced size; tus: `Upload-Length`), settled with the size stored, given back when it fails; an Uppy multipart upload, which announces no size, is charged the total of its parts at completion; over it: 429 `Quota exceeded`.',
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
};
