import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { InMemoryObjectStore } from '../../src/adapters/object-store/in-memory/in-memory-object-store.ts';
import { AbandonedUploadSweeper } from '../../src/application/abandoned-upload-sweeper.ts';
import type { ObjectKey } from '../../src/domain/object-key.ts';

const meta = { contentType: 'application/pdf', fileName: 'a.pdf', disposition: 'attachment' } as const;

describe('AbandonedUploadSweeper', () => {
  it('removes provisional objects older than twice the longest upload, never attachments', async () => {
    const store = new InMemoryObjectStore({ publicBaseUrl: 'https://cdn.example' });
    await store.put('incoming/1-a.pdf' as ObjectKey, Readable.from([Buffer.from('waiting')]), meta);
    await store.put('chat/s/2-b.pdf' as ObjectKey, Readable.from([Buffer.from('attachment')]), meta);
    let now = Date.now();
    const sweeper = new AbandonedUploadSweeper({ store, longestUploadMs: 1000, now: () => now });
    expect(sweeper.maxAgeMs).toBe(2000);
    // Its upload may still be running.
    now += 1500;
    expect(await sweeper.sweep()).toEqual({ provisional: 0, unfinished: 0 });
    now += 1000;
    expect(await sweeper.sweep()).toEqual({ provisional: 1, unfinished: 0 });
    expect(store.keys()).toEqual(['chat/s/2-b.pdf']);
  });

  it('sweeps unfinished writes under staged/ only once no direct upload can still be sending its parts', async () => {
    const store = new InMemoryObjectStore({ publicBaseUrl: 'https://cdn.example' });
    const asked: Record<string, number> = {};
    const now = 1_000_000_000;
    store.removeUnfinished = async (prefix, olderThan) => {
      asked[prefix] = now - olderThan.getTime();
      return 0;
    };
    await new AbandonedUploadSweeper({ store, longestUploadMs: 1000, longestStagedWriteMs: 1_800_000, now: () => now }).sweep();
    expect(asked).toEqual({ 'incoming/': 2000, 'chat/': 2000, 'staged/': 1_800_000 });
    await new AbandonedUploadSweeper({ store, longestUploadMs: 1000, now: () => now }).sweep();
    expect(asked['staged/']).toBe(2000);
  });
});
