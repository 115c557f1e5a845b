import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServiceProcess } from '../support/service-process.ts';
import { filesUnder } from '../support/stores-under-test.ts';

const TOKEN = 'shutdown-test-store-token-01';
/** A failure guard: how long a step may take before the test says it hung. */
const HUNG_AFTER_MS = 20_000;

interface Service {
  child: ChildProcess;
  url: URL;
  output(): string;
  exited: Promise<number | null>;
}

async function startService(env: Record<string, string>): Promise<Service> {
  const started = await startServiceProcess({ NODE_ENV: 'production', ...env }, HUNG_AFTER_MS);
  return { ...started, url: new URL(started.url) };
}

/** Polls `probe` until it returns a value; throws `hung()` after HUNG_AFTER_MS. */
async function until<T>(probe: () => T | undefined | Promise<T | undefined>, hung: () => string): Promise<T> {
  const deadline = Date.now() + HUNG_AFTER_MS;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(hung());
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function uploadsInFlight(service: Service): Promise<number> {
  const text = await (await fetch(new URL('/metrics', service.url))).text();
  const line = text.split('\n').find((l) => l.startsWith('attache_uploads_in_flight'));
  return Number(line!.slice(line!.lastIndexOf(' ') + 1));
}

/** A raw HTTP/1.1 upload whose body the test sends in pieces, so it stays in flight. */
function slowUpload(service: Service, fileBytes: Buffer) {
  const boundary = 'shutdownTestBoundary';
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="session_id"\r\n\r\ndrain\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="report.pdf"\r\nContent-Type: application/pdf\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const body = Buffer.concat([head, fileBytes, tail]);
  const request = (length: number, withBoundary = boundary) =>
    Buffer.from(
      `POST /v1/chat/upload/ HTTP/1.1\r\nHost: ${service.url.host}\r\nAuthorization: Token ${TOKEN}\r\n` +
        `Content-Type: multipart/form-data; boundary=${withBoundary}\r\nContent-Length: ${length}\r\n\r\n`,
    );
  const socket = connect(Number(service.url.port), service.url.hostname);
  let received = '';
  socket.on('data', (d) => (received += d));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => {});
  const split = head.length + Math.floor(fileBytes.length / 2);
  socket.write(Buffer.concat([request(body.length), body.subarray(0, split)]));
  return {
    socket,
    body,
    request,
    /** Sends the rest of the body, then anything given (a pipelined request on the same connection). */
    finish: (then: Buffer = Buffer.alloc(0)) => socket.write(Buffer.concat([body.subarray(split), then])),
    received: () => received,
    closed,
  };
}

describe('graceful shutdown of `node src/main.ts`', () => {
  let dir: string;
  let tokensFile: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'attache-shutdown-'));
    tokensFile = join(dir, 'tokens.json');
    await writeFile(tokensFile, JSON.stringify({ tokens: [{ token: TOKEN, role: 'store', id: '3' }] }));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('on SIGTERM finishes the upload in flight (200, stored), refuses new connections and new requests, and exits 0', async () => {
    const storage = join(dir, 'drain');
    const service = await startService({ AUTH_TOKENS_FILE: tokensFile, LOCAL_STORAGE_DIR: storage, SHUTDOWN_GRACE_MS: '20000' });
    try {
      const fileBytes = Buffer.from(`%PDF-1.4\n${'0123456789'.repeat(20_000)}`);
      const upload = slowUpload(service, fileBytes);
      await until(async () => ((await uploadsInFlight(service)) === 1 ? true : undefined), () => 'the upload never started');

      service.child.kill('SIGTERM');
      await until(() => (service.output().includes('shutting down') ? true : undefined), () => `no shutdown log:\n${service.output()}`);

      // New connections are refused: the listener is closed.
      await expect(fetch(new URL('/v1/chat/upload/', service.url), { method: 'POST' })).rejects.toThrow();

      // The upload in flight completes; a new upload pipelined on its kept-alive connection is refused.
      const second = Buffer.from('--b\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n\r\nx\r\n--b--\r\n');
      upload.finish(Buffer.concat([upload.request(second.length, 'b'), second]));
      await Promise.race([upload.closed, until(() => undefined, () => `connection not closed; got:\n${upload.received()}`)]);

      const responses = upload.received().split(/(?=HTTP\/1\.1 )/);
      expect(responses[0]).toMatch(/^HTTP\/1\.1 200 /);
      const stored = JSON.parse(responses[0]!.slice(responses[0]!.indexOf('\r\n\r\n') + 4)) as { url: string; type: string };
      expect(stored.type).toBe('application/pdf');
      expect(responses[1]).toMatch(/^HTTP\/1\.1 503 /);
      expect(responses[1]).toMatch(/\r\nconnection: close\r\n/i);
      expect(responses[1]!.endsWith('{"error":"Shutting down"}')).toBe(true);

      expect(await Promise.race([service.exited, until(() => undefined, () => `did not exit:\n${service.output()}`)])).toBe(0);
      const key = decodeURIComponent(new URL(stored.url).pathname.replace(/^\/files\//, ''));
      expect(key).toMatch(/^chat\/session-drain\//);
      expect((await readFile(join(storage, key))).equals(fileBytes)).toBe(true);
    } finally {
      service.child.kill('SIGKILL');
    }
  });

  it('closes what is still in flight when the grace period is over, keeps nothing of it, and exits 0', async () => {
    const storage = join(dir, 'grace');
    const service = await startService({ AUTH_TOKENS_FILE: tokensFile, LOCAL_STORAGE_DIR: storage, SHUTDOWN_GRACE_MS: '200' });
    try {
      const upload = slowUpload(service, Buffer.from(`%PDF-1.4\n${'x'.repeat(100_000)}`));
      await until(async () => ((await uploadsInFlight(service)) === 1 ? true : undefined), () => 'the upload never started');
      service.child.kill('SIGTERM');
      expect(await Promise.race([service.exited, until(() => undefined, () => `did not exit:\n${service.output()}`)])).toBe(0);
      await upload.closed;
      expect(upload.received()).not.toMatch(/^HTTP\/1\.1 200/);
      expect(service.output()).toContain('grace period over');
      expect(await filesUnder(storage)).toEqual([]);
    } finally {
      service.child.kill('SIGKILL');
    }
  });
});
