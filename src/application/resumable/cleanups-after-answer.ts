/**
 * Removals that need not delay an answer (what a completed upload staged): run once the answer is
 * made, best effort (what a killed process leaves is swept with staged/), and tracked, so that a
 * closing process, or a test, can wait for them (`settled`).
 */
export class CleanupsAfterAnswer {
  readonly #running = new Set<Promise<void>>();

  /** Starts `cleanup` without waiting for it; a failure is dropped. */
  start(cleanup: () => Promise<void>): void {
    const running: Promise<void> = cleanup()
      .catch(() => {})
      .finally(() => this.#running.delete(running));
    this.#running.add(running);
  }

  /** Resolves once every cleanup started, including those started meanwhile, is over. */
  async settled(): Promise<void> {
    while (this.#running.size > 0) await Promise.all(this.#running);
  }
}
