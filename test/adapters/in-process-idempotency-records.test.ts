import { describe, expect, it } from 'vitest';
import { InProcessIdempotencyRecords } from '../../src/adapters/idempotency/in-process-idempotency-records.ts';
import { IdempotencyUnavailable } from '../../src/domain/errors.ts';
import { idempotencyRecordsContract } from '../contracts/idempotency-records-contract.ts';

idempotencyRecordsContract('InProcessIdempotencyRecords', async () => ({ records: new InProcessIdempotencyRecords() }));

describe('InProcessIdempotencyRecords', () => {
  it('drops expired entries once it holds many, so a stream of new keys does not grow it forever', async () => {
    let now = 0;
    const records = new InProcessIdempotencyRecords({ now: () => now });
    for (let i = 0; i < 10_000; i++) await records.claim(`k${i}`, 1000);
    now = 2000;
    await records.claim('late', 1000);
    expect((await records.claim('k0', 1000)).state).toBe('claimed');
  });

  // A day's keyed uploads on one instance are all live at once: a walk over every one of them for
  // each new key, past 10,000, took minutes of the event loop for these; each is a step now.
  it('takes 200,000 live keys, then 200,000 more once half of them lapsed, each claim a step', async () => {
    let now = 0;
    const records = new InProcessIdempotencyRecords({ now: () => now });
    for (let i = 0; i < 200_000; i++) {
      const claim = await records.claim(`day-${i}`, 300_000);
      if (claim.state !== 'claimed') throw new Error(`day-${i} was not claimed`);
      if (i % 2 === 0) await records.finish(`day-${i}`, claim.claimId, { fingerprint: 'f', answer: '{}' }, 86_400_000);
    }
    expect(await records.claim('day-0', 300_000)).toEqual({ state: 'finished', record: { fingerprint: 'f', answer: '{}' } });
    // 200,000 more keys once the unfinished claims have lapsed (swept as they come): a lapsed one is free again, a finished one stays.
    now = 300_000;
    for (let i = 0; i < 200_000; i++) await records.claim(`later-${i}`, 300_000);
    expect((await records.claim('day-1', 300_000)).state).toBe('claimed');
    expect((await records.claim('day-2', 300_000)).state).toBe('finished');
  });

  it('answers IdempotencyUnavailable once closed', async () => {
    const records = new InProcessIdempotencyRecords();
    await records.close();
    await expect(records.checkReady()).rejects.toBeInstanceOf(IdempotencyUnavailable);
    await expect(records.claim('k', 1000)).rejects.toBeInstanceOf(IdempotencyUnavailable);
  });
});
