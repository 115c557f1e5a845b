/**
 * A JSON body refused before its end (larger than its route reads: 16 KiB for the direct
 * announcement, 1 MiB for Uppy's calls) is answered 413 `Request body too large`, never a reset, and the service process
 * lives on. Its reader once left a `for await` loop by throwing, which destroyed the request and
 * its socket: the client could meet a reset instead of its 400, and the access-log line, reading
 * the gone socket in an event listener, threw a TypeError that ended the process (exit 1) for
 * anyone holding a token. Against a service process, where an uncaught exception is fatal.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.ts';

const TOKEN = 'refused-json-store-token-0042';

describe('JSON bodies refused before their end', () => {
  let dir: string;
  let service: ServiceProcess;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'attache-json-'));
    await writeFile(join(dir, 'tokens.json'), JSON.stringify({ tokens: [{ token: TOKEN, role: 'store', id: '42' }] }));
    service = await startServiceProcess({ STORAGE_DRIVER: 'memory', AUTH_TOKENS_FILE: join(dir, 'tokens.json') }, 30_000);
  }, 60_000);
  afterAll(async () => {
    service?.child.kill('SIGTERM');
    await service?.exited;
    await rm(dir, { recursive: true, force: true });
  });

  it.each(['/v1/chat/upload/direct/', '/v1/chat/upload/uppy/s3/multipart', '/v1/chat/upload/uppy/s3/multipart/x.y/complete'])(
    '%s: 413 for 2 MiB of JSON, and the service answers the next request',
    async (path) => {
      const answer = await fetch(`${service.url}${path}`, {
        method: 'POST',
        headers: { Authorization: `Token ${TOKEN}`, 'Content-Type': 'application/json' },
        body: new Uint8Array(2 * 1024 * 1024).fill(32),
      });
      expect(answer.status).toBe(413);
      expect(await answer.json()).toMatchObject({ error: 'Request body too large' });
      // The refused body's connection closes after the answer; the access-log line is written then.
      await new Promise((resolve) => answer.body === null ? resolve(undefined) : setTimeout(resolve, 500));
      expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
      expect(service.child.exitCode).toBeNull();
    },
  );
});
