// The part buffers S3 and Azure uploads share: reused across concurrent uploads (a fresh 8 MiB buffer
// per part costs page faults and full garbage collections), and given back to the collector after a burst.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PartBufferPool } from '../../src/adapters/object-store/body-parts.ts';

const PART = 1024;

describe('PartBufferPool', () => {
  afterEach(() => vi.useRealTimers());

  it('hands out the buffers given back, the last part of a body as its whole buffer', () => {
    const pool = new PartBufferPool(PART, 2);
    const first = pool.take();
    const second = pool.take();
    pool.give(first);
    pool.give(second.subarray(0, 10));
    expect(pool.take().buffer).toBe(second.buffer);
    expect(pool.take()).toBe(first);
    expect(pool.take().length).toBe(PART);
  });

  it('keeps every buffer of concurrent uploads while they go on, not only `keep`', () => {
    vi.useFakeTimers();
    const pool = new PartBufferPool(PART, 3, 2_000);
    // Eight uploads, three buffers each, all given back, then taken again by the next eight.
    const taken = Array.from({ length: 24 }, () => pool.take());
    for (const buffer of taken) pool.give(buffer);
    expect(pool.idle).toBe(24);
    vi.advanceTimersByTime(1_000);
    const again = Array.from({ length: 24 }, () => pool.take());
    expect(new Set(again)).toEqual(new Set(taken));
  });

  it('lets go of what stayed idle beyond `keep` for a whole trim period, down to `keep`', () => {
    vi.useFakeTimers();
    const pool = new PartBufferPool(PART, 3, 2_000);
    const taken = Array.from({ length: 12 }, () => pool.take());
    // The period starts when the pool holds more than `keep` idle: at the fourth given back.
    for (const buffer of taken) pool.give(buffer);
    vi.advanceTimersByTime(1_000);
    const inUse = Array.from({ length: 4 }, () => pool.take());
    for (const buffer of inUse) pool.give(buffer);
    // Of the four idle when the period started, one beyond `keep` stayed idle throughout (takes pop the latest).
    vi.advanceTimersByTime(1_000);
    expect(pool.idle).toBe(11);
    // Nothing taken for another period: down to `keep`, the most recently used kept.
    vi.advanceTimersByTime(2_000);
    expect(pool.idle).toBe(3);
    expect(vi.getTimerCount()).toBe(0);
    expect(inUse).toContain(pool.take());
  });
});
