/** KeyedSha256, the S3 client's SHA-256: the digests and HMACs node:crypto gives, whatever form the data and key take. */
import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KeyedSha256 } from '../../src/adapters/object-store/s3/keyed-sha256.ts';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('KeyedSha256', () => {
  const data = Buffer.from('AWS4-HMAC-SHA256\n20261207T120000Z\n20261207/us-east-1/s3/aws4_request\nabc');

  it('hashes as createHash does, text, bytes or a view alike, and digests more than once', async () => {
    const expected = createHash('sha256').update(data).digest('hex');
    for (const form of [data.toString('latin1'), new Uint8Array(data), data.buffer.slice(data.byteOffset, data.byteOffset + data.length), new DataView(data.buffer, data.byteOffset, data.length)]) {
      const hash = new KeyedSha256();
      hash.update(form);
      expect(hex(await hash.digest())).toBe(expected);
      expect(hex(await hash.digest())).toBe(expected);
    }
    expect(hex(await new KeyedSha256().digest())).toBe(createHash('sha256').digest('hex'));
  });

  it('signs as createHmac does, under a text or a byte key, the same key again and after many others', async () => {
    const keys = [Buffer.alloc(32, 7), Buffer.from('AWS4secret-access-key'), Buffer.alloc(32, 9)];
    for (let round = 0; round < 3; round++) {
      for (const key of [...keys, ...Array.from({ length: 20 }, (_, i) => Buffer.alloc(32, i + round))]) {
        const expected = createHmac('sha256', key).update(data).digest('hex');
        for (const form of [new Uint8Array(key), key.toString('utf8')]) {
          if (typeof form === 'string' && !Buffer.from(form, 'utf8').equals(key)) continue;
          const hmac = new KeyedSha256(form);
          hmac.update(data);
          expect(hex(await hmac.digest())).toBe(expected);
        }
      }
    }
  });

  it('refuses more data once an HMAC is digested, and starts over on reset', async () => {
    const hmac = new KeyedSha256(new Uint8Array(32));
    hmac.update(data);
    await hmac.digest();
    expect(() => hmac.update(data)).toThrow('already finished');
    hmac.reset();
    hmac.update(data);
    expect(hex(await hmac.digest())).toBe(createHmac('sha256', Buffer.alloc(32)).update(data).digest('hex'));
  });
});
