/**
 * The JSON bodies of the newer routes (Uppy's completion, up to 1 MiB; the direct announcement,
 * up to 16 KiB) drip-fed one byte per TCP segment cost the service about their bytes, not a
 * Buffer per byte: the reader once kept every chunk Node handed it, ~100 bytes of bookkeeping
 * each, so one client dripping Uppy's 1 MiB held ~100 MB of the service, and a few of them at
 * once more than it has. Peak RSS (VmHWM) of a service process run as the image runs it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processMemory } from '../support/process-memory.ts';
import { dripFeed } from '../support/raw-http.ts';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.ts';

const TOKEN = 'drip-json-store-token-00042';
const KiB = 1024;
const MB = 1024 * 1024;
const AT_ONCE = 3;

/** POSTs `body` as JSON to `path`, one byte per TCP segment (Nagle off, a turn of the loop between). */
function dripJson(url: string, path: string, body: Buffer): Promise<{ status: number; json: unknown }> {
  const { hostname, port } = new URL(url);
  const head =
    `POST ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAuthorization: Token ${TOKEN}\r\n` +
    `Content-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
  return dripFeed(url, head, body);
}

/** A valid JSON object of `size` bytes: whitespace, then `{"parts": []}`. */
const paddedJson = (size: number, json: string) => Buffer.concat([Buffer.alloc(size - json.length, ' '), Buffer.from(json)]);

describe('JSON bodies drip-fed one byte per TCP segment', () => {
  let dir: string;
  let service: ServiceProcess;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'attache-drip-json-'));
    writeFileSync(join(dir, 'tokens.json'), JSON.stringify({ tokens: [{ token: TOKEN, role: 'store', id: '42' }] }));
    service = await startServiceProcess(
      { HOST: '127.0.0.1', AUTH_TOKENS_FILE: join(dir, 'tokens.json'), STORAGE_DRIVER: 'memory', DIRECT_UPLOADS: 'on', DIRECT_UPLOAD_SECRET: 's'.repeat(40), PREVIEWS: 'on', STRIP_METADATA: 'on' },
      30_000,
      { asImage: true },
    );
  }, 60_000);
  afterAll(async () => {
    service?.child.kill('SIGTERM');
    await service?.exited;
    rmSync(dir, { recursive: true, force: true });
  });

  it(`cost about their bytes: ${AT_ONCE} of Uppy's 1 MiB completions and an announcement at once, answered, /healthz too`, async () => {
    const idle = processMemory(service.child.pid!).peakRssMb;
    const uppy = '/v1/chat/upload/uppy/s3/multipart/x.y/complete';
    const answers = await Promise.all([
      ...Array.from({ length: AT_ONCE }, () => dripJson(service.url, uppy, paddedJson(MB - 64, '{"parts": [{"PartNumber": 1, "ETag": "\\"e\\""}]}'))),
      dripJson(service.url, '/v1/chat/upload/direct/', paddedJson(16 * KiB - 64, '{"filename": "a.pdf", "size": 10}')),
    ]);
    const peak = processMemory(service.child.pid!).peakRssMb;
    console.log(`[drip-fed JSON] ${AT_ONCE} x 1 MiB + 16 KiB a byte per segment: peak RSS idle ${idle} MB, after ${peak} MB`);
    // The whole body was read: Uppy's refused as unknown (an id that is no upload), the announcement issued.
    for (const answer of answers.slice(0, AT_ONCE)) expect(answer).toMatchObject({ status: 404, json: { error: 'Upload not found' } });
    expect(answers[AT_ONCE]).toMatchObject({ status: 200, json: { upload_id: expect.any(String) } });
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
    // Their bytes are 3 MiB; kept a Buffer per byte they were ~300 MB. 40 MB leaves room for the
    // service's own allocations during the minute of dripping on a busy machine.
    expect(peak - idle).toBeLessThanOrEqual(40);
  }, 300_000);
});
