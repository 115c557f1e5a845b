/**
 * A direct upload's completion on Ceph RGW, scanning off: the attachment is a copy of the staged
 * object made within the bucket, with the headers and metadata the upload endpoint's put gives; no
 * receipt is kept (the answer is rebuilt from the attachment for a retry, on any process); nothing
 * staged remains.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { contentDispositionFor, IMMUTABLE_CACHE_CONTROL } from '../../src/adapters/object-store/object-headers.ts';
import { directClient, type IssuedTarget } from '../support/direct-client.ts';
import { fileNamed } from '../support/file-heads.ts';
import { s3ClientFor, s3ServiceEnv } from '../support/s3/rgw-global-setup.ts';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.ts';
import { sha256 } from '../support/streams.ts';

const TOKEN = 'direct-store-token-000000042';

describe('direct uploads to Ceph RGW, completed by a copy within the bucket', () => {
  const s3 = inject('s3');
  const bucket = `attache-copy-${randomUUID().slice(0, 8)}`;
  let dir: string;
  let raw: S3Client;
  let agent: Agent;
  let issuer: ServiceProcess;
  let completer: ServiceProcess;
  const keys = async () => ((await raw.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map((o) => o.Key!).sort();
  const idOf = (target: IssuedTarget) => /staged\/([0-9a-f-]{36})/.exec(target.url)![1]!;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'attache-direct-copy-'));
    raw = s3ClientFor(s3);
    await raw.send(new CreateBucketCommand({ Bucket: bucket }));
    const tokensFile = join(dir, 'tokens.json');
    await writeFile(tokensFile, JSON.stringify({ tokens: [{ token: TOKEN, role: 'store', id: '42' }] }));
    const env = {
      NODE_ENV: 'production',
      AUTH_TOKENS_FILE: tokensFile,
      ...s3ServiceEnv(s3, bucket),
      DIRECT_UPLOADS: 'on',
      DIRECT_UPLOAD_SECRET: 'shared-by-both-processes-0123456789',
      STORAGE_CHECK: 'off',
    };
    [issuer, completer] = await Promise.all([startServiceProcess(env, 60_000), startServiceProcess(env, 60_000)]);
    agent = new Agent({ connections: 2 });
  }, 90_000);
  afterAll(async () => {
    for (const service of [issuer, completer]) service?.child.kill('SIGTERM');
    await Promise.all([issuer?.exited, completer?.exited]);
    await agent?.close();
    raw?.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    ['a small PDF', 3000],
    ['a 9 MB PDF (past the 8 MiB part size of a put)', 9 * 1024 * 1024],
  ])('%s: the attachment alone remains, with the put headers, and a retry on the other process gets the same answer', async (_, size) => {
    const pdf = fileNamed('Отчёт.pdf', size);
    const issued = await directClient(issuer.url, agent).issue(TOKEN, { filename: 'Отчёт.pdf', size, session_id: '8', sha256: sha256(pdf) });
    const target = issued.json as unknown as IssuedTarget;
    expect((await directClient(issuer.url, agent).send(target, pdf)).status).toBe(200);
    const completed = await directClient(completer.url, agent).complete(TOKEN, target.upload_id);
    expect(completed.status).toBe(200);
    expect(completed.json).toMatchObject({ type: 'application/pdf', size, sha256: sha256(pdf) });
    const id = idOf(target);
    const key = (await keys()).find((k) => k.includes(id))!;
    expect(key).toMatch(new RegExp(`^chat/session-8/${id}-`));
    // No staged object, no receipt: the attachment is all there is.
    expect((await keys()).filter((k) => k.includes(id))).toEqual([key]);
    const head = await raw.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    expect(head).toMatchObject({
      ContentType: 'application/pdf',
      ContentLength: size,
      CacheControl: IMMUTABLE_CACHE_CONTROL,
      ContentDisposition: contentDispositionFor({ fileName: 'Отчёт.pdf', disposition: 'attachment' }),
    });
    expect(head.Metadata).toEqual({ sha256: sha256(pdf), uploader: 'store:42' });
    // A lost answer, retried on the other process: the same 200, rebuilt from the attachment.
    expect(await directClient(issuer.url, agent).complete(TOKEN, target.upload_id)).toEqual(completed);
  });
});
