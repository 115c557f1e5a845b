import type { Duplex } from 'node:stream';
import { parserErrorResponse } from './error-responses.ts';
import { rawJsonAnswer } from './raw-answer.ts';

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
  socket.end(rawJsonAnswer(parserErrorResponse(error.code)));
}
