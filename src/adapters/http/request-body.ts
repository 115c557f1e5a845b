import type { Context } from 'koa';

/** How much of an unwanted body is read and thrown away, so the client sees our answer. */
const DISCARD_MAX_BYTES = 1024 * 1024;
const DISCARD_MAX_MS = 2000;

/**
 * For an answer sent before the request body was read (401 before the body, 413 mid-stream):
 * once the answer is out, discard at most a little more of the body — closing at once would
 * make many clients see a connection reset instead of the answer — then close the connection.
 * The bytes are never parsed or stored, and a large body is never read to its end.
 */
export function stopReadingAfterAnswer(ctx: Context): void {
  const { req, res } = ctx;
  if (req.complete || req.destroyed) return;
  res.once('finish', () => {
    if (req.complete) return;
    const socket = req.socket;
    let discarded = 0;
    const close = () => socket.destroy();
    const timer = setTimeout(close, DISCARD_MAX_MS);
    timer.unref();
    req.on('data', (chunk: Buffer) => {
      discarded += chunk.length;
      if (discarded > DISCARD_MAX_BYTES) close();
    });
    req.once('end', () => clearTimeout(timer));
    req.once('close', () => clearTimeout(timer));
    req.resume();
  });
}
