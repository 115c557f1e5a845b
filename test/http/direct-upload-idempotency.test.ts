/**
 * Idempotency-Key on a direct upload's ticket (`POST /v1/chat/upload/direct/`), through one
 * pooling client: a retried announcement gets the same upload_id and target, counted once
 * against the limits; another announcement under the key, 422; a bad key, 400.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, request } from 'undici';
import { startAttacheUnderTest, TEST_TOKENS, type AttacheUnderTest } from '../support/attache-under-test.ts';
import type { IssuedTarget } from '../support/direct-client.ts';
import { directClient } from '../support/direct-client.ts';
import { fileNamed } from '../support/file-heads.ts';
import { memoryDriver } from '../support/stores-under-test.ts';

describe('Idempotency-Key on the direct-upload ticket', () => {
  let attache: AttacheUnderTest;
  let agent: Agent;
  beforeAll(async () => {
    attache = await startAttacheUnderTest(memoryDriver, { UPLOAD_RATE_LIMIT: '3/1h' });
    agent = new Agent({ connections: 1 });
  });
  afterAll(async () => {
    await agent?.close();
    await attache?.close();
  });

  async function issue(key: string | undefined, announcement: Record<string, unknown>, token: string = TEST_TOKENS.store) {
    const headers: Record<string, string> = { authorization: `Token ${token}`, 'content-type': 'application/json' };
    if (key !== undefined) headers['idempotency-key'] = key;
    const response = await request(`${attache.url}/v1/chat/upload/direct/`, { method: 'POST', dispatcher: agent, headers, body: JSON.stringify(announcement) });
    return { status: response.statusCode, json: (await response.body.json()) as Record<string, unknown> };
  }

  it('answers a retried announcement with the same upload_id and target, counted once; the upload then completes once', async () => {
    const bytes = fileNamed('report.pdf', 5000);
    const announcement = { filename: 'report.pdf', size: bytes.length, session_id: '9' };
    const answers = [];
    // Five times against a limit of three uploads an hour: one ticket, one upload counted.
    for (let i = 0; i < 5; i++) answers.push(await issue('"ticket-1"', announcement, TEST_TOKENS.admin));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    expect(new Set(answers.map((a) => JSON.stringify(a.json))).size).toBe(1);
    expect((await issue('"ticket-2"', announcement, TEST_TOKENS.admin)).status).toBe(200);

    const client = directClient(attache.url, agent);
    const target = answers[0]!.json as unknown as IssuedTarget;
    expect((await client.send(target, bytes)).status).toBe(204);
    expect((await client.complete(TEST_TOKENS.admin, target.upload_id)).status).toBe(200);
  });

  it('refuses another announcement under the same key (another size, name or SHA-256) with 422', async () => {
    expect((await issue('"ticket-3"', { filename: 'a.pdf', size: 1000 })).status).toBe(200);
    for (const other of [{ filename: 'a.pdf', size: 1001 }, { filename: 'b.pdf', size: 1000 }, { filename: 'a.pdf', size: 1000, sha256: 'a'.repeat(64) }]) {
      expect(await issue('"ticket-3"', other)).toEqual({ status: 422, json: { error: 'Idempotency key reused', detail: expect.any(String) } });
    }
  });

  it('frees the key of a refused announcement, so that a corrected one is issued', async () => {
    expect((await issue('"ticket-4"', { filename: 'a.exe', size: 1000 })).status).toBe(400);
    expect((await issue('"ticket-4"', { filename: 'a.pdf', size: 1000 })).status).toBe(200);
  });

  it('keeps tickets and form uploads apart: the same key names each once', async () => {
    expect((await issue('"shared-5"', { filename: 'a.pdf', size: 1000 }, TEST_TOKENS.storeWithoutId)).status).toBe(200);
    const form = new FormData();
    form.append('file', new Blob([fileNamed('a.pdf', 1000)]), 'a.pdf');
    const upload = await fetch(attache.uploadUrl, { method: 'POST', headers: { Authorization: `Token ${TEST_TOKENS.storeWithoutId}`, 'Idempotency-Key': '"shared-5"' }, body: form });
    expect(upload.status).toBe(200);
  });

  it('answers 400 for an invalid key, issuing nothing', async () => {
    expect(await issue('"unterminated', { filename: 'a.pdf', size: 1000 })).toEqual({ status: 400, json: { error: 'Invalid Idempotency-Key', detail: expect.any(String) } });
  });
});
