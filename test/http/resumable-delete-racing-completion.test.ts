/**
 * A tus DELETE sent while the upload's last PATCH is completing, both for real over HTTP, started
 * a little apart from round to round so that each wins some: the first to claim the upload's
 * ending has it. The DELETE first: 204, the PATCH 404, no attachment ever made. The PATCH first:
 * its 204 with the attachment, the DELETE 409 "Upload in progress" while it is being made (asked
 * again, 204) or 204 once it is, the attachment staying. Never a 500, never a half-made
 * attachment, and once the DELETE has answered 204 nothing of the upload is left under staged/.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAttacheUnderTest, TEST_TOKENS, type AttacheUnderTest } from '../support/attache-under-test.ts';
import { eventually } from '../support/eventually.ts';
import { fileNamed } from '../support/file-heads.ts';
import { s3Driver } from '../support/s3/s3-store-driver.ts';
import { localDriver } from '../support/stores-under-test.ts';
import { sha256 } from '../support/streams.ts';
import { tusRequest } from '../support/tus-requests.ts';

const ROUNDS = 12;
const FIRST_PART = 64 * 1024;

describe.each([localDriver, s3Driver])('a tus DELETE racing the last PATCH, with the $driver store', (driver) => {
  let attache: AttacheUnderTest;
  let agent: Agent;
  beforeAll(async () => {
    attache = await startAttacheUnderTest(driver, {});
    agent = new Agent({ connections: 8 });
  });
  afterAll(async () => {
    await agent?.close();
    await attache?.close();
  });

  it('one of them ends the upload, each answers what happened, nothing half-made or left behind', async () => {
    const tus = tusRequest(attache.url, agent);
    const token = TEST_TOKENS.store;
    const seen = new Map<string, number>();
    for (let round = 0; round < ROUNDS; round++) {
      const bytes = Buffer.concat([fileNamed('report.pdf', 1000), randomBytes(1024 * 1024 + round * 7919)]);
      const session = `race-${round}-${Date.now()}`;
      const created = await tus(token, 'POST', `${attache.url}/v1/chat/upload/resumable/`, {
        'upload-length': String(bytes.length),
        'upload-metadata': `filename ${Buffer.from('report.pdf').toString('base64')},session_id ${Buffer.from(session).toString('base64')}`,
      });
      expect(created.status).toBe(201);
      const url = new URL(created.headers['location']!, attache.url).toString();
      const id = url.split('/').at(-1)!;
      const patch = (offset: number, part: Buffer) =>
        tus(token, 'PATCH', url, { 'upload-offset': String(offset), 'content-type': 'application/offset+octet-stream' }, part);
      expect((await patch(0, bytes.subarray(0, FIRST_PART))).status).toBe(204);

      const last = patch(FIRST_PART, bytes.subarray(FIRST_PART));
      // From DELETE first to DELETE well into the completion.
      await sleep(round % 4 === 0 ? 0 : (round % 4) * 15);
      const deleted = tus(token, 'DELETE', url);
      const [patched, deleteAnswer] = await Promise.all([last, deleted]);
      // (Not the local store's hidden sidecars.)
      const attachments = async () => (await attache.storedKeys()).filter((key) => key.startsWith(`chat/session-${session}/`) && !key.includes('/.'));

      expect([204, 404], JSON.stringify(patched.json)).toContain(patched.status);
      expect([204, 409], JSON.stringify(deleteAnswer.json)).toContain(deleteAnswer.status);
      if (patched.status === 404) {
        // The DELETE ended it first: no attachment, then or later.
        expect(deleteAnswer.status).toBe(204);
        expect(patched.json).toMatchObject({ error: 'Upload not found' });
        expect(await attachments()).toEqual([]);
      } else {
        expect(patched.headers['attache-sha256']).toBe(sha256(bytes));
        if (deleteAnswer.status === 409) {
          expect(deleteAnswer.json).toMatchObject({ error: 'Upload in progress' });
          await eventually(async () => expect((await tus(token, 'DELETE', url)).status).toBe(204));
        }
        // The attachment made stays, whole.
        const [key] = await attachments();
        expect(await attachments()).toEqual([key]);
        const download = await fetch(patched.headers['attache-url']!);
        expect(sha256(Buffer.from(await download.arrayBuffer()))).toBe(sha256(bytes));
      }
      expect((await tus(token, 'HEAD', url)).status).toBe(404);
      expect((await attache.storedKeys()).filter((key) => key.includes('staged/') && key.includes(id))).toEqual([]);
      const outcome = `PATCH ${patched.status}, DELETE ${deleteAnswer.status}`;
      seen.set(outcome, (seen.get(outcome) ?? 0) + 1);
    }
    console.log(`[${driver.driver}] outcomes over ${ROUNDS} rounds:`, Object.fromEntries(seen));
  }, 180_000);
});
