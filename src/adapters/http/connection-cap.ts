import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { ErrorResponse } from './error-responses.ts';
import { rawJsonAnswer } from './raw-answer.ts';

/** Connections open now, and how many were refused over the cap since the server started. */
export interface ConnectionCounts {
  readonly open: number;
  readonly refused: number;
}

/** What a connection over the cap is answered, before its request is read. */
export const OVER_CAPACITY: ErrorResponse = { status: 503, body: { error: 'Service unavailable', detail: 'too many connections; retry shortly' } };
/** What such a connection may still send (its request) before it is closed: read and thrown away. */
const REFUSED_DISCARD_MAX_BYTES = 64 * 1024;
const REFUSED_DISCARD_MAX_MS = 1000;

/**
 * Caps the connections open at once at `max` (each one costs a file descriptor and some memory,
 * and 1,000 clients trickling bytes would otherwise hold 1,000). A connection over the cap gets
 * a JSON 503 with `Retry-After` and is closed, instead of Node's `maxConnections`, which closes it
 * without a word (clients then see "connection reset" and cannot tell overload from a crash).
 * Returns the live counts, for the metrics.
 */
export function capConnections(server: Server, max: number): ConnectionCounts {
  const [serveConnection] = server.listeners('connection') as Array<(socket: Socket) => void>;
  if (serveConnection === undefined) throw new Error('capConnections: the HTTP server has no connection listener');
  server.removeListener('connection', serveConnection);
  const counts = { open: 0, refused: 0 };
  server.on('connection', (socket: Socket) => {
    if (counts.open >= max) {
      counts.refused += 1;
      refuse(socket);
      return;
    }
    counts.open += 1;
    socket.once('close', () => {
      counts.open -= 1;
    });
    serveConnection.call(server, socket);
  });
  return counts;
}

function refuse(socket: Socket): void {
  socket.on('error', () => socket.destroy());
  socket.end(rawJsonAnswer(OVER_CAPACITY, { 'Retry-After': '1' }));
  // The client may still be sending its request: read a little of it so that the close is a FIN
  // after the answer, not a reset that could reach the client before the answer does.
  let discarded = 0;
  const timer = setTimeout(() => socket.destroy(), REFUSED_DISCARD_MAX_MS);
  timer.unref();
  socket.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > REFUSED_DISCARD_MAX_BYTES) socket.destroy();
  });
  socket.once('close', () => clearTimeout(timer));
}
