import { STATUS_CODES } from 'node:http';
import type { ErrorResponse } from './error-responses.ts';

/** A complete HTTP/1.1 answer with a JSON body, for sockets Koa never sees. */
export function rawJsonAnswer({ status, body }: ErrorResponse, headers: Record<string, string> = {}): string {
  const json = JSON.stringify(body);
  const extra = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
    `Content-Length: ${Buffer.byteLength(json)}\r\n${extra}Connection: close\r\n\r\n${json}`
  );
}
