import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalDiskObjectStore } from '../../src/adapters/object-store/local-disk/local-disk-object-store.ts';
import { StorageUnavailable } from '../../src/domain/errors.ts';
import type { ObjectKey } from '../../src/domain/object-key.ts';
import { objectStoreContract } from '../contracts/object-store-contract.ts';

const roots: string[] = [];
async function newRoot() {
  const root = await mkdtemp(join(tmpdir(), 'attache-disk-'));
  roots.push(root);
  return root;
}
afterAll(async () => {
  await Promise.all(roots.map((r) => rm(r, { recursive: true, force: true })));
});

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

objectStoreContract('LocalDiskObjectStore', async () => {
  const root = await newRoot();
  return {
    store: new LocalDiskObjectStore({ rootDir: root, publicBaseUrl: 'http://localhost:8080/files' }),
    // No temp file, no sidecar: a failed upload leaves the directory as it found it.
    assertNothingPending: async (key) => {
      const leftovers = (await filesUnder(root)).filter((f) => f.includes(key.split('/')[1]!));
      if (leftovers.length > 0) throw new Error(`left behind: ${leftovers.join(', ')}`);
    },
  };
});

describe('LocalDiskObjectStore', () => {
  const meta = { contentType: 'image/png', fileName: 'a.png', disposition: 'inline' } as const;

  it('refuses keys that would escape its root or name hidden files', async () => {
    const store = new LocalDiskObjectStore({ rootDir: await newRoot(), publicBaseUrl: 'http://x' });
    for (const key of ['../outside.png', 'chat/../../x.png', 'chat/.hidden.png', '/etc/passwd', 'chat//a.png']) {
      await expect(store.put(key as ObjectKey, Readable.from([Buffer.from('x')]), meta)).rejects.toThrow(TypeError);
      expect(await store.read(key as ObjectKey)).toBeUndefined();
    }
  });

  it('reports StorageUnavailable when its root cannot be written', async () => {
    const root = await newRoot();
    const notADirectory = join(root, 'file');
    await writeFile(notADirectory, 'x');
    const store = new LocalDiskObjectStore({ rootDir: notADirectory, publicBaseUrl: 'http://x' });
    await expect(store.checkReady()).rejects.toBeInstanceOf(StorageUnavailable);
    await expect(store.put('chat/general/a.png' as ObjectKey, Readable.from([Buffer.from('x')]), meta)).rejects.toBeInstanceOf(
      StorageUnavailable,
    );
  });

  it('serves a published file without its sidecar with a safe default type', async () => {
    const root = await newRoot();
    const store = new LocalDiskObjectStore({ rootDir: root, publicBaseUrl: 'http://x' });
    await store.put('chat/general/k-a.png' as ObjectKey, Readable.from([Buffer.from('x')]), meta);
    await rm(join(root, 'chat/general/.k-a.png.meta.json'));
    expect(await store.read('chat/general/k-a.png' as ObjectKey)).toMatchObject({
      contentType: 'application/octet-stream',
      disposition: 'attachment',
    });
  });
});
