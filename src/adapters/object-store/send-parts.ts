import type { BodyParts } from './body-parts.ts';
import type { PutInProgress } from './put-lifecycle.ts';

/**
 * Sends every part of `parts` with `send`, `queueSize` at a time, in order of reading (`index` from
 * 0), each part given back to the pool once its request is answered. Once the put is lost nothing
 * more is sent; the first backend failure becomes the put's cause (a request cancelled because the
 * put was lost anyway is a consequence, not a cause). On any failure the requests in flight are
 * waited for before it is thrown, so that none lands after the caller cleans up.
 */
export async function sendParts(parts: BodyParts, put: PutInProgress, queueSize: number, send: (part: Buffer, index: number) => Promise<void>): Promise<void> {
  const inFlight = new Set<Promise<void>>();
  try {
    for (let index = 0; ; index++) {
      const part = await parts.next();
      if (part === undefined) break;
      // Lost (the backend failed, the body failed, an abort): send nothing more.
      if (put.lost.aborted) {
        parts.release(part);
        throw put.backendError ?? new Error('the put was lost');
      }
      const sending = send(part, index)
        .catch((error: unknown) => {
          if (!put.lost.aborted) put.backendFailed(error);
          throw error;
        })
        .finally(() => {
          inFlight.delete(sending);
          parts.release(part);
        });
      // Heard here; the first failure is thrown by the race below or by the final wait.
      sending.catch(() => {});
      inFlight.add(sending);
      if (inFlight.size >= queueSize) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  } catch (error) {
    await Promise.allSettled(inFlight);
    throw error;
  }
}
