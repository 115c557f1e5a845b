/**
 * docs/operations.md's load balancer rule, HTTP_KEEP_ALIVE_TIMEOUT_MS above the balancer's idle
 * timeout, checked at a small scale on one pooled connection, as a balancer holds one: attache
 * announces its keep-alive time, keeps answering on a connection that sat idle longer than
 * HTTP_HEADERS_TIMEOUT_MS (a balancer's idle gap between two requests is no header delay), and
 * closes the connection only once it has been idle for HTTP_KEEP_ALIVE_TIMEOUT_MS.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAttacheUnderTest, type AttacheUnderTest } from '../support/attache-under-test.ts';
import { memoryDriver } from '../support/stores-under-test.ts';

const KEEP_ALIVE_MS = 3000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One connection, as a balancer's pool holds it: requests in turn, and when the server closed it. */
function pooledConnection(url: string) {
  const { hostname, port } = new URL(url);
  const socket: Socket = connect(Number(port), hostname);
  let received = '';
  let closedAt: number | undefined;
  socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
  socket.on('close', () => (closedAt = Date.now()));
  socket.on('error', () => {});
  return {
    async get(path: string): Promise<string> {
      const before = received.length;
      socket.write(`GET ${path} HTTP/1.1\r\nHost: attache\r\n\r\n`);
      for (let i = 0; i < 100 && !/\r\n\r\n[\s\S]*\}/.test(received.slice(before)); i++) await sleep(20);
      return received.slice(before);
    },
    closedAt: () => closedAt,
    destroy: () => socket.destroy(),
  };
}

describe(`attache behind a balancer, HTTP_KEEP_ALIVE_TIMEOUT_MS=${KEEP_ALIVE_MS}`, () => {
  let attache: AttacheUnderTest;
  beforeAll(async () => {
    attache = await startAttacheUnderTest(memoryDriver, { HTTP_KEEP_ALIVE_TIMEOUT_MS: String(KEEP_ALIVE_MS), HTTP_HEADERS_TIMEOUT_MS: '1000', HTTP_REQUEST_TIMEOUT_MS: '2000' });
  });
  afterAll(() => attache?.close());

  it('keeps an idle pooled connection open for the whole keep-alive time, and only then closes it', async () => {
    const connection = pooledConnection(attache.url);
    try {
      const first = await connection.get('/healthz');
      expect(first).toMatch(/^HTTP\/1\.1 200/);
      expect(first).toMatch(/\r\nKeep-Alive: timeout=3\r\n/i);
      // Idle past HTTP_HEADERS_TIMEOUT_MS, under HTTP_KEEP_ALIVE_TIMEOUT_MS: still answered, on the same connection.
      await sleep(2000);
      expect(connection.closedAt()).toBeUndefined();
      const idleSince = Date.now();
      expect(await connection.get('/readyz')).toMatch(/^HTTP\/1\.1 200/);
      await sleep(KEEP_ALIVE_MS - 300);
      expect(connection.closedAt()).toBeUndefined();
      // Node adds a second to the announced time before it closes the socket (keepAliveTimeoutBuffer).
      await sleep(2000);
      expect(connection.closedAt()! - idleSince).toBeGreaterThanOrEqual(KEEP_ALIVE_MS);
    } finally {
      connection.destroy();
    }
  });
});
