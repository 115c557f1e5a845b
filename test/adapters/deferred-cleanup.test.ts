import { describe, expect, it } from 'vitest';
import { DeferredCleanup } from '../../src/adapters/object-store/deferred-cleanup.ts';

/**
 * The retry logic alone, against a stand-in "backend" that is down until told otherwise and may carry out a
 * queued write late. The stores' use of it runs against real servers in test/reliability/backend-faults.test.ts.
 */
function flakyBackend() {
  const objects = new Set<string>();
  let up = false;
  const attempts: string[] = [];
  return {
    objects,
    attempts,
    setUp: (value: boolean) => (up = value),
    async cleanUp(key: string) {
      attempts.push(key);
      if (!up) throw new Error('backend down');
      objects.delete(key);
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean, ms = 2_000) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(5);
  }
}

describe('DeferredCleanup', () => {
  it('retries, backing off, until the backend confirms; then once more after settling, catching a late write', async () => {
    const backend = flakyBackend();
    const cleanup = new DeferredCleanup({ cleanUp: backend.cleanUp, firstDelayMs: 10, maxDelayMs: 40, settleMs: 60, giveUpAfterMs: 60_000 });
    backend.objects.add('k');
    cleanup.schedule('k');
    await until(() => backend.attempts.length >= 3);
    expect(backend.objects.has('k')).toBe(true);
    backend.setUp(true);
    await until(() => !backend.objects.has('k'));
    // The backend now carries out the write it had queued: the settle round removes it too.
    backend.objects.add('k');
    await until(() => cleanup.pendingKeys.length === 0);
    expect(backend.objects.has('k')).toBe(false);
    cleanup.close();
  });

  it('retries at once when kicked, rather than at the next turn', async () => {
    const backend = flakyBackend();
    const cleanup = new DeferredCleanup({ cleanUp: backend.cleanUp, firstDelayMs: 10, maxDelayMs: 60_000, settleMs: 10, giveUpAfterMs: 600_000 });
    backend.objects.add('k');
    cleanup.schedule('k');
    await until(() => backend.attempts.length >= 2); // the next try is now 40 ms away, then a minute
    await sleep(100);
    const tries = backend.attempts.length;
    backend.setUp(true);
    cleanup.kick();
    await until(() => cleanup.pendingKeys.length === 0, 500);
    expect(backend.objects.has('k')).toBe(false);
    expect(backend.attempts.length).toBeGreaterThan(tries);
    cleanup.close();
  });

  it('gives a key up after giveUpAfterMs, keeps at most maxKeys, and stops on close', async () => {
    const backend = flakyBackend();
    const cleanup = new DeferredCleanup({ cleanUp: backend.cleanUp, firstDelayMs: 5, maxDelayMs: 5, settleMs: 5, giveUpAfterMs: 50, maxKeys: 2 });
    for (const key of ['a', 'b', 'c']) cleanup.schedule(key);
    expect(cleanup.pendingKeys).toEqual(['a', 'b']);
    await until(() => cleanup.pendingKeys.length === 0);

    cleanup.schedule('d');
    cleanup.close();
    const tries = backend.attempts.length;
    await sleep(50);
    expect(backend.attempts.length).toBe(tries);
    expect(cleanup.pendingKeys).toEqual([]);
  });
});
