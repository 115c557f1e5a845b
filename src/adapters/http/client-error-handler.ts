import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { expectationFailed, methodNotAllowed, missingHost, parserErrorResponse, type ErrorResponse } from './error-responses.ts';
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
  answerAndClose(response, expectationFailed);
}

/**
 * For the request listener, before the app (with `requireHostHeader: false`, under which Node
 * no longer answers a bare 400 itself): true when an HTTP/1.1 request has no Host and was answered
 * 400 in JSON, the connection then closed.
 */
export function answeredMissingHost(request: IncomingMessage, response: ServerResponse): boolean {
  if (request.httpVersion !== '1.1' || request.headers.host !== undefined) return false;
  answerAndClose(response, missingHost);
  return true;
}

/** For `server.on('connect', ...)`: CONNECT (attache is no proxy) gets 405 in JSON, not a closed socket. */
export function answerConnect(_request: IncomingMessage, socket: Duplex): void {
  socket.on('error', () => {});
  socket.end(rawJsonAnswer(methodNotAllowed, { Allow: 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS' }));
}

function answerAndClose(response: ServerResponse, { status, body }: ErrorResponse): void {
  const json = JSON.stringify(body);
  response.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(json), Connection: 'close' });
  response.end(json);
}
