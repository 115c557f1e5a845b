/**
 * Clients that pool connections (undici, Node's http.Agent with keepAlive, fetch) send their next
 * request on the connection of the last one, and most never retry a POST that meets a closed
 * one. An answer sent before the body's end must therefore leave the connection either usable
 * (the rest of a small body read and thrown away) or clearly closed (`Connection: close`), never
 * "keep-alive" followed by a reset.
 */
import { request as httpRequest, Agent as HttpAgent, type IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, request as undiciRequest } from 'undici';
import { KEEP_ALIVE_DISCARD_MAX_BYTES } from '../../src/adapters/http/request-body.ts';
import { startAttacheUnderTest, TEST_TOKENS, type AttacheUnderTest } from '../support/attache-under-test.ts';
import { fileNamed } from '../support/file-heads.ts';
import { multipartBody } from '../support/multipart.ts';
import { seededRandom, testSeed } from '../support/seeded-random.ts';
import { memoryDriver } from '../support/stores-under-test.ts';

const KB = 1024;
const MB = 1024 * KB;
const MAX_FILE_SIZE = 2 * MB;

interface Attempt {
  readonly token: string;
  readonly fileName: string;
  readonly content: Buffer;
  /** Where the session id goes: first is the fast path, after is the spec's own order. */
  readonly session?: 'first' | 'after';
}

function formOf(attempt: Attempt) {
  const file = { name: 'file', filename: attempt.fileName, content: attempt.content };
  const session = { name: 'session_id', value: 'pool' };
  return multipartBody(attempt.session === 'first' ? [session, file] : attempt.session === 'after' ? [file, session] : [file]);
}

const valid = (size = 50 * KB, session: Attempt['session'] = 'after'): Attempt => ({
  token: TEST_TOKENS.store,
  fileName: 'photo.jpg',
  content: fileNamed('photo.jpg', size),
  session,
});

/** Each kind of early answer, with a body small enough to be read to its end and one that is not. */
const refusals: Array<[string, Attempt, number]> = [
  ['401, wrong token, 300 KB', { ...valid(300 * KB), token: 'wrong-token-000000000000' }, 401],
  ['401, wrong token, 3 MB', { ...valid(3 * MB), token: 'wrong-token-000000000000' }, 401],
  ['400, refused extension (virus.exe), 300 KB', { ...valid(), fileName: 'virus.exe', content: Buffer.alloc(300 * KB, 0x4d) }, 400],
  ['400, refused extension (virus.exe), 3 MB, session first', { ...valid(0, 'first'), fileName: 'virus.exe', content: Buffer.alloc(3 * MB, 0x4d) }, 400],
  ['400, content is HTML, 300 KB', { ...valid(), content: Buffer.from('<!doctype html><html>' + 'x'.repeat(300 * KB)) }, 400],
  ['400, content is HTML, 3 MB, session first', { ...valid(0, 'first'), content: Buffer.from('<!doctype html><html>' + 'x'.repeat(3 * MB)) }, 400],
  ['413, 3 MB over a 2 MiB limit, file first', valid(3 * MB, 'after'), 413],
  ['413, 3 MB over a 2 MiB limit, session first', valid(3 * MB, 'first'), 413],
];

