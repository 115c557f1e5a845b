import { describe, expect, it } from 'vitest';
import { InProcessUsageCounters } from '../../src/adapters/limits/in-process-usage-counters.ts';
import { LimitsUnavailable } from '../../src/domain/errors.ts';
import { usageCountersContract } from '../contracts/usage-counters-contract.ts';

usageCountersContract('InProcessUsageCounters', async () => ({ counters: new InProcessUsageCounters() }));

describe('InProcessUsageCounters', () => {
  it('drops ended windows once it holds many, so a stream of new keys does not grow it forever', async () => {
    let now = 0;
    const counters = new InProcessUsageCounters({ now: () => now });
    const rule = { name: 'r', limit: 1, windowSeconds: 1 };
    for (let i = 0; i < 10_000; i++) await counters.add(rule, `k${i}`, 1);
    now = 2000;
    await counters.add(rule, 'late', 1);
    // k0's window ended and was swept: it starts again from 0.
    expect((await counters.add(rule, 'k0', 1)).counted).toBe(true);
  });

  it('answers LimitsUnavailable once closed', async () => {
    const counters = new InProcessUsageCounters();
    await counters.close();
    await expect(counters.checkReady()).rejects.toBeInstanceOf(LimitsUnavailable);
  });
});
