import { once } from 'node:events';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';

/** Small real servers for the GCS adapter's tests: each listens on a free port of 127.0.0.1. */

export interface RunningServer {
  readonly endpoint: string;
  /** Client connections open now. */
  openConnections(): number;
  /** Waits up to `timeoutMs` for every client connection to close; returns how many are still open. */
  waitForNoConnections(timeoutMs: number): Promise<number>;
  close(): Promise<void>;
}

function track(server: Server | ReturnType<typeof createTcpServer>) {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return {
    sockets,
    openConnections: () => sockets.size,
    async waitForNoConnections(timeoutMs: number) {
      const deadline = Date.now() + timeoutMs;
      while (sockets.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      return sockets.size;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

async function listen(server: Server | ReturnType<typeof createTcpServer>): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export interface ProxiedRequest {
  readonly method: string;
  readonly url: string;
  /** Neither answered in full nor abandoned by the client. */
  readonly inFlight: boolean;
  /** The client's connection that carried it is still open. */
  readonly connectionOpen: boolean;
}

export interface RecordingProxy extends RunningServer {
  /** Requests seen, in order. */
  readonly requests: readonly ProxiedRequest[];
  /**
   * Waits up to `timeoutMs` until no request matching `which` is in flight or has its
   * connection open; returns those still open. (A client's idle keep-alive connections that
   * carried other requests do not count: they are not requests left open.)
   */
  waitUntilClosed(which: (request: ProxiedRequest) => boolean, timeoutMs: number): Promise<ProxiedRequest[]>;
  /** Destroys every client connection (to clean up after a client that left one open). */
  destroyConnections(): void;
}

/**
 * Forwards every request to `target` and records it, so a test can see which requests a client
 * made and whether it left a connection open. Keeps the client's Host header, so URLs the
 * target builds from it (the emulator's resumable session URIs) point back through the proxy.
 */
export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const requests: ProxiedRequest[] = [];
  const server = createServer((incoming, outgoing) => {
    const socket = incoming.socket;
    let closed = false; // 'close': answered in full, or the connection went away
    let socketClosed = socket.destroyed;
    outgoing.once('close', () => (closed = true));
    socket.once('close', () => (socketClosed = true));
    requests.push({
      method: incoming.method ?? '',
      url: incoming.url ?? '',
      get inFlight() {
        return !closed;
      },
      get connectionOpen() {
        return !socketClosed;
      },
    });
    const upstream = request(new URL(incoming.url ?? '/', target), { method: incoming.method, headers: incoming.headers, agent: false }, (answer) => {
      outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(outgoing);
    });
    upstream.on('error', () => outgoing.destroy());
    outgoing.on('close', () => upstream.destroy());
    incoming.pipe(upstream);
  });
  const tracked = track(server);
  const endpoint = await listen(server);
  return {
    endpoint,
    requests,
    async waitUntilClosed(which, timeoutMs) {
      const open = () => requests.filter((r) => which(r) && (r.inFlight || r.connectionOpen));
      const deadline = Date.now() + timeoutMs;
      while (open().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      return open();
    },
    openConnections: tracked.openConnections,
    waitForNoConnections: tracked.waitForNoConnections,
    destroyConnections: () => tracked.sockets.forEach((s) => s.destroy()),
    close: tracked.close,
  };
}

/** An HTTP server answering with `handler`, standing in for GCS where a test needs an answer the emulator cannot give. */
export async function startScriptedServer(
  handler: (request: IncomingMessage & { body: Buffer }, response: ServerResponse) => void,
): Promise<RunningServer & { readonly requests: { method: string; url: string }[] }> {
  const requests: { method: string; url: string }[] = [];
  const server = createServer(async (incoming, outgoing) => {
    requests.push({ method: incoming.method ?? '', url: incoming.url ?? '' });
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    handler(Object.assign(incoming, { body: Buffer.concat(chunks) }), outgoing);
  });
  const tracked = track(server);
  const endpoint = await listen(server);
  return { endpoint, requests, ...tracked };
}

/** A TCP server that accepts connections and never answers: a hung backend. */
export async function startSilentServer(): Promise<RunningServer> {
  const server = createTcpServer((socket) => {
    socket.on('error', () => {});
    socket.resume(); // read and drop whatever comes
  });
  const tracked = track(server);
  const endpoint = await listen(server);
  return { endpoint, ...tracked };
}

/** An endpoint nothing listens on (a port that was free a moment ago). */
export async function closedPortEndpoint(): Promise<string> {
  const server = createTcpServer();
  const endpoint = await listen(server);
  server.close();
  await once(server, 'close');
  return endpoint;
}

/** GCS's JSON error body. */
export function gcsError(response: ServerResponse, code: number, reason: string, message: string): void {
  response.writeHead(code, { 'content-type': 'application/json; charset=utf-8' });
  response.end(JSON.stringify({ error: { code, message, errors: [{ domain: 'global', reason, message }] } }));
}
