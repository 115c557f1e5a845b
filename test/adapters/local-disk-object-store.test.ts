import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import Koa from 'koa';
import { afterAll, describe, expect, it } from 'vitest';
import { filesRoute } from '../../src/adapters/http/files-route.ts';
import { LocalDiskObjectStore } from '../../src/adapters/object-store/local-disk/local-disk-object-store.ts';
import { StorageUnavailable } from '../../src/domain/errors.ts';
import type { ObjectKey } from '../../src/domain/object-key.ts';
import { objectStoreContract } from '../contracts/object-store-contract.ts';
import { sha256 } from '../support/streams.ts';

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

  it('keeps the SHA-256 in the sidecar, and moves it with the file', async () => {
    const root = await newRoot();
    const store = new LocalDiskObjectStore({ rootDir: root, publicBaseUrl: 'http://x' });
    const bytes = Buffer.from('some png bytes');
    const { sha256: hash } = await store.put('incoming/k-a.png' as ObjectKey, Readable.from([bytes]), meta);
    expect(JSON.parse(await readFile(join(root, 'incoming/.k-a.png.meta.json'), 'utf8'))).toEqual({ ...meta, sha256: sha256(bytes) });
    await store.move('incoming/k-a.png' as ObjectKey, 'chat/general/k-a.png' as ObjectKey);
    expect(JSON.parse(await readFile(join(root, 'chat/general/.k-a.png.meta.json'), 'utf8'))).toEqual({ ...meta, sha256: hash });
    expect(await filesUnder(root)).toEqual([join(root, 'chat/general/.k-a.png.meta.json'), join(root, 'chat/general/k-a.png')].sort());
  });

  it('fails a put whose sidecar cannot be written, leaving nothing', async () => {
    const root = await newRoot();
    const store = new LocalDiskObjectStore({ rootDir: root, publicBaseUrl: 'http://x' });
    // A directory where the sidecar goes: renaming the written sidecar over it fails.
    await mkdir(join(root, 'chat/general/.k-a.png.meta.json/x'), { recursive: true });
    const put = store.put('chat/general/k-a.png' as ObjectKey, Readable.from([Buffer.from('x')]), meta);
    await expect(put).rejects.toBeInstanceOf(StorageUnavailable);
    expect(await store.read('chat/general/k-a.png' as ObjectKey)).toBeUndefined();
    expect(await filesUnder(root)).toEqual([]); // no object, no temp file (the directory in the way holds none)
  });

  it('fails a move whose sidecar cannot follow, leaving the object where it was', async () => {
    const root = await newRoot();
    const store = new LocalDiskObjectStore({ rootDir: root, publicBaseUrl: 'http://x' });
    await store.put('incoming/k-a.png' as ObjectKey, Readable.from([Buffer.from('x')]), meta);
    await mkdir(join(root, 'chat/general/.k-a.png.meta.json/x'), { recursive: true });
    await expect(store.move('incoming/k-a.png' as ObjectKey, 'chat/general/k-a.png' as ObjectKey)).rejects.toBeInstanceOf(StorageUnavailable);
    expect(await store.read('chat/general/k-a.png' as ObjectKey)).toBeUndefined();
    expect(await store.read('incoming/k-a.png' as ObjectKey)).toMatchObject({ ...meta, sha256: sha256(Buffer.from('x')) });
  });

  it('serves the SHA-256 at /files as Repr-Digest (RFC 9530) and X-Checksum-Sha256', async () => {
    const store = new LocalDiskObjectStore({ rootDir: await newRoot(), publicBaseUrl: 'http://x' });
    const bytes = Buffer.from('served bytes');
    await store.put('chat/general/k-a.png' as ObjectKey, Readable.from([bytes]), meta);
    const app = new Koa().use(filesRoute(store));
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/files/chat/general/k-a.png`);
      expect(response.status).toBe(200);
      expect(response.headers.get('repr-digest')).toBe(`sha-256=:${createHash('sha256').update(bytes).digest('base64')}:`);
      expect(response.headers.get('x-checksum-sha256')).toBe(sha256(bytes));
      expect(Buffer.from(await response.arrayBuffer())).toEqual(bytes);
    } finally {
      server.close();
    }
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

describe('LocalDiskObjectStore sweeping', () => {
  it('removes the temp files of writes whose process died, once old enough, and nothing else', async () => {
    const root = await newRoot();
    const store = new LocalDiskObjectStore({ rootDir: root, publicBaseUrl: 'http://localhost:8080/files' });
    const key = 'chat/sweep/1-a.pdf' as ObjectKey;
    await store.put(key, Readable.from([Buffer.from('%PDF-1.7 finished')]), { contentType: 'application/pdf', fileName: 'a.pdf', disposition: 'attachment' });
    // What a process killed mid-write leaves: a hidden temp file beside where the object would go.
    await writeFile(join(root, 'chat', 'sweep', '.2-b.pdf.0f0e.partial'), 'half');
    expect(await store.removeUnfinished('chat/', new Date(Date.now() - 60_000))).toBe(0);
    expect(await store.removeUnfinished('chat/', new Date(Date.now() + 60_000))).toBe(1);
    expect((await filesUnder(root)).map((f) => f.slice(root.length))).toEqual(
      expect.arrayContaining(['/chat/sweep/1-a.pdf', '/chat/sweep/.1-a.pdf.meta.json']),
    );
    expect(await filesUnder(root)).toHaveLength(2);
    // A prefix that names no folder yet is nothing to sweep.
    expect(await store.removeStale('incoming/', new Date(Date.now() + 60_000))).toBe(0);
  });
});