describe('pooled keep-alive connections after an early answer', () => {
  let attache: AttacheUnderTest;
  beforeAll(async () => {
    attache = await startAttacheUnderTest(memoryDriver, { MAX_FILE_SIZE: String(MAX_FILE_SIZE) });
  });
  afterAll(async () => {
    await attache?.close();
  });

  describe('undici Agent, one connection', () => {
    it.each(refusals)('%s, then a valid upload on the same pool', async (_, refused, status) => {
      const agent = new Agent({ connections: 1 });
      try {
        const send = async (attempt: Attempt) => {
          const response = await undiciPost(agent, attache.uploadUrl, attempt);
          return { status: response.statusCode, headers: response.headers, json: (await response.body.json()) as { error?: string; url?: string } };
        };
        const first = await send(refused);
        expect(first.status).toBe(status);
        expect(first.json.error).toEqual(expect.any(String));
        expectCloseOnlyForLargeBodies(first.headers, refused);
        for (let i = 0; i < 3; i++) expect((await send(valid())).status).toBe(200);
      } finally {
        await agent.close();
      }
    });
  });

  describe("Node's http.Agent with keepAlive, one socket", () => {
    it.each(refusals)('%s, then a valid upload on the same pool', async (_, refused, status) => {
      const agent = new HttpAgent({ keepAlive: true, maxSockets: 1 });
      try {
        const first = await nodeRequest(agent, attache.uploadUrl, refused);
        expect(first.status).toBe(status);
        expectCloseOnlyForLargeBodies(first.headers, refused);
        const next = await nodeRequest(agent, attache.uploadUrl, valid());
        expect(next.status).toBe(200);
        // A small refused body leaves the connection in use; a large one closes it, cleanly.
        expect(next.reusedSocket).toBe(!isLarge(refused));
      } finally {
        agent.destroy();
      }
    });
  });

  it('fetch (its global pool): each refusal, then valid uploads', async () => {
    for (const [, refused, status] of refusals) {
      const { body, contentType } = formOf(refused);
      const response = await fetch(attache.uploadUrl, { method: 'POST', headers: { Authorization: `Token ${refused.token}`, 'Content-Type': contentType }, body });
      expect(response.status).toBe(status);
      await response.arrayBuffer();
      for (let i = 0; i < 2; i++) {
        const ok = formOf(valid());
        const answer = await fetch(attache.uploadUrl, { method: 'POST', headers: { Authorization: `Token ${TEST_TOKENS.store}`, 'Content-Type': ok.contentType }, body: ok.body });
        expect(answer.status).toBe(200);
        await answer.arrayBuffer();
      }
    }
  });

  it(`a mixed run of 2,000 requests at concurrency 16, 1 in 20 refused: no connection error on any valid upload (seed ${testSeed()})`, async () => {
    const random = seededRandom(testSeed());
    // Half the workers pool with undici, half with Node's http.Agent: 8 connections each.
    const agent = new Agent({ connections: 8 });
    const nodeAgent = new HttpAgent({ keepAlive: true, maxSockets: 8 });
    const outcomes = { ok: 0, refusedAsExpected: 0, failedValid: [] as string[] };
    let next = 0;
    const plan = Array.from({ length: 2000 }, () => {
      if (random() < 0.05) return refusals[Math.floor(random() * refusals.length)]!;
      return ['valid', valid(Math.round(1 * KB + random() * 100 * KB), random() < 0.5 ? 'first' : 'after'), 200] as const;
    });
    async function send(attempt: Attempt, viaUndici: boolean): Promise<number> {
      if (!viaUndici) return (await nodeRequest(nodeAgent, attache.uploadUrl, attempt)).status;
      const response = await undiciPost(agent, attache.uploadUrl, attempt);
      await response.body.dump();
      return response.statusCode;
    }
    async function worker(index: number) {
      while (next < plan.length) {
        const [, attempt, status] = plan[next++]!;
        try {
          const answered = await send(attempt, index % 2 === 0);
          if (status === 200 && answered !== 200) outcomes.failedValid.push(`status ${answered}`);
          else if (status === 200) outcomes.ok++;
          else if (answered === status) outcomes.refusedAsExpected++;
        } catch (error) {
          if (status === 200) outcomes.failedValid.push(String((error as { code?: string }).code ?? error));
        }
      }
    }
    try {
      await Promise.all(Array.from({ length: 16 }, (_, index) => worker(index)));
    } finally {
      await agent.close();
      nodeAgent.destroy();
    }
    expect(outcomes.failedValid).toEqual([]);
    expect(outcomes.ok).toBe(plan.filter(([, , status]) => status === 200).length);
  });
});

function undiciPost(agent: Agent, url: string, attempt: Attempt) {
  const { body, contentType } = formOf(attempt);
  return undiciRequest(url, { dispatcher: agent, method: 'POST', headers: { authorization: `Token ${attempt.token}`, 'content-type': contentType }, body });
}

function isLarge(attempt: Attempt): boolean {
  return formOf(attempt).body.length > KEEP_ALIVE_DISCARD_MAX_BYTES;
}

function expectCloseOnlyForLargeBodies(headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>, attempt: Attempt): void {
  if (isLarge(attempt)) expect(headers['connection']).toBe('close');
  else expect(headers['connection']).not.toBe('close');
}

function nodeRequest(agent: HttpAgent, url: string, attempt: Attempt) {
  const { body, contentType } = formOf(attempt);
  return new Promise<{ status: number; headers: IncomingHttpHeaders; reusedSocket: boolean }>((resolve, reject) => {
    const req = httpRequest(url, {
      agent,
      method: 'POST',
      headers: { Authorization: `Token ${attempt.token}`, 'Content-Type': contentType, 'Content-Length': body.length },
    });
    req.once('error', reject);
    req.once('response', (response) => {
      response.resume();
      response.once('end', () => resolve({ status: response.statusCode!, headers: response.headers, reusedSocket: req.reusedSocket }));
    });
    req.end(body);
  });
}
