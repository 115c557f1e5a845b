import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { expectationFailed, parserErrorResponse } from './error-responses.ts';
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

/**
 * For `server.on('checkExpectation', ...)`: a request expecting something other than
 * `100-continue` gets 417 in JSON (Node's own answer has no body), and its connection is closed
 * rather than left to a body the client may or may not send.
 */
export function answerUnmetExpectation(_request: IncomingMessage, response: ServerResponse): void {
  const json = JSON.stringify(expectationFailed.body);
  response.writeHead(expectationFailed.status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(json), Connection: 'close' });
  response.end(json);
}
