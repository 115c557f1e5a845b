import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Context } from 'koa';

/**
 * A refused request whose whole body is at most this large (by its Content-Length) is read to its
 * end and thrown away after the answer, and its connection stays open for the client's next
 * request: a pooling client (undici, Node's http.Agent, requests.Session, aiohttp) sends that on
 * the same connection, and most of them never retry a POST that meets a closed one.
 */
export const KEEP_ALIVE_DISCARD_MAX_BYTES = 1024 * 1024;
/**
 * How long after the answer such a body may take to arrive: a client that sends it a byte every
 * few seconds (after a 401, say) would otherwise hold its connection until the request timeout.
 * 1 MiB in 5 s is 1.7 Mbit/s; a slower client has its answer and loses only the connection.
 */
export const KEEP_ALIVE_DISCARD_MAX_MS = 5000;
/** After `Connection: close`, how much more of the body is read and thrown away before closing. */
export const LINGER_MAX_BYTES = 4 * 1024 * 1024;
export const LINGER_MAX_MS = 5000;

/**
 * For an answer sent before the request body was read to its end (401 before the body, a refused
 * name or type, 413 mid-stream, a content mismatch, 503 while shutting down). Never keep-alive
 * followed by a reset:
 * - a small body (a Content-Length up to KEEP_ALIVE_DISCARD_MAX_BYTES) is read and thrown away
 *   (by the form parser, or by Node's server when nothing else reads it), and the connection
 *   stays usable, if the rest arrives within KEEP_ALIVE_DISCARD_MAX_MS of the answer;
 * - a larger body, or one of unknown length, gets `Connection: close` (RFC 9112 §9.6). Node would
 *   then close the socket as soon as the answer is written; with the client still sending, the
 *   close becomes a reset that can reach the client before it has read the answer (it sees
 *   "connection reset" instead of 413). So, like nginx's lingering close, attache half-closes
 *   (the answer is complete, then FIN), reads and throws away what keeps coming for a bounded
 *   number of bytes and time, then closes. Nothing of it is parsed or stored.
 */
export function answerBeforeBodyEnd(ctx: Context): void {
  const { req } = ctx;
  if (req.complete || req.destroyed) return;
  const length = Number(req.headers['content-length']);
  if (Number.isSafeInteger(length) && length <= KEEP_ALIVE_DISCARD_MAX_BYTES && ctx.response.get('Connection') !== 'close') {
    ctx.res.once('finish', () => closeUnlessReadWithin(req, KEEP_ALIVE_DISCARD_MAX_MS));
    return;
  }
  ctx.set('Connection', 'close');
  // Node's server calls socket.destroySoon() once an answer that says `Connection: close` is
  // written (_http_server.js, resOnFinish); this socket lingers instead.
  const socket = req.socket as Socket & { destroySoon?: () => void };
  socket.destroySoon = () => linger(socket, req);
}

function closeUnlessReadWithin(req: IncomingMessage, ms: number): void {
  if (req.complete || req.destroyed) return;
  const timer = setTimeout(() => req.socket.destroy(), ms);
  timer.unref();
  req.once('end', () => clearTimeout(timer));
  req.once('close', () => clearTimeout(timer));
}

function linger(socket: Socket, req: IncomingMessage): void {
  socket.end();
  if (req.complete || socket.destroyed) {
    socket.destroy();
    return;
  }
  let discarded = 0;
  const close = () => {
    clearTimeout(timer);
    socket.destroy();
  };
  const timer = setTimeout(close, LINGER_MAX_MS);
  timer.unref();
  req.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > LINGER_MAX_BYTES) close();
  });
  req.once('end', close);
  req.once('close', () => clearTimeout(timer));
  req.resume();
}
