/** A small deterministic PRNG (mulberry32), so a failing random run can be replayed from its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One seed per test file run (every driver's suite gets the same), or TEST_SEED to replay one. */
const RUN_SEED = Number(process.env.TEST_SEED ?? Date.now() % 1_000_000);
export const testSeed = (): number => RUN_SEED;
