/**
 * The answer's `size` and `sha256` describe the bytes stored, not the bytes sent: with
 * STRIP_METADATA=on they differ. Checked on every store, on every path a file takes through the
 * use case: session_id before the file (streamed to its final key), after it (held in memory when
 * small, streamed to a provisional key and moved when over MEMORY_HOLD_BYTES), and none.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MEMORY_HOLD_BYTES } from '../../src/application/upload-attachment.ts';
import { startAttacheUnderTest, TEST_TOKENS, type AttacheUnderTest } from '../support/attache-under-test.ts';
import { multipartBody } from '../support/multipart.ts';
import { seededRandom } from '../support/seeded-random.ts';
import { httpStoreDrivers } from '../support/stores-under-test.ts';
import { sha256 } from '../support/streams.ts';

/** A photo with an EXIF Artist to strip, of about `side`² × 3 bytes of noise (JPEG barely compresses noise). */
async function photoWithExif(side: number): Promise<Buffer> {
  const random = seededRandom(side);
  const pixels = Buffer.alloc(side * side * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = Math.floor(random() * 256);
  return sharp(pixels, { raw: { width: side, height: side, channels: 3 } })
    .jpeg({ quality: 90 })
    .withExif({ IFD0: { Artist: 'Jane Doe', Copyright: 'secret' } })
    .toBuffer();
}

type Order = 'session first' | 'file first' | 'no session';

async function upload(attache: AttacheUnderTest, content: Buffer, order: Order) {
  const file = { name: 'file', filename: 'phone.jpg', content };
  const session = { name: 'session_id', value: 'digest' };
  const parts = order === 'session first' ? [session, file] : order === 'file first' ? [file, session] : [file];
  const { body, contentType } = multipartBody(parts);
  const response = await fetch(attache.uploadUrl, { method: 'POST', headers: { Authorization: `Token ${TEST_TOKENS.admin}`, 'Content-Type': contentType }, body });
  return { status: response.status, json: (await response.json()) as { url?: string; size?: number; sha256?: string } };
}

const small = photoWithExif(64);
const large = photoWithExif(640);

describe.each(httpStoreDrivers)('answered size and sha256 with STRIP_METADATA=on, $driver store', (driver) => {
  let attache: AttacheUnderTest;
  beforeAll(async () => {
    attache = await startAttacheUnderTest(driver, { STRIP_METADATA: 'on' });
  });
  afterAll(async () => {
    await attache?.close();
  });

  it('the photos are what the paths need: one held in memory, one over MEMORY_HOLD_BYTES', async () => {
    expect((await small).length).toBeLessThan(MEMORY_HOLD_BYTES);
    expect((await large).length).toBeGreaterThan(MEMORY_HOLD_BYTES);
  });

  for (const [label, photo] of [
    ['a small photo', small],
    ['a photo over the memory hold', large],
  ] as const) {
    for (const order of ['session first', 'file first', 'no session'] as const) {
      it(`${label}, ${order}: the answer is the stored bytes' size and SHA-256, metadata gone`, async () => {
        const sent = await photo;
        const { status, json } = await upload(attache, sent, order);
        expect(status, JSON.stringify(json)).toBe(200);
        const stored = Buffer.from(await (await fetch(json.url!)).arrayBuffer());
        expect(stored.includes(Buffer.from('Jane Doe'))).toBe(false);
        expect(stored.length).toBeLessThan(sent.length);
        expect(json).toMatchObject({ size: stored.length, sha256: sha256(stored) });
      });
    }
  }
});
