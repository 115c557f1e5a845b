/**
 * STORAGE_CHECK at start, with the service run as `npm start` runs it against the run's Ceph RGW:
 * it starts on a bucket that does what attache relies on, and refuses to start, in one line, on a
 * server that ignores `If-None-Match: *` (RGW behind a proxy that turns its 412 into a 200, as such
 * a server answers) or on a missing bucket. STORAGE_CHECK=off starts anyway.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { s3ClientFor, s3ServiceEnv } from '../support/s3/rgw-global-setup.ts';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.ts';

/** Forwards to `target` as is, except that a 412 (a conditional write refused) comes back as a 200. */
async function startIfNoneMatchIgnoringProxy(target: string): Promise<{ endpoint: string; server: Server }> {
  const server = createServer((incoming, outgoing) => {
    const upstream = request(new URL(incoming.url ?? '/', target), { method: incoming.method, headers: incoming.headers }, (answer) => {
      if (answer.statusCode === 412) {
        answer.resume();
        outgoing.writeHead(200, { etag: '"00000000000000000000000000000000"', 'content-length': '0' });
        outgoing.end();
        return;
      }
      outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(outgoing);
    });
    upstream.on('error', () => outgoing.destroy());
    incoming.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { endpoint: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server };
}

describe('the storage check at start (S3 on Ceph RGW)', () => {
  const s3 = inject('s3');
  let bucket: string;
  let tokensFile: string;
  let proxy: { endpoint: string; server: Server };
  let service: ServiceProcess | undefined;

  beforeAll(async () => {
    bucket = `attache-check-${randomUUID().slice(0, 12)}`;
    const raw = s3ClientFor(s3);
    await raw.send(new CreateBucketCommand({ Bucket: bucket }));
    raw.destroy();
    tokensFile = join(await mkdtemp(join(tmpdir(), 'attache-check-')), 'tokens.json');
    await writeFile(tokensFile, JSON.stringify({ tokens: [{ token: 'check-store-token-000001', role: 'store', id: '1' }] }));
    proxy = await startIfNoneMatchIgnoringProxy(s3.endpoint);
  });
  afterEach(() => {
    service?.child.kill('SIGKILL');
    service = undefined;
  });
  afterAll(() => {
    proxy?.server.close();
  });

  const env = (overrides: Record<string, string>) => ({
    AUTH_TOKENS_FILE: tokensFile,
    ...s3ServiceEnv(s3, bucket),
    S3_URL_MODE: 'signed',
    ...overrides,
  });

  /** The service's stderr when it refused to start; fails if it started. */
  async function refusal(overrides: Record<string, string>): Promise<string> {
    const failure = await startServiceProcess(env(overrides), 30_000).then(
      (started) => {
        service = started;
        throw new Error('the service started');
      },
      (error: Error) => error.message,
    );
    expect(failure).toMatch(/^service exited with 1:\n/);
    return failure.replace(/^service exited with 1:\n/, '');
  }

  it('starts on a bucket that does what attache relies on, and leaves no probe behind', async () => {
    service = await startServiceProcess(env({}), 30_000);
    expect((await fetch(`${service.url}/readyz`)).status).toBe(200);
    const took = /"durationMs":(\d+)[^\n]*storage check passed/.exec(service.output());
    expect(took).not.toBeNull();
    console.log(`[storage check] passed on RGW in ${took![1]} ms (a multi-part probe of 8 MiB + 1 byte included)`);
    const raw = s3ClientFor(s3);
    const { ListObjectsV2Command } = await import('@aws-sdk/client-s3');
    const listed = await raw.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'attache-check/' }));
    raw.destroy();
    expect(listed.Contents ?? []).toEqual([]);
  });

  it('refuses to start, in one line, on a server that ignores If-None-Match', async () => {
    const stderr = await refusal({ S3_ENDPOINT: proxy.endpoint });
    const lines = stderr.trim().split('\n').filter((line) => line.startsWith('attache:'));
    expect(lines).toEqual([
      'attache: storage check failed (STORAGE_CHECK=off skips it): the server overwrote an existing object despite If-None-Match: * (conditional writes ignored): uploads could overwrite each other',
    ]);
  });

  it('refuses to start on a bucket that does not exist', async () => {
    const stderr = await refusal({ S3_BUCKET: `attache-missing-${randomUUID().slice(0, 8)}` });
    expect(stderr).toMatch(/^attache: storage check failed \(STORAGE_CHECK=off skips it\): the bucket is not ready: cannot use S3 bucket "attache-missing-[0-9a-f]+": it does not exist$/m);
  });

  it('starts on that server with STORAGE_CHECK=off', async () => {
    service = await startServiceProcess(env({ S3_ENDPOINT: proxy.endpoint, STORAGE_CHECK: 'off' }), 30_000);
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
  });
});
