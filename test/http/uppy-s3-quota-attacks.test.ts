/**
 * Attacks on UPLOAD_QUOTA's charge at an Uppy multipart completion, on the run's Ceph RGW: a
 * completion racing the DELETE of the same upload, parts lists that name a part twice, out of
 * order, one RGW does not hold, or 10,000 entries. Every answer is a JSON refusal or the
 * attachment (never a 500); nothing is charged twice or for a refused list; nothing stays staged
 * or unfinished in the bucket.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { fileNamed } from '../support/file-heads.ts';
import { sendUppyParts, uppyClient } from '../support/uppy/companion-client.ts';
import { serviceOnRgw } from '../support/s3/service-on-rgw.ts';

const RACER = 'uppy-attack-token-000000000051';
const LISTER = 'uppy-attack-token-000000000052';
const BOTH = 'uppy-attack-token-000000000053';

describe.each(['in-process', 'valkey'] as const)('@uppy/aws-s3 completions under attack (UPLOAD_QUOTA, RGW, %s counters)', (counters) => {
  const service = serviceOnRgw({
    bucketPrefix: 'attache-uppy-attack',
    tokens: [{ token: RACER, id: '51' }, { token: LISTER, id: '52' }, { token: BOTH, id: '53' }],
    counters,
    env: { DIRECT_UPLOADS: 'on', UPLOAD_QUOTA: '20KB/1h' },
  });
  const { keys, unfinished } = service;

  const sendParts = (token: string, fileName: string, parts: Buffer[]) => sendUppyParts(uppyClient(`${service.url}/v1/chat/upload/uppy`, token), fileName, parts);

  it('a completion racing the DELETE of its upload: the attachment or a JSON refusal, never a 500; charged only for the attachments made; nothing staged or unfinished stays', async () => {
    const answers: { status: number; json: any }[] = [];
    for (let round = 0; round < 12; round += 1) {
      const upload = await sendParts(RACER, `race-${round}.pdf`, [fileNamed(`race-${round}.pdf`, 1000)]);
      const completing = upload.complete();
      // From at once to after the completion has joined the parts (RGW takes some tens of ms).
      await sleep(round * 6);
      const [completed, aborted] = await Promise.all([completing, upload.abort()]);
      expect(aborted.status, JSON.stringify(aborted.json)).toBeLessThan(500);
      expect(completed.status, JSON.stringify(completed.json)).toBeLessThan(500);
      expect(typeof completed.json.error === 'string' || typeof completed.json.url === 'string').toBe(true);
      answers.push(completed);
    }
    expect(await unfinished()).toEqual([]);
    const stored = await keys();
    expect(stored.filter((key) => !key.startsWith('chat/'))).toEqual([]);
    // Each attachment answered is there.
    const made = answers.filter((a) => a.status === 200);
    expect(stored.filter((key) => key.startsWith('chat/'))).toHaveLength(made.length);
    console.log(`[uppy attack] completion racing DELETE: ${answers.map((a) => (a.status === 200 ? 200 : `${a.status} ${a.json.error}`)).join(', ')}`);
    // Charged for the attachments made, nothing more: what is left of 20,000 bytes fits exactly.
    const rest = await sendParts(RACER, 'rest.pdf', [fileNamed('rest.pdf', 20_000 - 1000 * made.length)]);
    const fits = await rest.complete();
    expect(fits.status, JSON.stringify(fits.json)).toBe(200);
  }, 120_000);

  it('parts lists named twice, out of order, with a part RGW does not hold, 10,000 or 100,000 entries, or no list at all: 400 in JSON, nothing charged, the parts kept until DELETE', async () => {
    const before = await keys();
    const lists = (sent: { PartNumber: number; ETag: string }[]) => [
      [sent[0], sent[0], sent[1]],
      [sent[1], sent[0]],
      [...sent, { PartNumber: 3, ETag: sent[0]!.ETag }],
      [sent[0], { PartNumber: 2, ETag: '"0123456789abcdef0123456789abcdef"' }],
      Array.from({ length: 10_000 }, (_, index) => ({ PartNumber: index + 1, ETag: sent[index % 2]!.ETag })),
      [{ PartNumber: 0, ETag: sent[0]!.ETag }, sent[1]],
      [{ PartNumber: 10_001, ETag: sent[0]!.ETag }],
      [],
    ];
    for (const [index] of lists([{ PartNumber: 1, ETag: 'x' }, { PartNumber: 2, ETag: 'y' }]).entries()) {
      // Two parts of 6 MB (RGW wants 5 MiB but for the last): over the 20 KB quota if charged.
      const upload = await sendParts(LISTER, `list-${index}.pdf`, [fileNamed(`list-${index}.pdf`, 5 * 1024 * 1024), Buffer.alloc(100, 1)]);
      const refused = await upload.complete(lists(upload.sent)[index]);
      expect(refused.status, `${index}: ${JSON.stringify(refused.json)}`).toBe(400);
      expect(refused.json.error, `${index}`).toEqual(expect.any(String));
      // The parts stay for the right list (another completion may be joining them); DELETE drops them.
      expect(await unfinished()).toEqual([upload.key]);
      expect((await upload.abort()).status).toBe(200);
      expect(await unfinished()).toEqual([]);
    }
    // Lists that are not lists of parts, or too long to read (100,000 entries: over 1 MiB).
    const odd = await sendParts(LISTER, 'odd.pdf', [fileNamed('odd.pdf', 100)]);
    for (const parts of [[{ PartNumber: '1', ETag: odd.sent[0]!.ETag }], [null], 'parts', { 1: odd.sent[0] }, [{ PartNumber: 1.5, ETag: odd.sent[0]!.ETag }]]) {
      const refused = await odd.complete(parts);
      expect(refused, JSON.stringify(parts)).toMatchObject({ status: 400, json: { error: expect.any(String) } });
    }
    const huge = await odd.complete(Array.from({ length: 100_000 }, (_, index) => ({ PartNumber: index + 1, ETag: odd.sent[0]!.ETag })));
    // (readJsonObject's refusal of any JSON body over its limit: 413, saying the limit; the parts stay.)
    expect(huge, JSON.stringify(huge.json)).toMatchObject({ status: 413, json: { error: 'Request body too large', detail: expect.stringMatching(/at most 1048576 bytes/) } });
    expect(await unfinished()).toEqual([odd.key]);
    expect((await odd.abort()).status).toBe(200);
    expect(await keys()).toEqual(before);
    // Nothing was charged: 20,000 bytes still fit, once.
    const fits = await sendParts(LISTER, 'fits.pdf', [fileNamed('fits.pdf', 20_000)]);
    const made = await fits.complete();
    expect(made.status, JSON.stringify(made.json)).toBe(200);
    expect(await fits.complete()).toEqual(made);
    // And no more: even a start (which holds a byte while it counts the upload) is refused.
    const uppy = uppyClient(`${service.url}/v1/chat/upload/uppy`, LISTER);
    const started = await uppy('POST', 's3/multipart', { filename: 'over.pdf', type: 'application/pdf', metadata: { session_id: '9' } });
    expect(started).toMatchObject({ status: 429, json: { error: 'Quota exceeded' } });
    expect(await unfinished()).toEqual([]);
  }, 180_000);

  it('a completion with a bad parts list sent while the right one runs: the right one makes the attachment; the bad one is refused in JSON, or after the join answered as a retry', async () => {
    const rounds: string[] = [];
    for (let round = 0; round < 6; round += 1) {
      const upload = await sendParts(BOTH, `both-${round}.pdf`, [fileNamed(`both-${round}.pdf`, 500)]);
      const right = upload.complete();
      await sleep(round);
      const bad = await upload.complete([{ PartNumber: 1, ETag: '"0123456789abcdef0123456789abcdef"' }]);
      const good = await right;
      rounds.push(`${good.status}/${bad.status}`);
      expect(good.status, `round ${round}: ${JSON.stringify(good.json)} (the bad one: ${JSON.stringify(bad.json)})`).toBe(200);
      // After the join, any list is a retry of a completed upload: the same answer.
      if (bad.status === 200) expect(bad).toEqual(good);
      else expect(bad, JSON.stringify(bad.json)).toMatchObject({ status: 400, json: { error: 'Invalid upload' } });
    }
    console.log(`[uppy attack] right/bad completion answers: ${rounds.join(' ')}`);
    expect(await unfinished()).toEqual([]);
    expect((await keys()).filter((key) => !key.startsWith('chat/'))).toEqual([]);
  }, 120_000);
});
