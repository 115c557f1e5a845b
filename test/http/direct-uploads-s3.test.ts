/**
 * Direct uploads to Ceph RGW between two service processes sharing DIRECT_UPLOAD_SECRET, as
 * `npm start` runs them in production: issued on one, the bytes sent straight to RGW through the
 * presigned URL, completed on the other, with scanning (the suite's clamd) and previews on.
 * Completion refuses what the upload endpoint refuses, and then nothing of the upload remains.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { directClient, type IssuedTarget } from '../support/direct-client.ts';
import { EICAR } from '../support/fake-malware-scanner.ts';
import { fileNamed, fileWithText } from '../support/file-heads.ts';
import { FIXTURES_DIR } from '../support/fixtures.ts';
import { directUploadsOnRgw, stagedIdOf as idOf } from '../support/s3/direct-uploads-on-rgw.ts';
import { sha256 } from '../support/streams.ts';

const TOKEN = 'direct-store-token-000000042';

describe('direct uploads to Ceph RGW, issued on one process and completed on another', () => {
  const s3 = inject('s3');
  const clamd = inject('clamdTestServer');
  const rgw = directUploadsOnRgw({
    token: TOKEN,
    bucketPrefix: 'attache-direct',
    env: { MALWARE_SCAN: 'clamd', CLAMD_HOST: clamd.host, CLAMD_PORT: String(clamd.port) },
  });
  const { keys } = rgw;
  /** What the upload left: its staged bytes, its attachment or preview (a completion's receipt aside). */
  const leftBy = async (id: string) => (await keys()).filter((key) => key.includes(id) && !key.endsWith('.answer.json'));

  async function sendDirect(fileName: string, bytes: Buffer, extra: Record<string, unknown> = {}) {
    const issued = await directClient(rgw.issuer.url, rgw.agent).issue(TOKEN, { filename: fileName, size: bytes.length, session_id: '8', ...extra });
    expect(issued.status).toBe(200);
    const target = issued.json as unknown as IssuedTarget;
    expect(new URL(target.url).origin).toBe(new URL(s3.endpoint).origin);
    expect((await directClient(rgw.issuer.url, rgw.agent).send(target, bytes)).status).toBe(200);
    return target;
  }

  it('a photo: stored from the bucket, with its preview, the same answer from either process', async () => {
    const photo = await readFile(join(FIXTURES_DIR, 'jpeg-imagemagick-baseline.jpg'));
    const target = await sendDirect('photo.jpg', photo, { sha256: sha256(photo) });
    const completed = await directClient(rgw.completer.url, rgw.agent).complete(TOKEN, target.upload_id);
    expect(completed.status).toBe(200);
    expect(completed.json).toMatchObject({ type: 'image/jpeg', size: photo.length, sha256: sha256(photo), width: expect.any(Number), preview_url: expect.stringContaining('.preview.webp') });
    expect(await directClient(rgw.issuer.url, rgw.agent).complete(TOKEN, target.upload_id)).toEqual(completed);
    const id = idOf(target);
    expect(await leftBy(id)).toEqual([`chat/session-8/${id}-photo.jpg`, `chat/session-8/${id}-photo.jpg.preview.webp`]);
  });

  it.each<[string, string, Buffer, Record<string, unknown>, number, string]>([
    ['a .jpg that is a PDF', 'photo.jpg', fileNamed('a.pdf', 3000), {}, 400, 'Unsupported file type'],
    ['a body that is not the declared SHA-256', 'a.pdf', fileNamed('a.pdf', 3000), { sha256: 'cd'.repeat(32) }, 400, 'Checksum mismatch'],
    ['EICAR, with clamd scanning', 'a.pdf', fileWithText('a.pdf', EICAR), {}, 422, 'File rejected'],
  ])('refuses %s at completion, and nothing of the upload remains', async (_, fileName, bytes, extra, status, error) => {
    const target = await sendDirect(fileName, bytes, extra);
    expect(await leftBy(idOf(target))).toEqual([`staged/${idOf(target)}`]);
    const refused = await directClient(rgw.completer.url, rgw.agent).complete(TOKEN, target.upload_id);
    expect(refused.status).toBe(status);
    expect(refused.json['error']).toBe(error);
    expect(await leftBy(idOf(target))).toEqual([]);
  });

  it('refuses at RGW a body one byte larger than announced, and a completion then says incomplete', async () => {
    const bytes = fileNamed('a.pdf', 3000);
    const issued = (await directClient(rgw.issuer.url, rgw.agent).issue(TOKEN, { filename: 'a.pdf', size: 2999 })).json as unknown as IssuedTarget;
    const sent = await directClient(rgw.issuer.url, rgw.agent).send(issued, bytes);
    expect(sent.status).toBe(403);
    expect(await directClient(rgw.completer.url, rgw.agent).complete(TOKEN, issued.upload_id)).toEqual({ status: 409, json: { error: 'Upload incomplete' } });
    expect(await leftBy(idOf(issued))).toEqual([]);
  });
});
