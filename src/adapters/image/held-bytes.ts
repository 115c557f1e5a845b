import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { GatheredBytes } from './gathered-bytes.ts';

/** Bytes that several holders share: each takes what it holds and gives it back when done. */
export class ByteBudget {
  #free: number;

  constructor(bytes: number) {
    if (!Number.isSafeInteger(bytes) || bytes < 0) throw new RangeError(`a byte budget must be a whole number of bytes, not ${bytes}`);
    this.#free = bytes;
  }

  /** Takes `bytes` if that many are free; false (taking nothing) otherwise. */
  take(bytes: number): boolean {
    if (bytes > this.#free) return false;
    this.#free -= bytes;
    return true;
  }

  give(bytes: number): void {
    this.#free += bytes;
  }
}

/** A whole file in memory, and the share of a budget it holds until `release`d. */
export interface HeldBytes {
  readonly bytes: Buffer;
  release(): void;
}

/**
 * Reads `content` to its end and keeps its bytes, taking them from `budget` as they arrive;
 * resolves undefined (having kept nothing, the budget given back) when the budget runs out first,
 * but still reads to the end, so a tee feeding it never stalls. The bytes are copied into blocks
 * as they come (GatheredBytes: a client sending one byte per packet holds its bytes, not a Buffer
 * per byte), joined once at the end. Rejects with content's error, or with the signal's reason when it
 * aborts (content is then destroyed); the budget is given back either way.
 */
export async function holdWithin(budget: ByteBudget, content: Readable, signal: AbortSignal | undefined): Promise<HeldBytes | undefined> {
  if (signal?.aborted) {
    content.destroy();
    throw signal.reason;
  }
  let gathered: GatheredBytes | undefined = new GatheredBytes();
  const giveUp = () => {
    budget.give(gathered?.size ?? 0);
    gathered?.discard();
    gathered = undefined;
  };
  const onData = (chunk: Buffer) => {
    if (gathered === undefined) return;
    if (!budget.take(chunk.length)) return giveUp();
    gathered.write(chunk);
  };
  const onAbort = () => content.destroy();
  signal?.addEventListener('abort', onAbort, { once: true });
  content.on('data', onData);
  try {
    await finished(content);
  } catch (error) {
    giveUp();
    throw signal?.aborted ? signal.reason : error;
  } finally {
    content.off('data', onData);
    signal?.removeEventListener('abort', onAbort);
  }
  if (gathered === undefined) return undefined;
  let held = gathered.size;
  const bytes = gathered.join();
  return {
    bytes,
    release: () => {
      budget.give(held);
      held = 0;
    },
  };
}
