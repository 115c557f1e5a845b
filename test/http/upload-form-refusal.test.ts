import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileTooLarge } from '../../src/domain/errors.ts';
import { bytesReadBy, streamForm, uploadFormAppOnLoopback, type UploadFormApp } from '../support/upload-form-app.ts';

const ANSWER_DELAY_MS = 300;
const BODY_BYTES = 64 * 1024 * 1024;

/**
 * Between a file refused mid-stream and its answer lies whatever undoing the upload costs (a Valkey
 * round trip to give back a reservation, an S3 abort). Over loopback a body arrives at a GB/s: were
 * it read meanwhile, a body of any size would be read whole before its answer.
 */
describe('a form whose file is refused while the answer takes its time', () => {
  let app: UploadFormApp;

  beforeAll(async () => {
    app = await uploadFormAppOnLoopback(async (part) => {
      await new Promise((resolve) => part.content.once('data', resolve));
      part.content.destroy();
      throw new FileTooLarge(1024);
    }, ANSWER_DELAY_MS);
  });
  afterAll(() => app.close());

  it('reads no more of the body until it has answered, then only its bounded discard', async () => {
    const boundary = 'refusal-boundary';
    async function* body() {
      yield Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\nContent-Type: application/pdf\r\n\r\n`);
      const block = randomBytes(64 * 1024);
      for (let sent = 0; sent < BODY_BYTES; sent += block.length) yield block;
      yield Buffer.from(`\r\n--${boundary}--\r\n`);
    }
    let status: number | undefined;
    const read = await bytesReadBy(app.server, async () => {
      ({ status } = await streamForm(app.url, { 'Content-Type': `multipart/form-data; boundary=${boundary}` }, body()));
    });
    expect(status).toBe(413);
    // What the parser and the streams buffer (a few hundred KB), then the lingering close's 4 MiB.
    expect(read).toBeLessThan(8 * 1024 * 1024);
  });
});
