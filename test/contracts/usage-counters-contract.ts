import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CountingRule, UsageCounters } from '../../src/application/ports/usage-counters.ts';

export interface UsageCountersUnderTest {
  readonly counters: UsageCounters;
  /** A second handle on the same counters (another instance), where the adapter has one. */
  readonly other?: UsageCounters;
  readonly close?: () => Promise<void>;
}

let ruleCount = 0;
/** A rule of its own per test, so tests never see each other's counts. */
const rule = (limit: number, windowSeconds = 60): CountingRule => ({ name: `contract-${process.pid}-${Date.now()}-${ruleCount++}`, limit, windowSeconds });

/** What every UsageCounters adapter must do (see its port, src/application/ports/usage-counters.ts). */
export function usageCountersContract(name: string, make: () => Promise<UsageCountersUnderTest>): void {
  describe(`UsageCounters contract: ${name}`, () => {
    let subject: UsageCountersUnderTest;
    let counters: UsageCounters;
    beforeAll(async () => {
      subject = await make();
      counters = subject.counters;
    });
    afterAll(async () => {
      await subject.counters.close();
      await subject.other?.close();
      await subject.close?.();
    });

    it('counts up to the limit and refuses what would pass it, without counting the refusal', async () => {
      const r = rule(3);
      const counts = [];
      for (let i = 0; i < 5; i++) counts.push(await counters.add(r, 'alice', 1));
      expect(counts.map((c) => c.counted)).toEqual([true, true, true, false, false]);
      expect(counts.map((c) => c.remaining)).toEqual([2, 1, 0, 0, 0]);
      expect(counts[4]!.used).toBe(3);
      expect(counts[0]!.resetMs).toBeGreaterThan(50_000);
      expect(counts[0]!.resetMs).toBeLessThanOrEqual(60_000);
    });

    it('keeps keys and rules apart', async () => {
      const a = rule(1);
      const b = rule(1);
      expect((await counters.add(a, 'alice', 1)).counted).toBe(true);
      expect((await counters.add(a, 'bob', 1)).counted).toBe(true);
      expect((await counters.add(b, 'alice', 1)).counted).toBe(true);
      expect((await counters.add(a, 'alice', 1)).counted).toBe(false);
    });

    it('reserves amounts: a refused reservation leaves the room to a smaller one', async () => {
      const quota = rule(100);
      expect(await counters.add(quota, 'store:7', 80)).toMatchObject({ counted: true, used: 80, remaining: 20 });
      expect(await counters.add(quota, 'store:7', 30)).toMatchObject({ counted: false, used: 80, remaining: 20 });
      expect(await counters.add(quota, 'store:7', 20)).toMatchObject({ counted: true, used: 100, remaining: 0 });
    });

    it('takes back what was not used, never below 0', async () => {
      const quota = rule(100);
      await counters.add(quota, 'k', 90);
      await counters.takeBack(quota, 'k', 60);
      expect(await counters.peek(quota, 'k')).toMatchObject({ used: 30, remaining: 70 });
      await counters.takeBack(quota, 'k', 500);
      expect(await counters.peek(quota, 'k')).toMatchObject({ used: 0, remaining: 100 });
    });

    it('peeks without counting', async () => {
      const r = rule(2);
      expect(await counters.peek(r, 'never-seen')).toMatchObject({ counted: true, used: 0, remaining: 2 });
      await counters.add(r, 'x', 2);
      expect(await counters.peek(r, 'x')).toMatchObject({ counted: false, used: 2, remaining: 0 });
      expect(await counters.peek(r, 'x')).toMatchObject({ used: 2 });
    });

    it('starts again from 0 when the window ends', async () => {
      const r = rule(1, 1);
      expect((await counters.add(r, 'k', 1)).counted).toBe(true);
      expect((await counters.add(r, 'k', 1)).counted).toBe(false);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      expect((await counters.add(r, 'k', 1)).counted).toBe(true);
    });

    it('never passes the limit under concurrent adds, from every handle', async () => {
      const r = rule(25);
      const handles = [counters, subject.other ?? counters];
      const counts = await Promise.all(Array.from({ length: 100 }, (_, i) => handles[i % 2]!.add(r, 'busy', 1)));
      expect(counts.filter((c) => c.counted)).toHaveLength(25);
      expect((await counters.peek(r, 'busy')).used).toBe(25);
    });

    it('says how many instances share it: at least this one', async () => {
      expect(counters.sharedBy()).toBeGreaterThanOrEqual(1);
    });

    it('is ready while it can answer', async () => {
      await expect(counters.checkReady()).resolves.toBeUndefined();
    });
  });
}
