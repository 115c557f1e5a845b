/**
 * What one client can make a connection cost after an early answer, and how many connections
 * all clients together can hold (#21 item 6). The bounds are pinned with literal numbers: raising
 * one is a decision to take on purpose, with this file changed.
 */
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import Koa from 'koa';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  answerBeforeBodyEnd,
  KEEP_ALIVE_DISCARD_MAX_BYTES,
  KEEP_ALIVE_DISCARD_MAX_MS,
  LINGER_MAX_BYTES,
  LINGER_MAX_MS,
} from '../../src/adapters/http/request-body.ts';
import { startAttacheUnderTest, TEST_TOKENS, type AttacheUnderTest } from '../support/attache-under-test.ts';
import { parseResponse } from '../support/raw-http.ts';
import { memoryDriver } from '../support/stores-under-test.ts';

const MiB = 1024 * 1024;

function uploadHead(token: string, contentLength: number): string {
  return (
    `POST /v1/chat/upload/ HTTP/1.1\r\nHost: attache\r\nAuthorization: Token ${token}\r\n` +
    `Content-Type: multipart/form-data; boundary=x\r\nContent-Length: ${contentLength}\r\n\r\n`
  );
}

/** A TCP connection that records what it receives and when the server closed it. */
function openConnection(url: string, { allowHalfOpen = false } = {}) {
  const { hostname, port } = new URL(url);
  // allowHalfOpen: keep sending after the server's FIN, as a client busy writing its body does.
  const socket = connect({ port: Number(port), host: hostname, allowHalfOpen });
  const received: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => received.push(chunk));
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const connected = new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  return {
    socket,
    connected,
    closed,
    response: () => parseResponse(Buffer.concat(received)),
    /** Status lines received so far, in order. */
    statuses: () => [...Buffer.concat(received).toString('latin1').matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1])),
  };
}

async function until(condition: () => boolean, giveUpAfterMs = 15_000): Promise<void> {
  const deadline = Date.now() + giveUpAfterMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${giveUpAfterMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('early-answer bounds (pinned)', () => {
  it('discards at most 1 MiB for keep-alive, within 5 s; lingers over at most 4 MiB or 5 s', () => {
    expect(KEEP_ALIVE_DISCARD_MAX_BYTES).toBe(1_048_576);
    expect(KEEP_ALIVE_DISCARD_MAX_MS).toBe(5000);
    expect(LINGER_MAX_BYTES).toBe(4_194_304);
    expect(LINGER_MAX_MS).toBe(5000);
  });
});

describe('after an early answer, through the service', () => {
  let attache: AttacheUnderTest;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    attache = await startAttacheUnderTest(memoryDriver);
  });
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.destroy();
  });
  afterAll(async () => {
    await attache?.close();
  });

  it('keeps the connection of a refused body of exactly 1 MiB, and closes the one of 1 MiB + 1 byte', async () => {
    for (const [length, connection] of [
      [1_048_576, undefined],
      [1_048_577, 'close'],
    ] as const) {
      const c = openConnection(attache.url);
      sockets.push(c.socket);
      c.socket.write(uploadHead('wrong-token-000000000000', length));
      await until(() => c.response() !== undefined);
      expect(c.response()?.status).toBe(401);
      expect(c.response()?.headers.connection).toBe(connection ?? 'keep-alive');
    }
  });

  it('closes, after its 401, a connection whose small body trickles in a byte at a time', async () => {
    const c = openConnection(attache.url);
    sockets.push(c.socket);
    c.socket.write(uploadHead('wrong-token-000000000000', 1000));
    const trickle = setInterval(() => c.socket.writable && c.socket.write('x'), 250);
    try {
      await until(() => c.response() !== undefined);
      expect(c.response()?.status).toBe(401);
      // Left to the client's pace, 1000 bytes at 4 a second would hold it for over 4 minutes.
      await Promise.race([c.closed, new Promise((_, reject) => setTimeout(() => reject(new Error('still open 15 s after the answer')), 15_000))]);
    } finally {
      clearInterval(trickle);
    }
  }, 30_000);

  it('still reads a small refused body sent at a normal pace, and serves the next request on that connection', async () => {
    const c = openConnection(attache.url);
    sockets.push(c.socket);
    const body = Buffer.alloc(200 * 1024, 0x61);
    c.socket.write(uploadHead('wrong-token-000000000000', body.length));
    c.socket.write(body);
    await until(() => c.response() !== undefined);
    expect(c.response()?.status).toBe(401);
    c.socket.write('GET /healthz HTTP/1.1\r\nHost: attache\r\n\r\n');
    await until(() => c.statuses().length === 2);
    expect(c.statuses()).toEqual([401, 200]);
  });
});

