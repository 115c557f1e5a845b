import { z } from 'zod';
import { documented, optional, integer, onOff, fieldPath, originList } from './variable-syntax.ts';

/** Who may upload and what: tokens (a file, or the platform's introspection endpoint), the content check, browser origins. */
export const ACCESS_VARIABLES = {
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
};
