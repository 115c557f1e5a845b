/**
 * The `local` driver's lifecycle: LocalDiskSweeper removes, on a real folder, what a bucket's rules
 * would expire, judged by the files' modification times.
 */
import { mkdir, mkdtemp, readdir, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LocalDiskObjectStore } from '../../src/adapters/object-store/local-disk/local-disk-object-store.ts';
import { LocalDiskSweeper } from '../../src/adapters/object-store/local-disk/local-disk-sweeper.ts';
import type { ObjectKey } from '../../src/domain/object-key.ts';
import { lifecycleRulesFor } from '../../src/domain/lifecycle-rules.ts';

const DAY = 24 * 60 * 60;

async function files(root: string): Promise<string[]> {
  const entries = await readdir(root, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(root.length + 1)).sort();
}

/** A folder the local store wrote to, with some files made `ageDays` old. */
async function folderWith(aged: Record<string, number>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'attache-sweep-'));
  const store = new LocalDiskObjectStore({ rootDir: root, publicBaseUrl: 'http://x/files' });
  const meta = { contentType: 'image/jpeg', fileName: 'a.jpg', disposition: 'inline' } as const;
  for (const [key, ageDays] of Object.entries(aged)) {
    if (key.endsWith('.partial')) {
      await mkdir(dirname(join(root, key)), { recursive: true });
      await writeFile(join(root, key), 'half');
    } else {
      await store.put(key as ObjectKey, Readable.from([Buffer.from('x')]), meta);
    }
    const when = Date.now() / 1000 - ageDays * DAY;
    for (const path of [join(root, key), join(dirname(join(root, key)), `.${key.split('/').at(-1)}.meta.json`)]) await utimes(path, when, when).catch(() => {});
  }
  return root;
}

describe('LocalDiskSweeper', () => {
  const aged = {
    'incoming/old-photo.jpg': 2,
    'incoming/new-photo.jpg': 0,
    'chat/s/old-a.jpg': 40,
    'chat/s/new-b.jpg': 1,
    'chat/s/.old-c.jpg.1234.partial': 2,
    'chat/s/.new-d.jpg.5678.partial': 0,
  };

  it('removes provisional uploads over a day old, and half-written files; keeps attachments without RETENTION_DAYS', async () => {
    const root = await folderWith(aged);
    const outcome = await new LocalDiskSweeper({ rootDir: root }).apply(lifecycleRulesFor(undefined), { dryRun: false });
    expect(outcome.backendConfiguration).toEqual({ removed: ['chat/s/.old-c.jpg.1234.partial', 'incoming/.old-photo.jpg.meta.json', 'incoming/old-photo.jpg'] });
    expect(await files(root)).toEqual([
      'chat/s/.new-b.jpg.meta.json',
      'chat/s/.new-d.jpg.5678.partial',
      'chat/s/.old-a.jpg.meta.json',
      'chat/s/new-b.jpg',
      'chat/s/old-a.jpg',
      'incoming/.new-photo.jpg.meta.json',
      'incoming/new-photo.jpg',
    ]);
  });

  it('with RETENTION_DAYS removes older attachments with their sidecars; a dry run removes nothing', async () => {
    const root = await folderWith(aged);
    const before = await files(root);
    const dry = await new LocalDiskSweeper({ rootDir: root }).apply(lifecycleRulesFor(30), { dryRun: true });
    expect((dry.backendConfiguration as { wouldRemove: string[] }).wouldRemove).toContain('chat/s/old-a.jpg');
    expect(await files(root)).toEqual(before);
    await new LocalDiskSweeper({ rootDir: root }).apply(lifecycleRulesFor(30), { dryRun: false });
    expect((await files(root)).filter((f) => f.startsWith('chat/'))).toEqual(['chat/s/.new-b.jpg.meta.json', 'chat/s/.new-d.jpg.5678.partial', 'chat/s/new-b.jpg']);
  });

  it('sweeps an empty or missing folder without complaint', async () => {
    const root = join(await mkdtemp(join(tmpdir(), 'attache-sweep-')), 'never-written');
    expect((await new LocalDiskSweeper({ rootDir: root }).apply(lifecycleRulesFor(7), { dryRun: false })).changed).toBe(false);
  });
});
