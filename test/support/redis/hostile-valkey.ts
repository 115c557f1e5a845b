/**
 * A server that speaks enough of Valkey's protocol to pass ioredis's handshake (HELLO, INFO,
 * CLIENT, SELECT, PING answered as a healthy server would), then answers every other command as a broken
 * or hostile one might: a string announced as 1 GB that it then sends, an array announced with
 * a billion items that it never finishes, or the first bytes of a reply and then nothing (a server
 * frozen, or a connection black-holed, mid-reply). Each connection's flood stops at FLOOD_CAP_BYTES, so a
 * client that does not bound what it takes fails its test instead of exhausting the machine.
 * `forwardTo(port)` turns it into a plain relay to a real server for the connections that follow,
 * for recovery.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export type HostileReply = 'huge-string' | 'endless-array' | 'stalled-reply';

/** What one flooded connection saw: how much was sent to the client before it hung up (or the cap). */
export interface FloodedConnection {
  readonly sentBytes: number;
  /** Resolves with the bytes sent once the client closed the connection, or with undefined once the cap was reached. */
  readonly outcome: Promise<number | undefined>;
}

export const FLOOD_CAP_BYTES = 512 * 1024 * 1024;

export interface HostileValkey {
  readonly url: string;
  /** Every connection that was flooded, in order. */
  readonly floods: FloodedConnection[];
  /**
   * From now on, new connections are relayed to a real server on 127.0.0.1:`port`. Those open that
   * have not misbehaved yet are closed (the client reconnects, to the real one); those in the middle
   * of a hostile reply are left as they are, for the client to give up on.
   */
  forwardTo(port: number): void;
  /** From now on, new connections are hostile again; those relayed are closed (the client reconnects, to a hostile one). */
  turnHostile(): void;
  close(): Promise<void>;
}

const CHUNK = 64 * 1024;

export async function startHostileValkey(reply: HostileReply): Promise<HostileValkey> {
  const floods: FloodedConnection[] = [];
  const sockets = new Set<Socket>();
  const hostileSockets = new WeakSet<Socket>();
  const relayedSockets = new WeakSet<Socket>();
  let forwardPort: number | undefined;
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    if (forwardPort !== undefined) {
      relayedSockets.add(socket);
      return relay(socket, forwardPort);
    }
    let pending = Buffer.alloc(0);
    let flooding = false;
    socket.on('data', (data: Buffer) => {
      if (flooding) return;
      pending = Buffer.concat([pending, data]);
      for (let parsed = parseCommand(pending); parsed !== undefined; parsed = parseCommand(pending)) {
        pending = pending.subarray(parsed.length);
        const answer = handshakeAnswer(parsed.name);
        if (answer !== undefined) {
          socket.write(answer);
          continue;
        }
        flooding = true;
        hostileSockets.add(socket);
        floods.push(flood(socket, reply));
        return;
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `redis://127.0.0.1:${port}`,
    floods,
    forwardTo(target) {
      forwardPort = target;
      for (const socket of sockets) if (!hostileSockets.has(socket)) socket.destroy();
    },
    turnHostile() {
      forwardPort = undefined;
      for (const socket of sockets) if (relayedSockets.has(socket)) socket.destroy();
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** What a healthy server answers to the commands ioredis sends on connecting; undefined for the others. */
function handshakeAnswer(name: string): string | undefined {
  if (name === 'info') {
    const info = '# Server\r\nredis_version:7.2.4\r\nloading:0\r\n';
    return `$${info.length}\r\n${info}\r\n`;
  }
  // RESP3, as ioredis asks for it first: a map of what the server is.
  if (name === 'hello') return '%3\r\n+server\r\n+redis\r\n+version\r\n+7.2.4\r\n+proto\r\n:3\r\n';
  if (name === 'ping') return '+PONG\r\n';
  if (name === 'client' || name === 'select') return '+OK\r\n';
  return undefined;
}

function flood(socket: Socket, reply: HostileReply): FloodedConnection {
  if (reply === 'stalled-reply') {
    socket.write('$100\r\nthe first bytes of a hundred');
    return { sentBytes: 0, outcome: new Promise((resolve) => socket.once('close', () => resolve(0))) };
  }
  const header = reply === 'huge-string' ? '$1000000000\r\n' : '*1000000000\r\n';
  // A string's bytes, or the array's items: small integers, the cheapest to send and the most numerous.
  const body = reply === 'huge-string' ? Buffer.alloc(CHUNK, 'a') : Buffer.from(':1\r\n'.repeat(CHUNK / 4));
  const connection = { sentBytes: 0, outcome: undefined as unknown as Promise<number | undefined> };
  connection.outcome = new Promise((resolve) => {
    socket.once('close', () => resolve(connection.sentBytes < FLOOD_CAP_BYTES ? connection.sentBytes : undefined));
    socket.write(header);
    const pump = () => {
      while (connection.sentBytes < FLOOD_CAP_BYTES && !socket.destroyed) {
        connection.sentBytes += body.length;
        if (!socket.write(body)) return;
      }
      if (connection.sentBytes >= FLOOD_CAP_BYTES) {
        resolve(undefined);
        socket.destroy();
      }
    };
    socket.on('drain', pump);
    pump();
  });
  return connection;
}

function relay(client: Socket, port: number): void {
  const upstream = createConnection({ host: '127.0.0.1', port });
  upstream.on('error', () => client.destroy());
  client.on('close', () => upstream.destroy());
  upstream.on('close', () => client.destroy());
  client.pipe(upstream);
  upstream.pipe(client);
}

/** The first whole command (an array of bulk strings) in `buffer`: its lower-case name and length in bytes. */
function parseCommand(buffer: Buffer): { name: string; length: number } | undefined {
  const text = buffer.toString('latin1');
  const count = /^\*(\d+)\r\n/.exec(text);
  if (count === null) return undefined;
  let offset = count[0].length;
  let name = '';
  for (let i = 0; i < Number(count[1]); i++) {
    const size = /^\$(\d+)\r\n/.exec(text.slice(offset));
    if (size === null) return undefined;
    const start = offset + size[0].length;
    const end = start + Number(size[1]);
    if (text.length < end + 2) return undefined;
    if (i === 0) name = text.slice(start, end).toLowerCase();
    offset = end + 2;
  }
  return { name, length: offset };
}
