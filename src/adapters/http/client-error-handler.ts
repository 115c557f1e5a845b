import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { parserErrorResponse } from './error-responses.ts';

/**
 * For `server.on('clientError', ...)`: answers a request the HTTP parser refused with a JSON
 * error and closes the connection (it cannot be reused: the parser has lost its place).
 * A connection already gone or reset gets nothing.
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const { status, body } = parserErrorResponse(error.code);
  const json = JSON.stringify(body);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(json)}\r\nConnection: close\r\n\r\n${json}`,
  );
}
