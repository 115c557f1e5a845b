import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Socket } from 'node:net';

/** Why UploadConnections destroyed a socket; its code is one no client library retries. */
export class UploadConnectionClosed extends Error {
  readonly code: string;
  constructor(message: string, code: 'ERR_UPLOAD_CANCELLED' | 'ERR_UPLOAD_IDLE_TIMEOUT') {
    super(message);
    this.name = 'UploadConnectionClosed';
    this.code = code;
  }
}

/**
 * The HTTP connections of one upload, owned by the caller rather than by a client library:
 * an agent that knows its sockets, fails any socket on which no byte has moved for
 * `idleTimeoutMs` (a hung backend), and whose `close()` destroys every socket it opened and
 * refuses new ones, so a library that forgot a request cannot keep it, or open another.
 */
export class UploadConnections {
  readonly agent: HttpAgent;
  readonly #sockets = new Set<Socket>();
  #closedWith: UploadConnectionClosed | undefined;

  constructor(protocol: string, idleTimeoutMs: number) {
    const agent = protocol === 'https:' ? new HttpsAgent({ keepAlive: false }) : new HttpAgent({ keepAlive: false });
    const createConnection = agent.createConnection.bind(agent);
    // createConnection is the documented hook for supplying an agent's sockets.
    agent.createConnection = (options, callback) => {
      const socket = createConnection(options, callback) as Socket;
      if (this.#closedWith) {
        socket.destroy(this.#closedWith);
        return socket;
      }
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
      socket.setTimeout(idleTimeoutMs, () => {
        socket.destroy(new UploadConnectionClosed(`no byte moved for ${idleTimeoutMs} ms`, 'ERR_UPLOAD_IDLE_TIMEOUT'));
      });
      return socket;
    };
    this.agent = agent;
  }

  /** Destroys every socket (their requests fail with UploadConnectionClosed) and refuses new ones. */
  close(reason = 'upload cancelled'): void {
    this.#closedWith ??= new UploadConnectionClosed(reason, 'ERR_UPLOAD_CANCELLED');
    for (const socket of this.#sockets) socket.destroy(this.#closedWith);
    this.#sockets.clear();
    this.agent.destroy();
  }
}
