/**
 * Idempotency-Key on POST /v1/chat/upload/ (draft-ietf-httpapi-idempotency-key-header), through a
 * pooling client (undici's Agent): a retry gets the first answer and stores nothing; a second
 * request while the first runs gets 409; another file under the same key gets 422; a bad key 400.
 */
import { PassThrough } from 'node:stream';
import { Redis } from 'ioredis';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAttacheUnderTest, TEST_TOKENS, type AttacheUnderTest } from '../support/attache-under-test.ts';
import { fileNamed, fileWithText } from '../support/file-heads.ts';
import { multipartBody } from '../support/multipart.ts';
import { eventually } from '../support/eventually.ts';
import { startRedis, type RunningRedis } from '../support/redis/redis-server.ts';
import { memoryDriver } from '../support/stores-under-test.ts';

const photo = fileWithText('photo.jpg', 'the first photo');
const formOf = (content: Buffer, session: 'first' | 'after' = 'after') => {
  const file = { name: 'file', filename: 'photo.jpg', content };
  const sessionId = { name: 'session_id', value: 'idem' };
  return multipartBody(session === 'first' ? [sessionId, file] : [file, sessionId]);
};

describe('Idempotency-Key on the upload endpoint', () => {
  let attache: AttacheUnderTest;
  let agent: Agent;
  beforeAll(async () => {
    attache = await startAttacheUnderTest(memoryDriver, { MAX_FILE_SIZE: String(4 * 1024 * 1024) });
    agent = new Agent({ connections: 2 });
  });
  afterAll(async () => {
    await agent?.close();
    await attache?.close();
  });

  async function post(key: string | undefined, form: { body: Buffer | PassThrough; contentType: string }, token: string = TEST_TOKENS.store) {
    const headers: Record<string, string> = { Authorization: `Token ${token}`, 'Content-Type': form.contentType };
    if (key !== undefined) headers['Idempotency-Key'] = key;
    const response = await request(attache.uploadUrl, { method: 'POST', dispatcher: agent, headers, body: form.body });
    return { status: response.statusCode, json: (await response.body.json()) as Record<string, unknown> };
  }

  it('answers a retry with the first answer, byte for byte, and stores the file once (quoted and bare keys alike)', async () => {
    const before = (await attache.storedKeys()).length;
    const first = await post('"retry-1"', formOf(photo));
    expect(first.status).toBe(200);
    const again = await post('"retry-1"', formOf(photo, 'first'));
    const bare = await post('retry-1', formOf(photo));
    expect(again).toEqual(first);
    expect(bare).toEqual(first);
    expect((await attache.storedKeys()).length).toBe(before + 1);
    expect((await fetch(first.json['url'] as string)).status).toBe(200);
    // Counted apart in the metrics: the retries stored nothing.
    const metrics = await (await fetch(`${attache.url}/metrics`)).text();
    expect(metrics).toMatch(/attache_uploads_total\{outcome="replayed",type="none"[^}]*\} 2\b/);
  });

  it('refuses the same key with another file: 422, nothing stored', async () => {
    expect((await post('"reused-1"', formOf(photo))).status).toBe(200);
    const before = (await attache.storedKeys()).length;
    const other = await post('"reused-1"', formOf(fileWithText('photo.jpg', 'another photo')));
    expect(other).toEqual({ status: 422, json: { error: 'Idempotency key reused', detail: expect.any(String) } });
    // Larger than the first: refused as soon as it is longer, without reading all of it.
    expect((await post('"reused-1"', formOf(fileNamed('photo.jpg', 3 * 1024 * 1024)))).status).toBe(422);
    expect((await attache.storedKeys()).length).toBe(before);
    // The pool's connections still work.
    expect((await post(undefined, formOf(photo))).status).toBe(200);
  });

  it('answers 409 while the first request is still sending, then the first answer once it has finished', async () => {
    const form = formOf(fileNamed('photo.jpg', 512 * 1024));
    const slow = new PassThrough();
    const firstAnswer = post('"in-flight-1"', { body: slow, contentType: form.contentType });
    slow.write(form.body.subarray(0, 1000));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const meanwhile = await post('"in-flight-1"', form);
    expect(meanwhile).toEqual({ status: 409, json: { error: 'Upload in progress', detail: expect.any(String) } });
    slow.end(form.body.subarray(1000));
    const first = await firstAnswer;
    expect(first.status).toBe(200);
    expect(await post('"in-flight-1"', form)).toEqual(first);
  });

  it('frees the key of a refused first upload, so that a corrected retry is stored', async () => {
    const refused = await post('"refused-1"', formOf(Buffer.from('<!doctype html><html>not a photo')));
    expect(refused.status).toBe(400);
    expect((await post('"refused-1"', formOf(photo))).status).toBe(200);
  });

  it('keeps callers apart: the same key from another principal is its own upload', async () => {
    const mine = await post('"shared-key"', formOf(photo));
    const theirs = await post('"shared-key"', formOf(photo), TEST_TOKENS.admin);
    expect(theirs.status).toBe(200);
    expect(theirs.json['url']).not.toBe(mine.json['url']);
  });

  it.each([
    ['empty', ''],
    ['longer than 255 characters', `"${'k'.repeat(256)}"`],
    ['an unterminated string', '"abc'],
    ['a string with a bad escape', '"a\\b"'],
    ['two keys', '"a", "b"'],
    ['a bare key with a space', 'a b'],
  ])('answers 400 for a key that is %s, storing nothing', async (_, key) => {
    const before = (await attache.storedKeys()).length;
    const answer = await post(key, formOf(photo));
    expect(answer).toEqual({ status: 400, json: { error: 'Invalid Idempotency-Key', detail: expect.any(String) } });
    expect((await attache.storedKeys()).length).toBe(before);
  });
});

