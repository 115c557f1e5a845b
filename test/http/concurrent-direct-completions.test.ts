/**
 * The same direct upload completed by several requests at once (a client that retried while its
 * first completion was still running, two tabs, a balancer's retry): each answers the one
 * attachment's 200, or 409 `Upload in progress` while the first is still finishing, and a later
 * retry gets the 200. Before, the requests that lost the race to the final key answered 409
 * `Upload conflict` "…; retry the upload", which told the client to send its file again. Against a
 * service process with previews and metadata stripping on (the winner's work between its final
 * put and its receipt is then longest); and Uppy's completion of one multipart upload on Ceph RGW.
 */
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { CreateBucketCommand, ListMultipartUploadsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { describe, expect, inject, it } from 'vitest';
import { FIXTURES_DIR } from '../support/fixtures.ts';
import { s3ClientFor, s3ServiceEnv } from '../support/s3/rgw-global-setup.ts';
import { localDirectUploadService } from '../support/local-direct-service.ts';
import { startServiceProcess } from '../support/service-process.ts';

const TOKEN = 'concurrent-store-token-0042';
const AUTH = { Authorization: `Token ${TOKEN}` };
const AT_ONCE = 6;

interface Answer {
  readonly status: number;
  readonly json: Record<string, unknown>;
}

/** AT_ONCE completions at once: each answers the one attachment's 200, or 409 `Upload in progress`. Returns the 200s. */
async function oneAttachmentOrInProgress(complete: () => Promise<Answer>): Promise<Answer[]> {
  const answers = await Promise.all(Array.from({ length: AT_ONCE }, complete));
  const made = answers.filter((a) => a.status === 200);
  expect(made.length, JSON.stringify(answers)).toBeGreaterThanOrEqual(1);
  for (const answer of answers) {
    if (answer.status === 200) expect(answer.json).toEqual(made[0]!.json);
    else expect(answer, JSON.stringify(answer)).toMatchObject({ status: 409, json: { error: 'Upload in progress' } });
  }
  return made;
}

describe('concurrent completions of one direct upload', () => {
  const local = localDirectUploadService(TOKEN);

  it('answer the one attachment, or "Upload in progress" until it is made; never "Upload conflict"', async () => {
    const photo = await readFile(join(FIXTURES_DIR, 'jpeg-exiftool-orientation6-gps.jpg'));
    const { service } = local;
    const api = `${service.url}/v1/chat/upload/direct/`;
    for (let round = 0; round < 3; round++) {
      const issued = (await (
        await fetch(api, { method: 'POST', headers: { ...AUTH, 'Content-Type': 'application/json' }, body: JSON.stringify({ filename: 'photo.jpg', size: photo.length }) })
      ).json()) as { upload_id: string; url: string; headers: Record<string, string> };
      expect((await fetch(issued.url, { method: 'PUT', headers: issued.headers, body: new Uint8Array(photo) })).status).toBe(204);

      const complete = async () => {
        const answer = await fetch(`${api}${issued.upload_id}/complete`, { method: 'POST', headers: AUTH });
        return { status: answer.status, json: (await answer.json()) as Record<string, unknown> };
      };
      const made = await oneAttachmentOrInProgress(complete);
      const retry = await complete();
      expect(retry).toEqual({ status: 200, json: made[0]!.json });
      // One attachment, served.
      expect((await fetch(String(made[0]!.json['url']))).status).toBe(200);
    }
    expect(service.child.exitCode).toBeNull();
  }, 60_000);
});

describe("concurrent completions of one Uppy multipart upload on Ceph RGW", () => {
  it('answer the one attachment, or "Upload in progress"; one object, no multipart upload left', async () => {
    const s3 = inject('s3');
    const bucket = `attache-race-${randomUUID().slice(0, 8)}`;
    const raw = s3ClientFor(s3);
    await raw.send(new CreateBucketCommand({ Bucket: bucket }));
    const dir = await mkdtemp(join(tmpdir(), 'attache-concurrent-s3-'));
    await writeFile(join(dir, 'tokens.json'), JSON.stringify({ tokens: [{ token: TOKEN, role: 'store', id: '42' }] }));
    const service = await startServiceProcess(
      { AUTH_TOKENS_FILE: join(dir, 'tokens.json'), ...s3ServiceEnv(s3, bucket), DIRECT_UPLOADS: 'on', STORAGE_CHECK: 'off', PREVIEWS: 'on', STRIP_METADATA: 'on' },
      60_000,
    );
    try {
      const photo = await readFile(join(FIXTURES_DIR, 'jpeg-exiftool-orientation6-gps.jpg'));
      const uppy = `${service.url}/v1/chat/upload/uppy/s3/multipart`;
      const json = { ...AUTH, 'Content-Type': 'application/json' };
      const started = (await (await fetch(uppy, { method: 'POST', headers: json, body: JSON.stringify({ filename: 'photo.jpg', metadata: {} }) })).json()) as { uploadId: string };
      const id = encodeURIComponent(started.uploadId);
      const signed = (await (await fetch(`${uppy}/${id}/1`, { headers: AUTH })).json()) as { url: string; headers?: Record<string, string> };
      const put = await fetch(signed.url, { method: 'PUT', headers: signed.headers ?? {}, body: new Uint8Array(photo) });
      expect(put.status).toBe(200);
      const parts = JSON.stringify({ parts: [{ PartNumber: 1, ETag: put.headers.get('etag') }] });
      const complete = async () => {
        const answer = await fetch(`${uppy}/${id}/complete`, { method: 'POST', headers: json, body: parts });
        return { status: answer.status, json: (await answer.json()) as Record<string, unknown> };
      };
      const made = await oneAttachmentOrInProgress(complete);
      expect(await complete()).toEqual({ status: 200, json: made[0]!.json });
      const keys = ((await raw.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map((o) => o.Key!);
      expect(keys.filter((key) => key.startsWith('chat/'))).toHaveLength(2); // the photo and its preview
      expect((await raw.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? []).toEqual([]);
    } finally {
      service.child.kill('SIGTERM');
      await service.exited;
      raw.destroy();
      await rm(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
