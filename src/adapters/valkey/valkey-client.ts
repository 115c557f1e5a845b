import type { Socket } from 'node:net';
import { Redis } from 'ioredis';

/**
 * Most bytes attache takes from Valkey towards one reply. attache's replies are counters and
 * idempotency records of a few kilobytes at most (an answer with two presigned URLs), INFO's at
 * connection some 6 KB; a server that announces a 1 GB string, or an array that never ends, would
 * otherwise have every byte of it held in memory (ioredis's decoder keeps a reply's chunks until it
 * is whole, and a command timing out does not stop it). An array's items cost the decoder some 25
 * times their bytes (a slot each in an array made for the length announced), hence a bound
 * this low.
 */
export const MAX_VALKEY_REPLY_BYTES = 64 * 1024;

/**
 * An ioredis client as attache's shared state needs it: commands are never queued while the
 * server is away (enableOfflineQueue: false) and time out after `commandTimeoutMs`, so a request
 * waits at most that long before the caller's policy for an absent Valkey applies; ioredis keeps
 * reconnecting in the background. A reply growing past `maxReplyBytes` (boundReplies), or a
 * command waiting `commandTimeoutMs` with no byte coming (socketTimeout), closes the connection,
 * which fails its commands as a lost server would.
 */
export function valkeyClient(url: string, commandTimeoutMs: number, maxReplyBytes = MAX_VALKEY_REPLY_BYTES): Redis {
  const client = new Redis(url, {
    enableOfflineQueue: false,
    commandTimeout: commandTimeoutMs,
    // A connection on which a command waits this long with nothing arriving is dropped, and
    // ioredis reconnects: a command timing out leaves the connection as it is, and one stalled in
    // the middle of a reply (a frozen server, a connection black-holed) would time out every
    // command after it, never reconnecting, even once the server is back.
    socketTimeout: commandTimeoutMs,
    connectTimeout: Math.max(commandTimeoutMs, 1000),
    maxRetriesPerRequest: 0,
    retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
  });
  boundReplies(client, maxReplyBytes);
  return client;
}

/**
 * Counts the bytes each connection receives since a reply last completed, and destroys the
 * connection once they pass `maxBytes`: a reply that big, or that many bytes no command asked for,
 * come from a server attache cannot use. A reply has completed when the command at the head of
 * ioredis's queue is no longer the one that was there at the previous chunk: its decoder reads each
 * chunk before this listener does (it is prepended), and takes a command off the queue with its
 * reply. What a chunk carries of the next reply is forgiven, so the bound is loose by one chunk.
 */
function boundReplies(client: Redis, maxBytes: number): void {
  client.on('connect', () => {
    const stream = client.stream as Socket;
    let pending = 0;
    let waiting = client.commandQueue.peekFront();
    stream.on('data', (chunk: Buffer) => {
      const head = client.commandQueue.peekFront();
      pending = head !== waiting ? 0 : pending + chunk.length;
      waiting = head;
      if (pending > maxBytes) stream.destroy(new Error(`Valkey sent a reply of more than ${maxBytes} bytes`));
    });
  });
}

/**
 * Resolves true once the server answers a PING, or false after `timeoutMs` whatever happened:
 * a server still away is the policy's business. (The client's own status can say `ready` for a
 * moment after its server died, before it has noticed.)
 */
export async function answersPing(client: Redis, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (client.status === 'ready' && (await client.ping().then(() => true, () => false))) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}