describe('lingering close after Connection: close', () => {
  let server: Server;
  let received = 0;
  beforeAll(async () => {
    const app = new Koa();
    app.use((ctx) => {
      ctx.req.on('data', (chunk: Buffer) => {
        received += chunk.length;
      });
      ctx.status = 401;
      ctx.body = { error: 'Unauthorized' };
      answerBeforeBodyEnd(ctx);
    });
    server = createServer(app.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('reads at most 4 MiB (and a chunk) more of a 64 MiB body sent as fast as it goes, then closes', async () => {
    const { port } = server.address() as { port: number };
    const c = openConnection(`http://127.0.0.1:${port}`, { allowHalfOpen: true });
    await c.connected;
    c.socket.write(uploadHead('wrong-token-000000000000', 64 * MiB));
    const block = Buffer.alloc(64 * 1024, 0x61);
    let open = true;
    void c.closed.then(() => (open = false));
    const pump = () => {
      while (open && c.socket.write(block));
      if (open) c.socket.once('drain', pump);
    };
    pump();
    await c.closed;
    expect(c.response()?.status).toBe(401);
    expect(c.response()?.headers.connection).toBe('close');
    expect(received).toBeGreaterThan(LINGER_MAX_BYTES - 1);
    expect(received).toBeLessThanOrEqual(4 * MiB + 2 * 64 * 1024);
  }, 30_000);
});

describe('MAX_CONNECTIONS', () => {
  let attache: AttacheUnderTest;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    attache = await startAttacheUnderTest(memoryDriver, { MAX_CONNECTIONS: '3' });
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await attache?.close();
  });

  it('answers a connection over the cap 503 in JSON with Retry-After, and serves again once one closes', async () => {
    const held = [openConnection(attache.url), openConnection(attache.url), openConnection(attache.url)];
    sockets.push(...held.map((c) => c.socket));
    for (const c of held) c.socket.write('GET /healthz HTTP/1.1\r\nHost: attache\r\n\r\n');
    await until(() => held.every((c) => c.response()?.status === 200));

    const over = openConnection(attache.url);
    sockets.push(over.socket);
    over.socket.write(uploadHead(TEST_TOKENS.store, 10));
    await over.closed;
    expect(over.response()).toMatchObject({
      status: 503,
      headers: { 'retry-after': '1', connection: 'close' },
      json: { error: 'Service unavailable', detail: 'too many connections; retry shortly' },
    });

    held[0]!.socket.destroy();
    await held[0]!.closed;
    const next = openConnection(attache.url);
    sockets.push(next.socket);
    next.socket.write('GET /healthz HTTP/1.1\r\nHost: attache\r\nConnection: close\r\n\r\n');
    await next.closed;
    expect(next.response()?.status).toBe(200);

    const metrics = await (await fetch(`${attache.url}/metrics`)).text();
    expect(metrics).toMatch(/^attache_connections_refused_total\{driver="memory"\} 1$/m);
    expect(metrics).toMatch(/^attache_connections_open\{driver="memory"\} [1-3]$/m);
  });
});
