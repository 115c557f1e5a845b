import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { ListMultipartUploadsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { InMemoryObjectStore } from '../../src/adapters/object-store/in-memory/in-memory-object-store.ts';
import { LocalDiskObjectStore } from '../../src/adapters/object-store/local-disk/local-disk-object-store.ts';
import { S3ObjectStore } from '../../src/adapters/object-store/s3/s3-object-store.ts';
import { ObjectPieces } from '../../src/adapters/resumable-pieces/object-pieces.ts';
import { S3Pieces } from '../../src/adapters/resumable-pieces/s3/s3-pieces.ts';
import { resumablePiecesContract } from '../contracts/resumable-pieces-contract.ts';
import { s3ClientFor, s3StoreOptionsFor } from '../support/s3/rgw-global-setup.ts';

const s3 = inject('s3');
const raw = s3ClientFor(s3);
const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
  raw.destroy();
});

/** The bucket's keys under `prefix`, and the keys of its open multipart uploads there. */
async function s3Staged(prefix: string): Promise<string[]> {
  const objects = (await raw.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: prefix }))).Contents ?? [];
  const uploads = (await raw.send(new ListMultipartUploadsCommand({ Bucket: s3.bucket, Prefix: prefix }))).Uploads ?? [];
  return [...objects.map((o) => o.Key!), ...uploads.map((u) => `multipart upload at ${u.Key}`)];
}

function s3Store(): S3ObjectStore {
  const store = new S3ObjectStore(s3StoreOptionsFor(s3, { partSizeBytes: 5 * 1024 * 1024 }));
  cleanups.push(() => store.close());
  return store;
}

resumablePiecesContract('ObjectPieces over InMemoryObjectStore', async () => {
  const store = new InMemoryObjectStore({ publicBaseUrl: 'https://cdn.example' });
  return { pieces: new ObjectPieces(store), other: new ObjectPieces(store), staged: async (prefix) => store.keys().filter((k) => k.startsWith(prefix)) };
});

resumablePiecesContract('ObjectPieces over LocalDiskObjectStore', async () => {
  const root = await mkdtemp(join(tmpdir(), 'attache-pieces-'));
  const store = new LocalDiskObjectStore({ rootDir: root, publicBaseUrl: 'http://localhost:8080/files' });
  const files = async (dir: string): Promise<string[]> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    const nested = await Promise.all(entries.map((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)])));
    return nested.flat();
  };
  return {
    pieces: new ObjectPieces(store),
    other: new ObjectPieces(store),
    staged: async (prefix) => (await files(root)).map((f) => relative(root, f)).filter((k) => k.startsWith(prefix)),
    close: () => rm(root, { recursive: true, force: true }),
  };
});

resumablePiecesContract('ObjectPieces over S3ObjectStore (Ceph RGW)', async () => {
  const [a, b] = [s3Store(), s3Store()];
  return { pieces: new ObjectPieces(a), other: new ObjectPieces(b), staged: s3Staged };
});

resumablePiecesContract('S3Pieces: one multipart upload (Ceph RGW)', async () => {
  const [a, b] = [s3Store(), s3Store()];
  return { pieces: new S3Pieces(a, a.bucketAccess), other: new S3Pieces(b, b.bucketAccess), staged: s3Staged };
});

describe('S3Pieces: what an abandoned upload leaves (Ceph RGW)', () => {
  it('its multipart upload is aborted by the staged sweep (removeUnfinished) once older than the window, not before; its objects go with the prefix', async () => {
    const store = s3Store();
    const pieces = new S3Pieces(store, store.bucketAccess);
    const id = randomUUID();
    const length = 12 * 1024 * 1024;
    await pieces.store(id, { offset: 0, length, piecesBefore: 0 }, Readable.from([randomBytes(6 * 1024 * 1024)]));
    await pieces.store(id, { offset: 6 * 1024 * 1024, length, piecesBefore: 1 }, Readable.from([randomBytes(1024 * 1024)]));
    const prefix = `staged/${id}`;
    const openUploads = async () => ((await raw.send(new ListMultipartUploadsCommand({ Bucket: s3.bucket, Prefix: prefix }))).Uploads ?? []).map((u) => u.Key);
    expect(await openUploads()).toEqual([`${prefix}.tus-whole`]);
    // A live upload (younger than the window the service gives the staged sweep on S3) is left alone.
    expect(await store.removeUnfinished(prefix, new Date(Date.now() - 3_600_000))).toBe(0);
    expect(await pieces.stored(id, length)).toEqual({ offset: 7 * 1024 * 1024, pieces: 2 });
    // Abandoned: past the window, the sweep aborts it (its parts go with it).
    expect(await store.removeUnfinished(prefix, new Date(Date.now() + 60_000))).toBe(1);
    expect(await openUploads()).toEqual([]);
    // The records, the UploadId and the held bytes are objects under staged/: they expire with the prefix.
    expect((await s3Staged(prefix)).length).toBeGreaterThan(0);
    await store.removeStale(prefix, new Date(Date.now() + 60_000));
    expect(await s3Staged(prefix)).toEqual([]);
  });
});
