import { DomainError, QuotaExceeded, TooManyRequests } from '../../domain/errors.ts';
import { refusalHeaders } from './rate-limit-headers.ts';

export interface ErrorResponse {
  readonly status: number;
  readonly body: { readonly error: string; readonly detail?: string };
  /** Headers the answer needs (Retry-After and the RateLimit fields for a 429). */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * The one place where domain errors become HTTP statuses. The `error` strings are the spec's
 * exact words where the spec names them; `detail` explains, and is left out when there is none.
 */
export const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  ATTACHMENT_NOT_FOUND: 404,
  FILE_REQUIRED: 400,
  UNSUPPORTED_FILE_TYPE: 400,
  INVALID_SESSION_ID: 400,
  INVALID_FILE_NAME: 400,
  INVALID_UPLOAD: 400,
  FILE_TOO_LARGE: 413,
  FILE_TOO_LARGE_TO_SCAN: 413,
  REQUEST_BODY_TOO_LARGE: 413,
  MALWARE_FOUND: 422,
  OBJECT_ALREADY_EXISTS: 409,
  STORAGE_UNAVAILABLE: 503,
  AUTHENTICATION_UNAVAILABLE: 503,
  SCANNER_UNAVAILABLE: 503,
  SHUTTING_DOWN: 503,
  CHECKSUM_MISMATCH: 400,
  UPLOAD_NOT_FOUND: 404,
  UPLOAD_INCOMPLETE: 409,
  TOO_MANY_REQUESTS: 429,
  QUOTA_EXCEEDED: 429,
  LIMITS_UNAVAILABLE: 503,
  UPLOAD_OFFSET_MISMATCH: 409,
  PROTOCOL_VERSION_UNSUPPORTED: 412,
  WRONG_CONTENT_TYPE: 415,
  INVALID_IDEMPOTENCY_KEY: 400,
  UPLOAD_IN_PROGRESS: 409,
  IDEMPOTENCY_KEY_REUSED: 422,
  IDEMPOTENCY_UNAVAILABLE: 503,
  UPLOAD_METHOD_UNSUPPORTED: 501,
};

/** Details that would help an attacker probe tokens (or direct uploads' ids) are not returned. */
const HIDE_DETAIL: ReadonlySet<string> = new Set([
  'UNAUTHORIZED',
  'STORAGE_UNAVAILABLE',
  'AUTHENTICATION_UNAVAILABLE',
  'SCANNER_UNAVAILABLE',
  'LIMITS_UNAVAILABLE',
  'IDEMPOTENCY_UNAVAILABLE',
  'UPLOAD_NOT_FOUND',
  'UPLOAD_INCOMPLETE',
]);

export function errorResponse(error: unknown): ErrorResponse {
  if (error instanceof DomainError) {
    const status = STATUS_BY_CODE[error.code];
    if (status !== undefined) {
      const detail = HIDE_DETAIL.has(error.code) ? undefined : error.detail;
      const body = detail === undefined ? { error: error.message } : { error: error.message, detail };
      if (error instanceof TooManyRequests || error instanceof QuotaExceeded) return { status, body, headers: refusalHeaders(error.limit) };
      return { status, body };
    }
  }
  // Anything not known above is a bug: a 500 whose message is not exposed (koa's own rule).
  return { status: 500, body: { error: 'Internal server error' } };
}

export const notFound: ErrorResponse = { status: 404, body: { error: 'Not found' } };
export const methodNotAllowed: ErrorResponse = { status: 405, body: { error: 'Method not allowed' } };
/** A method no route knows (TRACE, PROPFIND…): koa-router's 501, which Koa answered in plain text. */
export function methodNotImplemented(method: string): ErrorResponse {
  return { status: 501, body: { error: 'Not implemented', detail: `attache answers no ${method} requests` } };
}
/** An HTTP/1.1 request without a Host header (RFC 9112 §3.2), answered before Koa sees it. */
export const missingHost: ErrorResponse = { status: 400, body: { error: 'Bad request', detail: 'an HTTP/1.1 request needs a Host header' } };
/** An `Expect` header other than `100-continue` (RFC 9110 §10.1.1), answered before Koa sees the request. */
export const expectationFailed: ErrorResponse = { status: 417, body: { error: 'Expectation failed', detail: 'only "Expect: 100-continue" is understood' } };

/**
 * Answers to requests Node's HTTP parser refuses before Koa sees them (malformed request line
 * or headers, headers too large, a client too slow to send its request): JSON like every other
 * answer, instead of Node's bare "400 Bad Request".
 */
export function parserErrorResponse(code: string | undefined): ErrorResponse {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, body: { error: 'Request header fields too large' } };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, body: { error: 'Request timeout' } };
    default:
      return { status: 400, body: { error: 'Bad request' } };
  }
}
