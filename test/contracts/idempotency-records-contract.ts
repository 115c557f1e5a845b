import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IdempotencyRecords } from '../../src/application/ports/idempotency-records.ts';

export interface IdempotencyRecordsUnderTest {
  readonly records: IdempotencyRecords;
  /** A second handle on the same records (another instance), where the adapter has one. */
  readonly other?: IdempotencyRecords;
  readonly close?: () => Promise<void>;
}

const HOUR = 3_600_000;
const record = { fingerprint: '5:abc', answer: '{"url":"https://x/y"}' };

/** What every IdempotencyRecords adapter must do (see its port, src/application/ports/idempotency-records.ts). */
export function idempotencyRecordsContract(name: string, make: () => Promise<IdempotencyRecordsUnderTest>): void {
  describe(`IdempotencyRecords contract: ${name}`, () => {
    let subject: IdempotencyRecordsUnderTest;
    let records: IdempotencyRecords;
    let other: IdempotencyRecords;
    beforeAll(async () => {
      subject = await make();
      records = subject.records;
      other = subject.other ?? records;
    });
    afterAll(async () => {
      await subject.records.close();
      await subject.other?.close();
      await subject.close?.();
    });

    it('claims a new key once; a second claim sees it in flight', async () => {
      const key = randomUUID();
      const first = await records.claim(key, HOUR);
      expect(first.state).toBe('claimed');
      expect(await other.claim(key, HOUR)).toEqual({ state: 'in-flight' });
    });

    it('answers the finished record to every later claim, from every handle', async () => {
      const key = randomUUID();
      const claim = await records.claim(key, HOUR);
      if (claim.state !== 'claimed') throw new Error('not claimed');
      await records.finish(key, claim.claimId, record, HOUR);
      expect(await other.claim(key, HOUR)).toEqual({ state: 'finished', record });
      expect(await records.claim(key, HOUR)).toEqual({ state: 'finished', record });
    });

    it('frees a released key for a retry, but a stale release never drops another claim or a record', async () => {
      const key = randomUUID();
      const first = await records.claim(key, HOUR);
      if (first.state !== 'claimed') throw new Error('not claimed');
      await records.release(key, first.claimId);
      const second = await other.claim(key, HOUR);
      if (second.state !== 'claimed') throw new Error('not claimed again');
      await records.release(key, first.claimId);
      expect(await records.claim(key, HOUR)).toEqual({ state: 'in-flight' });
      await other.finish(key, second.claimId, record, HOUR);
      await records.release(key, second.claimId);
      expect(await records.claim(key, HOUR)).toEqual({ state: 'finished', record });
    });

    it('lets a claim lapse after its time in flight (its instance died), and a record after its TTL', async () => {
      const lapsing = randomUUID();
      expect((await records.claim(lapsing, 200)).state).toBe('claimed');
      const done = randomUUID();
      const claim = await records.claim(done, HOUR);
      if (claim.state !== 'claimed') throw new Error('not claimed');
      await records.finish(done, claim.claimId, record, 200);
      await new Promise((resolve) => setTimeout(resolve, 350));
      expect((await other.claim(lapsing, HOUR)).state).toBe('claimed');
      expect((await other.claim(done, HOUR)).state).toBe('claimed');
    });

    it('keeps keys apart', async () => {
      const [a, b] = [randomUUID(), randomUUID()];
      expect((await records.claim(a, HOUR)).state).toBe('claimed');
      expect((await records.claim(b, HOUR)).state).toBe('claimed');
    });

    it('gives a key to exactly one of many concurrent claims, from every handle', async () => {
      const key = randomUUID();
      const handles = [records, other];
      const claims = await Promise.all(Array.from({ length: 50 }, (_, i) => handles[i % 2]!.claim(key, HOUR)));
      expect(claims.filter((c) => c.state === 'claimed')).toHaveLength(1);
      expect(claims.filter((c) => c.state === 'in-flight')).toHaveLength(49);
    });

    it('keeps an answer of any size and characters as it was given', async () => {
      const key = randomUUID();
      const big = { fingerprint: `${'f'.repeat(64)}`, answer: JSON.stringify({ url: 'https://x/é 😀', pad: 'x'.repeat(100_000) }) };
      const claim = await records.claim(key, HOUR);
      if (claim.state !== 'claimed') throw new Error('not claimed');
      await records.finish(key, claim.claimId, big, HOUR);
      expect(await other.claim(key, HOUR)).toEqual({ state: 'finished', record: big });
    });

    it('is ready while it can answer', async () => {
      await expect(records.checkReady()).resolves.toBeUndefined();
    });
  });
}
