// S3Pieces sends a piece's bytes from a part buffer of the store's pool, hashed as they arrive: the
// parts follow the store's payload signing (the part's own SHA-256 where parts are signed,
// UNSIGNED-PAYLOAD over HTTPS where they are not), every byte lands where it belongs however the
// request's chunks fall across part boundaries, and the buffers are reused, not piled up.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { S3Pieces } from '../../src/adapters/resumable-pieces/s3/s3-pieces.ts';
import { s3StoresBehindProxies } from '../support/s3/stores-behind-proxies.ts';
import { readAll, sha256 } from '../support/streams.ts';

const MIB = 1024 * 1024;
const HEX_SHA256 = /^[0-9a-f]{64}$/;

const { overTls, overHttp, storeAt } = await s3StoresBehindProxies();

/** `bytes` in chunks of `chunkBytes` (the last shorter), as a request body arrives. */
const chunked = (bytes: Buffer, chunkBytes: number) =>
  Readable.from(Array.from({ length: Math.ceil(bytes.length / chunkBytes) }, (_, i) => bytes.subarray(i * chunkBytes, (i + 1) * chunkBytes)));

/** Stores `file` in pieces of `pieceBytes`, each arriving in chunks of `chunkBytes`; resolves with the whole upload's bytes and its id. */
async function upload(pieces: S3Pieces, file: Buffer, pieceBytes: number, chunkBytes: number) {
  const id = randomUUID();
  for (let offset = 0, n = 0; offset < file.length; offset += pieceBytes, n++) {
    const piece = file.subarray(offset, offset + pieceBytes);
    expect(await pieces.store(id, { offset, length: file.length, piecesBefore: n }, chunked(piece, chunkBytes))).toBe(piece.length);
  }
  const whole = await pieces.whole(id, file.length, undefined);
  const stored = await readAll(whole.content);
  await whole.remove();
  return { id, stored };
}

describe('S3Pieces: the parts of a piece', () => {
  // Pieces of 6 MiB + 5 in 64 KiB + 3 chunks: parts of 5 MiB cut mid-chunk, bytes held back between
  // pieces (under 5 MiB), a last part shorter than the others.
  const file = randomBytes(17 * MIB + 11);
  const pieceBytes = 6 * MIB + 5;
  const chunkBytes = 64 * 1024 + 3;

  it('over plain HTTP (signed parts): each part is signed with its own SHA-256, and the whole upload is the file', async () => {
    const store = storeAt(overHttp.endpoint);
    const { id, stored } = await upload(new S3Pieces(store, store.bucketAccess), file, pieceBytes, chunkBytes);
    expect(sha256(stored)).toBe(sha256(file));
    const parts = overHttp.seenFor(`staged/${id}.tus-whole`).filter((r) => r.what === 'PUT ?partNumber');
    expect(parts.length).toBeGreaterThanOrEqual(3);
    for (const part of parts) expect(part.payloadHash).toMatch(HEX_SHA256);
    // The first part is the file's first 5 MiB: its hash is theirs (RGW checked each against its body too).
    expect(parts[0]!.payloadHash).toBe(createHash('sha256').update(file.subarray(0, 5 * MIB)).digest('hex'));
  });

  it("over HTTPS with 'unsigned-over-https': the parts go UNSIGNED-PAYLOAD, and the whole upload is the file", async () => {
    const store = storeAt(overTls.endpoint, { payloadSigning: 'unsigned-over-https' });
    const { id, stored } = await upload(new S3Pieces(store, store.bucketAccess), file, pieceBytes, chunkBytes);
    expect(sha256(stored)).toBe(sha256(file));
    const parts = overTls.seenFor(`staged/${id}.tus-whole`).filter((r) => r.what === 'PUT ?partNumber');
    expect(parts.length).toBeGreaterThanOrEqual(3);
    for (const part of parts) expect(part.payloadHash).toBe('UNSIGNED-PAYLOAD');
  });

  it('takes its part buffers from the store’s pool and gives them back: uploads one after another reuse the same one', async () => {
    const store = storeAt(overHttp.endpoint);
    const pool = store.bucketAccess.parts;
    const taken = new Set<ArrayBufferLike>();
    const take = pool.take.bind(pool);
    pool.take = () => {
      const buffer = take();
      taken.add(buffer.buffer);
      return buffer;
    };
    const pieces = new S3Pieces(store, store.bucketAccess);
    for (let i = 0; i < 3; i++) expect(sha256((await upload(pieces, file, pieceBytes, chunkBytes)).stored)).toBe(sha256(file));
    expect(taken.size).toBe(1);
  });
});
