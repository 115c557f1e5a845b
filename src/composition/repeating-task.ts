/**
 * Runs `task` after `firstAfterMs`, then again `intervalMs` after each run ends (never two runs at
 * once, however long one takes). Never keeps the process alive. `task` handles its own failures:
 * a rejection is dropped, and the next turn comes anyway. Returns what stops it.
 */
export function repeatInBackground(task: () => Promise<void>, timing: { readonly firstAfterMs: number; readonly intervalMs: number }): () => void {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const next = (delayMs: number) => {
    timer = setTimeout(() => void runOnce(), delayMs);
    timer.unref();
  };
  const runOnce = async () => {
    await task().catch(() => {});
    if (!stopped) next(timing.intervalMs);
  };
  next(timing.firstAfterMs);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
