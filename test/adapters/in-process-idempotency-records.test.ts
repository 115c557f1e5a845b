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

  it('answers IdempotencyUnavailable once closed', async () => {
    const records = new InProcessIdempotencyRecords();
    await records.close();
    await expect(records.checkReady()).rejects.toBeInstanceOf(IdempotencyUnavailable);
    await expect(records.claim('k', 1000)).rejects.toBeInstanceOf(IdempotencyUnavailable);
  });
});
