/**
 * The same direct upload completed by several requests at once (a client that retried while its
 * first completion was still running, two tabs, a balancer's retry): each answers the one
 * attachment's 200, or 409 `Upload in progress` while the first is still finishing, and a later
 * retry gets the 200. Before, the requests that lost the race to the final key answered 409
 * `Upload conflict` "…; retry the upload", which told the client to send its file again. Against a
 * service process with previews and metadata stripping on (the winner's work between its final
 * put and its receipt is then longest). Uppy's completion ends in the same code.
 */
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES_DIR } from '../support/fixtures.ts';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.ts';

const TOKEN = 'concurrent-store-token-0042';
const AUTH = { Authorization: `Token ${TOKEN}` };
const AT_ONCE = 6;

describe('concurrent completions of one direct upload', () => {
  let dir: string;
  let service: ServiceProcess;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'attache-concurrent-'));
    await writeFile(join(dir, 'tokens.json'), JSON.stringify({ tokens: [{ token: TOKEN, role: 'store', id: '42' }] }));
    service = await startServiceProcess(
      {
        STORAGE_DRIVER: 'local',
        LOCAL_STORAGE_DIR: join(dir, 'store'),
        AUTH_TOKENS_FILE: join(dir, 'tokens.json'),
        DIRECT_UPLOADS: 'on',
        DIRECT_UPLOAD_SECRET: 's'.repeat(40),
        PREVIEWS: 'on',
        STRIP_METADATA: 'on',
      },
      30_000,
    );
  }, 60_000);
  afterAll(async () => {
    service?.child.kill('SIGTERM');
    await service?.exited;
    await rm(dir, { recursive: true, force: true });
  });

  it('answer the one attachment, or "Upload in progress" until it is made; never "Upload conflict"', async () => {
    const photo = await readFile(join(FIXTURES_DIR, 'jpeg-exiftool-orientation6-gps.jpg'));
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
      const answers = await Promise.all(Array.from({ length: AT_ONCE }, complete));
      const made = answers.filter((a) => a.status === 200);
      expect(made.length, JSON.stringify(answers)).toBeGreaterThanOrEqual(1);
      for (const answer of answers) {
        if (answer.status === 200) expect(answer.json).toEqual(made[0]!.json);
        else expect(answer, JSON.stringify(answer)).toMatchObject({ status: 409, json: { error: 'Upload in progress' } });
      }
      const retry = await complete();
      expect(retry).toEqual({ status: 200, json: made[0]!.json });
      // One attachment, served.
      expect((await fetch(String(made[0]!.json['url']))).status).toBe(200);
    }
    expect(service.child.exitCode).toBeNull();
  }, 60_000);
});
