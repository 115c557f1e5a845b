/**
 * A direct upload's completion on Ceph RGW, scanning off: the attachment is a copy of the staged
 * object made within the bucket, with the headers and metadata the upload endpoint's put gives; no
 * receipt is kept (the answer is rebuilt from the attachment for a retry, on any process); nothing
 * staged remains.
 */
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { contentDispositionFor, IMMUTABLE_CACHE_CONTROL } from '../../src/adapters/object-store/object-headers.ts';
import { directClient, type IssuedTarget } from '../support/direct-client.ts';
import { fileNamed } from '../support/file-heads.ts';
import { directUploadsOnRgw, stagedIdOf as idOf } from '../support/s3/direct-uploads-on-rgw.ts';
import { sha256 } from '../support/streams.ts';

const TOKEN = 'direct-store-token-000000042';

describe('direct uploads to Ceph RGW, completed by a copy within the bucket', () => {
  const rgw = directUploadsOnRgw({ token: TOKEN, bucketPrefix: 'attache-copy' });
  const { keys, bucket } = rgw;

  it.each([
    ['a small PDF', 3000],
    ['a 9 MB PDF (past the 8 MiB part size of a put)', 9 * 1024 * 1024],
  ])('%s: the attachment alone remains, with the put headers, and a retry on the other process gets the same answer', async (_, size) => {
    const pdf = fileNamed('Отчёт.pdf', size);
    const issued = await directClient(rgw.issuer.url, rgw.agent).issue(TOKEN, { filename: 'Отчёт.pdf', size, session_id: '8', sha256: sha256(pdf) });
    const target = issued.json as unknown as IssuedTarget;
    expect((await directClient(rgw.issuer.url, rgw.agent).send(target, pdf)).status).toBe(200);
    const completed = await directClient(rgw.completer.url, rgw.agent).complete(TOKEN, target.upload_id);
    expect(completed.status).toBe(200);
    expect(completed.json).toMatchObject({ type: 'application/pdf', size, sha256: sha256(pdf) });
    const id = idOf(target);
    const key = (await keys()).find((k) => k.includes(id))!;
    expect(key).toMatch(new RegExp(`^chat/session-8/${id}-`));
    // No staged object, no receipt: the attachment is all there is.
    expect((await keys()).filter((k) => k.includes(id))).toEqual([key]);
    const head = await rgw.raw.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    expect(head).toMatchObject({
      ContentType: 'application/pdf',
      ContentLength: size,
      CacheControl: IMMUTABLE_CACHE_CONTROL,
      ContentDisposition: contentDispositionFor({ fileName: 'Отчёт.pdf', disposition: 'attachment' }),
    });
    expect(head.Metadata).toEqual({ sha256: sha256(pdf), uploader: 'store:42' });
    // A lost answer, retried on the other process: the same 200, rebuilt from the attachment.
    expect(await directClient(rgw.issuer.url, rgw.agent).complete(TOKEN, target.upload_id)).toEqual(completed);
  });
});
