/** Waits until `check` passes, for at most `ms`, polling every `everyMs`; the last failure is thrown. */
export async function eventually(check: () => Promise<void>, ms = 15_000, everyMs = 50): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, everyMs));
    }
  }
}
