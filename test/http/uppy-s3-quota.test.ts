/**
 * UPLOAD_QUOTA over the routes `@uppy/aws-s3` calls, on the run's Ceph RGW, with the counters in
 * the process and in a real Valkey (redis-server): Uppy announces no size when it starts, so the
 * bytes are charged at the completion, from the sizes of the parts RGW holds, before the parts are
 * joined. One over the quota is refused as the upload endpoint refuses it, and leaves nothing.
 */
import { describe, expect, it } from 'vitest';
import { fileNamed } from '../support/file-heads.ts';
import { sendUppyParts, uppyClient } from '../support/uppy/companion-client.ts';
import { serviceOnRgw } from '../support/s3/service-on-rgw.ts';

const TOKEN = 'uppy-quota-token-00000000042';
const RACER = 'uppy-quota-token-00000000043';

describe.each(['in-process', 'valkey'] as const)('@uppy/aws-s3 signing routes under UPLOAD_QUOTA (%s counters)', (counters) => {
  const service = serviceOnRgw({
    bucketPrefix: 'attache-uppy-quota',
    tokens: [{ token: TOKEN, id: '42' }, { token: RACER, id: '43' }],
    counters,
    env: { DIRECT_UPLOADS: 'on', UPLOAD_QUOTA: '10KB/1h' },
  });
  const { keys, unfinished } = service;
  const attachments = async () => (await keys()).filter((key) => key.startsWith('chat/'));

  /** Start, sign each part, PUT it to RGW, as Uppy does; what completes it. */
  const sendParts = (fileName: string, parts: Buffer[], uppy = uppyClient(`${service.url}/v1/chat/upload/uppy`, TOKEN)) => sendUppyParts(uppy, fileName, parts);

  const formUpload = async (size: number) => {
    const form = new FormData();
    form.append('session_id', '9');
    form.append('file', new Blob([new Uint8Array(fileNamed('form.pdf', size))]), 'form.pdf');
    const response = await fetch(`${service.url}/v1/chat/upload/`, { method: 'POST', headers: { Authorization: `Token ${TOKEN}` }, body: form });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  };

  it('charges the parts’ bytes at the completion, once however often it is retried, and refuses one over the quota as the upload endpoint does, leaving nothing', async () => {
    // 4,000 of 10,000 bytes; completed again (a lost answer), charged once.
    const first = await sendParts('first.pdf', [fileNamed('first.pdf', 4000)]);
    const completed = await first.complete();
    expect(completed.status, JSON.stringify(completed.json)).toBe(200);
    expect(completed.json.size).toBe(4000);
    expect(await first.complete()).toEqual(completed);
    // 4,000 + 5,000 stored: the form reserves its body's length (a little more) and settles at 5,000.
    expect((await formUpload(5000)).status).toBe(200);

    // 1,000 bytes are left: a 3,000-byte Uppy upload starts (no size yet), its parts reach RGW, and
    // its completion is refused before they are joined.
    const before = await attachments();
    const over = await sendParts('over.pdf', [fileNamed('over.pdf', 3000)]);
    const refused = await over.complete();
    expect(refused.status, JSON.stringify(refused.json)).toBe(429);
    const formRefused = await formUpload(3000);
    expect(formRefused).toMatchObject({ status: 429, json: { error: 'Quota exceeded' } });
    expect(refused.status).toBe(formRefused.status);
    // The upload endpoint's body, plus the `message` Uppy shows.
    expect(refused.json).toEqual({ ...formRefused.json, message: expect.stringMatching(/^Quota exceeded/) });
    expect(await attachments()).toEqual(before);
    expect((await keys()).filter((key) => key === over.key)).toEqual([]);
    expect(await unfinished()).toEqual([]);
    // The refused completion charged nothing: 900 bytes still fit.
    const small = await sendParts('small.pdf', [fileNamed('small.pdf', 900)]);
    expect((await small.complete()).status).toBe(200);
    expect((await formUpload(200)).status).toBe(429);
  });

  it('completions of one upload sent at once, with room for it once only: one attachment, charged once, its parts never dropped', async () => {
    const racer = uppyClient(`${service.url}/v1/chat/upload/uppy`, RACER);
    const upload = await sendParts('race.pdf', [fileNamed('race.pdf', 6000)], racer);
    const answers = await Promise.all(Array.from({ length: 6 }, upload.complete));
    const made = answers.filter((a) => a.status === 200);
    for (const answer of answers) {
      if (answer.status !== 200) expect(answer, JSON.stringify(answer)).toMatchObject({ status: 409, json: { error: 'Upload in progress' } });
    }
    const last = await upload.complete();
    expect(last.status, JSON.stringify(last.json)).toBe(200);
    if (made.length > 0) expect(last).toEqual(made[0]);
    expect(await unfinished()).toEqual([]);
    // 4,000 bytes are left: charged once.
    const rest = await sendParts('rest.pdf', [fileNamed('rest.pdf', 4000)], racer);
    expect((await rest.complete()).status).toBe(200);
  });
});
