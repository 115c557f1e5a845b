import { Agent, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAttacheUnderTest, TEST_TOKENS, type AttacheUnderTest } from '../support/attache-under-test.ts';
import { readRealFile, REAL_FILES, upperCaseNameOf } from '../support/fixtures.ts';
import { multipartBody, type Part } from '../support/multipart.ts';
import { httpStoreDrivers } from '../support/stores-under-test.ts';
import { sha256 } from '../support/streams.ts';

interface Exchange {
  readonly status: number;
  readonly contentType: string | undefined;
  readonly body: Buffer;
  /** Whether the request went over a connection an earlier one had opened. */
  readonly reusedConnection: boolean;
}

/** One request through `agent`, the whole answer read (so the connection goes back to the pool). */
function exchange(agent: Agent, url: string, options: { method?: string; headers?: Record<string, string>; body?: Buffer } = {}): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, method: options.method ?? 'GET', headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () =>
        resolve({ status: res.statusCode!, contentType: res.headers['content-type'], body: Buffer.concat(chunks), reusedConnection: req.reusedSocket }),
      );
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

const FIELD_ORDERS = {
  'file, then session_id': (file: Part, session: Part) => [file, session],
  'session_id, then file': (file: Part, session: Part) => [session, file],
} as const;

/** Every fixture under its own name and upper-cased (`PHOTO.JPG`): 66 files. */
const UPLOADS = REAL_FILES.flatMap((file) => [file.name, upperCaseNameOf(file)].map((fileName) => ({ file, fileName })));

describe.each(httpStoreDrivers)('files made by real programs, uploaded with the $driver store', (driver) => {
  let attache: AttacheUnderTest;
  // One pool of kept-alive connections for the whole file, as a chat backend's client keeps.
  const agent = new Agent({ keepAlive: true, maxSockets: 2 });
  let requests = 0;
  let reused = 0;

  beforeAll(async () => {
    attache = await startAttacheUnderTest(driver);
  });
  afterAll(async () => {
    agent.destroy();
    await attache?.close();
  });

  async function send(url: string, options?: Parameters<typeof exchange>[2]): Promise<Exchange> {
    const answer = await exchange(agent, url, options);
    requests++;
    if (answer.reusedConnection) reused++;
    return answer;
  }

  describe.each(Object.entries(FIELD_ORDERS))('%s', (_, order) => {
    it.each(UPLOADS)('$fileName', async ({ file, fileName }) => {
      const content = await readRealFile(file);
      const form = multipartBody(order({ name: 'file', filename: fileName, content }, { name: 'session_id', value: 'real-files' }));
      const upload = await send(attache.uploadUrl, {
        method: 'POST',
        headers: { Authorization: `Token ${TEST_TOKENS.store}`, 'Content-Type': form.contentType, 'Content-Length': String(form.body.length) },
        body: form.body,
      });
      expect(upload.status, upload.body.toString()).toBe(200);
      const answer = JSON.parse(upload.body.toString()) as { url: string; type: string };
      expect(answer.type).toBe(file.mimeType);
      const download = await send(answer.url);
      expect(download.status).toBe(200);
      expect(download.contentType).toBe(file.mimeType);
      expect(sha256(download.body)).toBe(sha256(content));
    });
  });

  it('went over pooled connections: most requests reused one', () => {
    expect(requests).toBe(UPLOADS.length * 2 * Object.keys(FIELD_ORDERS).length);
    expect(reused).toBeGreaterThan(requests / 2);
  });
});
