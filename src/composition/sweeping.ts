import type { Logger } from 'pino';
import type { AbandonedUploadSweeper } from '../application/abandoned-upload-sweeper.ts';
import { repeatInBackground } from './repeating-task.ts';

/** However long uploads may take, a sweep at least this often. */
const MAX_SWEEP_INTERVAL_MS = 5 * 60_000;

/**
 * Sweeps the store every half of the sweeper's age limit (at most every 5 minutes), starting
 * after a random part of that, so instances started together do not list the bucket together.
 * Returns what stops it. Never keeps the process alive; a failed sweep is logged and retried
 * at the next turn.
 */
export function startSweeping(sweeper: AbandonedUploadSweeper, logger: Pick<Logger, 'info' | 'warn'>): () => void {
  const intervalMs = Math.min(Math.max(sweeper.maxAgeMs / 2, 500), MAX_SWEEP_INTERVAL_MS);
  const sweepOnce = async () => {
    try {
      const removed = await sweeper.sweep();
      if (removed.provisional + removed.unfinished > 0) logger.info({ ...removed, olderThanMs: sweeper.maxAgeMs }, 'removed what abandoned uploads left in the store');
    } catch (error) {
      logger.warn({ err: error }, 'could not sweep the store for abandoned uploads');
    }
  };
  return repeatInBackground(sweepOnce, { firstAfterMs: Math.random() * intervalMs, intervalMs });
}
