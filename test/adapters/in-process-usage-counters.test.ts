import { describe, expect, it } from 'vitest';
import { InProcessUsageCounters, MAX_WINDOWS_PER_RULE } from '../../src/adapters/limits/in-process-usage-counters.ts';
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

  // AUTH_FAILURE_LIMIT counts client addresses, which a client sending from many makes up: each
  // new one once cost a walk over every window held (past 10,000), and 80,000 addresses within a
  // window took minutes of the event loop. Here 200,000 and one, each a single step.
  it(`keeps at most ${MAX_WINDOWS_PER_RULE} live windows a rule, forgetting the one ending first, without a walk over them for each new key`, async () => {
    let now = 0;
    const counters = new InProcessUsageCounters({ now: () => now });
    const rule = { name: 'auth-failures', limit: 1, windowSeconds: 86_400 };
    const other = { name: 'uploads', limit: 1, windowSeconds: 86_400 };
    await counters.add(other, 'store:42', 1);
    for (let i = 0; i < MAX_WINDOWS_PER_RULE; i++) {
      now = i;
      await counters.add(rule, `address-${i}`, 1);
    }
    now = MAX_WINDOWS_PER_RULE;
    await counters.add(rule, 'one-more', 1);
    // address-0's window ended first: forgotten, it counts from 0 again; address-1's is still there.
    // (Looked at in that order: a look at a forgotten key makes its window again.)
    expect((await counters.peek(rule, 'address-1')).used).toBe(1);
    expect((await counters.peek(rule, 'address-0')).used).toBe(0);
    // Another rule's windows are its own.
    expect((await counters.peek(other, 'store:42')).used).toBe(1);
  });

  it('keeps a window made again after its end among those ending last', async () => {
    let now = 0;
    const counters = new InProcessUsageCounters({ now: () => now });
    const rule = { name: 'r', limit: 5, windowSeconds: 10 };
    await counters.add(rule, 'a', 1);
    now = 5_000;
    await counters.add(rule, 'b', 1);
    now = 10_000;
    // a's window ended: made again, it ends after b's, and b's end drops b alone.
    expect((await counters.add(rule, 'a', 1)).used).toBe(1);
    await counters.add(rule, 'a', 1);
    now = 15_000;
    expect((await counters.peek(rule, 'b')).used).toBe(0);
    expect((await counters.peek(rule, 'a')).used).toBe(2);
  });

  it('answers LimitsUnavailable once closed', async () => {
    const counters = new InProcessUsageCounters();
    await counters.close();
    await expect(counters.checkReady()).rejects.toBeInstanceOf(LimitsUnavailable);
  });
});