describe('Idempotency-Key kept in Valkey (REDIS_URL), when Valkey goes away', () => {
  let redis: RunningRedis;
  let attache: AttacheUnderTest;
  beforeAll(async () => {
    redis = await startRedis();
    attache = await startAttacheUnderTest(memoryDriver, { REDIS_URL: redis.url });
  });
  afterAll(async () => {
    await attache?.close();
    await redis?.stop();
  });

  const post = async (key: string | undefined) => {
    const form = formOf(photo);
    const headers: Record<string, string> = { Authorization: `Token ${TEST_TOKENS.store}`, 'Content-Type': form.contentType };
    if (key !== undefined) headers['Idempotency-Key'] = key;
    const response = await fetch(attache.uploadUrl, { method: 'POST', headers, body: form.body });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  };

  it('answers a keyed upload 503 Idempotency unavailable (it cannot promise once), takes unkeyed ones, stays ready naming it, and keys again once it is back', async () => {
    const first = await post('"valkey-1"');
    expect(first.status).toBe(200);
    expect(await post('"valkey-1"')).toEqual(first);
    await redis.kill();
    expect(await post('"valkey-2"')).toEqual({ status: 503, json: { error: 'Idempotency unavailable' } });
    expect((await post(undefined)).status).toBe(200);
    expect(await (await fetch(`${attache.url}/readyz`)).json()).toEqual({ status: 'ready', unavailable: ['idempotency'] });
    await redis.restart();
    await eventually(async () => expect((await post('"valkey-3"')).status).toBe(200), 10_000);
  });
});

describe('Idempotency-Key kept in Valkey (REDIS_URL), holding what attache did not write there', () => {
  let redis: RunningRedis;
  let attache: AttacheUnderTest;
  let valkey: Redis;
  beforeAll(async () => {
    redis = await startRedis();
    attache = await startAttacheUnderTest(memoryDriver, { REDIS_URL: redis.url });
    valkey = new Redis(redis.url);
  });
  afterAll(async () => {
    valkey?.disconnect();
    await attache?.close();
    await redis?.stop();
  });

  const post = async (key: string) => {
    const form = formOf(photo);
    const headers = { Authorization: `Token ${TEST_TOKENS.store}`, 'Content-Type': form.contentType, 'Idempotency-Key': key };
    const response = await fetch(attache.uploadUrl, { method: 'POST', headers, body: form.body });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  };

  // Another program sharing the server, or another version's format: a keyed upload is answered as
  // when Valkey cannot answer, never a 400 "malformed multipart body" quoting a JSON.parse error.
  it('answers 503 Idempotency unavailable for a kept answer that is not JSON', async () => {
    const before = new Set(await valkey.keys('attache:idempotency:*'));
    expect((await post('"foreign-1"')).status).toBe(200);
    const [record] = (await valkey.keys('attache:idempotency:*')).filter((k) => !before.has(k));
    const kept = JSON.parse((await valkey.get(record!))!.slice('f:'.length)) as { fingerprint: string };
    await valkey.set(record!, `f:${JSON.stringify({ fingerprint: kept.fingerprint, answer: 'not json' })}`);
    expect(await post('"foreign-1"')).toEqual({ status: 503, json: { error: 'Idempotency unavailable' } });
  });
});
