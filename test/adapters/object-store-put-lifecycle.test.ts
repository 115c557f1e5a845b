import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { DeferredCleanup } from '../../src/adapters/object-store/deferred-cleanup.ts';
import { runPut, type PutSteps } from '../../src/adapters/object-store/put-lifecycle.ts';
import { ObjectAlreadyExists, StorageUnavailable } from '../../src/domain/errors.ts';
import type { ObjectKey } from '../../src/domain/object-key.ts';
import { failingStream, generatedStream } from '../support/streams.ts';

/**
 * The put lifecycle alone, with stand-in upload steps shaped like the stores' (a body piped into a
 * sink that fails, a backend that fails after the body did). Every store runs it against its real
 * backend in the contract suite; these are the orderings a real backend cannot be made to show on cue.
 */
const key = 'chat/general/k-a.pdf' as ObjectKey;
const cleanups: DeferredCleanup[] = [];
function cleanup(cleanUp: (key: string) => Promise<void> = async () => {}): DeferredCleanup {
  const made = new DeferredCleanup({ cleanUp, firstDelayMs: 60_000, maxDelayMs: 60_000, settleMs: 60_000, giveUpAfterMs: 60_000 });
  cleanups.push(made);
  return made;
}
afterEach(() => {
  for (const c of cleanups.splice(0)) c.close();
});

const translate: PutSteps['translate'] = (error) => new StorageUnavailable('backend failed', { cause: error });
const noUndo = async () => {};
/** A sink standing for a backend that fails on the first write. */
const failingSink = (error: Error) => new Writable({ write: (_chunk, _encoding, callback) => callback(error) });

describe('runPut', () => {
  it('answers the size and SHA-256 of what went through the digest, and has earlier failed writes undone now', async () => {
    const { stream, digest } = generatedStream(300_000);
    const cleanedUp: string[] = [];
    const deferred = cleanup(async (k) => void cleanedUp.push(k));
    deferred.schedule('chat/general/earlier-failure.pdf'); // next try a minute away
    const sink = new Writable({ write: (_chunk, _encoding, callback) => callback() });
    const stored = await runPut(key, stream, undefined, deferred, {
      upload: async (put) => {
        const sent = pipeline(stream, sink);
        put.digest.follow(stream);
        await sent;
      },
      translate,
      undoStored: noUndo,
    });
    expect(stored).toEqual({ key, size: 300_000, sha256: await digest });
    // The backend answered: the earlier key's cleanup runs now rather than in a minute.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(cleanedUp).toEqual(['chat/general/earlier-failure.pdf']);
  });

  it('translates a backend failure that came first, though the pipeline then destroys the body with that same error', async () => {
    const body = generatedStream(1_000_000).stream;
    const diskFull = new Error('ENOSPC: no space left on device');
    const sink = failingSink(diskFull);
    const deferred = cleanup();
    const failure = await runPut(key, body, undefined, deferred, {
      upload: async (put) => {
        sink.once('error', (error) => put.backendFailed(error));
        await pipeline(body, sink);
      },
      translate,
      undoStored: noUndo,
    }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(StorageUnavailable);
    expect((failure as StorageUnavailable).cause).toBe(diskFull);
    // A backend that failed may still carry out what it had accepted: undone again later.
    expect(deferred.pendingKeys).toEqual([key]);
  });

  it('throws the body’s own error unchanged when it failed first, though the backend failed after it', async () => {
    const clientGone = new Error('client went away');
    const body = failingStream(200_000, clientGone);
    const deferred = cleanup();
    const failure = runPut(key, body, undefined, deferred, {
      upload: async (put) => {
        const failed = new Promise((resolve) => body.once('error', resolve));
        body.resume();
        await failed;
        put.backendFailed(new Error('part upload cancelled'));
        throw new Error('part upload cancelled');
      },
      translate,
      undoStored: noUndo,
    });
    await expect(failure).rejects.toBe(clientGone);
    expect(deferred.pendingKeys).toEqual([]);
  });

  it('throws the signal’s reason, destroying the body, and lost tells the upload', async () => {
    const controller = new AbortController();
    const reason = new Error('request aborted');
    const body = new Readable({ read() {} });
    let lostSeen = false;
    const put = runPut(key, body, controller.signal, cleanup(), {
      upload: (progress) =>
        new Promise((_resolve, reject) =>
          progress.lost.addEventListener('abort', () => {
            lostSeen = true;
            reject(new Error('cancelled'));
          }),
        ),
      translate,
      undoStored: noUndo,
    });
    controller.abort(reason);
    await expect(put).rejects.toBe(reason);
    expect(lostSeen).toBe(true);
    expect(body.destroyed).toBe(true);
  });

  it('undoes what was stored when the signal aborts after the last byte, and leaves it to the cleanup when the undo fails', async () => {
    for (const undoWorks of [true, false]) {
      const controller = new AbortController();
      const reason = new Error('request aborted');
      const deferred = cleanup();
      let undone = false;
      const put = runPut(key, Readable.from([Buffer.from('x')]), controller.signal, deferred, {
        upload: async (progress) => {
          for await (const chunk of Readable.from([Buffer.from('x')])) progress.digest.add(chunk as Buffer);
          controller.abort(reason); // while the backend stores it: a request that cannot be taken back
        },
        translate,
        undoStored: async () => {
          if (!undoWorks) throw new Error('backend away');
          undone = true;
        },
      });
      await expect(put).rejects.toBe(reason);
      expect({ undone, pending: deferred.pendingKeys }).toEqual(undoWorks ? { undone: true, pending: [] } : { undone: false, pending: [key] });
    }
  });

  it('passes ObjectAlreadyExists through, and leaves to the cleanup what afterFailure could not confirm', async () => {
    const taken = runPut(key, Readable.from([Buffer.from('x')]), undefined, cleanup(), {
      upload: async () => {
        throw new ObjectAlreadyExists(key);
      },
      translate,
      undoStored: noUndo,
    });
    await expect(taken).rejects.toBeInstanceOf(ObjectAlreadyExists);

    const clientGone = new Error('client went away');
    const deferred = cleanup();
    const body = failingStream(1000, clientGone);
    const unswept = runPut(key, body, undefined, deferred, {
      upload: async (put) => {
        body.resume();
        await new Promise((resolve) => put.lost.addEventListener('abort', resolve));
        throw new Error('stopped');
      },
      translate,
      undoStored: noUndo,
      afterFailure: async () => false,
    });
    await expect(unswept).rejects.toBe(clientGone);
    expect(deferred.pendingKeys).toEqual([key]);
  });

  it('throws at once for a body that failed before it was handed over', async () => {
    const failure = new Error('failed earlier');
    const body = new Readable({ read() {} });
    body.on('error', () => {});
    body.destroy(failure);
    await new Promise((resolve) => setImmediate(resolve));
    let uploaded = false;
    const put = runPut(key, body, undefined, cleanup(), { upload: async () => void (uploaded = true), translate, undoStored: noUndo });
    await expect(put).rejects.toBe(failure);
    expect(uploaded).toBe(false);
  });
});
