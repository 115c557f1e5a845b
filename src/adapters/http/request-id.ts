import { randomUUID } from 'node:crypto';

/**
 * A client's or proxy's X-Request-Id is kept when it is a plain token, so one id follows a
 * request across services; anything else (too long, spaces, quotes, control characters that
 * could forge log lines or headers) is replaced by a fresh UUID.
 */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:@\/+=-]{1,128}$/;

export function requestIdFor(incoming: string | string[] | undefined): string {
  const value = Array.isArray(incoming) ? undefined : incoming;
  return value !== undefined && SANE_REQUEST_ID.test(value) ? value : randomUUID();
}
