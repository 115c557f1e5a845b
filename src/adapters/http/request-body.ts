import type { Context } from 'koa';

/** How much more of an unwanted body is read and thrown away after the answer, at most. */
const DISCARD_MAX_BYTES = 4 * 1024 * 1024;
const DISCARD_MAX_MS = 5000;

/**
 * For an answer sent before the request body was read (401 before the body, 413 mid-stream).
 *
 * Closing the connection at once would reset it while the client is still sending, and a
 * client whose kernel receives the reset before the client has read our answer loses the
 * answer: it sees "connection reset" instead of 401 or 413. So, like nginx's lingering close,
 * attache half-closes (our answer is complete, then FIN), reads and throws away what keeps
 * coming for a bounded number of bytes and time, then closes. Nothing of it is parsed or
 * stored, and a large body is never read to its end.
 */
export function stopReadingAfterAnswer(ctx: Context): void {
  const { req, res } = ctx;
  if (req.complete || req.destroyed) return;
  res.once('finish', () => {
    const socket = req.socket;
    if (req.complete || socket.destroyed) return;
    socket.end();
    let discarded = 0;
    const close = () => {
      clearTimeout(timer);
      socket.destroy();
    };
    const timer = setTimeout(close, DISCARD_MAX_MS);
    timer.unref();
    req.on('data', (chunk: Buffer) => {
      discarded += chunk.length;
      if (discarded > DISCARD_MAX_BYTES) close();
    });
    req.once('end', close);
    req.once('close', () => clearTimeout(timer));
    req.resume();
  });
}
