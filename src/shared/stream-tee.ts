import { Readable } from 'node:stream';
import { whenReadableSettles } from './readable-settled.ts';
import { STREAM_BUFFER_BYTES } from './stream-buffer.ts';

/**
 * `count` streams that each carry every chunk of `source`, as they came (no copies): for readers
 * that must see the same bytes at once, such as a store and a malware scanner.
 *
 * The slowest reader sets the pace (the source pauses while any branch's buffer is full), so
 * memory stays at one buffer per branch whatever the file's size. A branch destroyed before the
 * end (its reader is done with it, or failed) drops out and no longer holds the others back; when
 * every branch is gone the source is destroyed. An error of the source ends every branch with it.
 */
export function tee(source: Readable, count: number): Readable[] {
  const live = new Set<Readable>();
  /** Branches whose buffer was full when the source paused; it resumes once each has asked for more. */
  const full = new Set<Readable>();
  const stopWaitingFor = (branch: Readable) => {
    full.delete(branch);
    if (full.size === 0) source.resume();
  };
  const branches = Array.from({ length: count }, () => {
    const branch: Readable = new Readable({
      highWaterMark: STREAM_BUFFER_BYTES,
      read: () => stopWaitingFor(branch),
      destroy(error, callback) {
        live.delete(branch);
        if (live.size === 0) {
          stop();
          if (!source.readableEnded) source.destroy();
        } else {
          stopWaitingFor(branch);
        }
        callback(error);
      },
    });
    live.add(branch);
    return branch;
  });

  const onData = (chunk: Buffer) => {
    for (const branch of live) if (!branch.push(chunk)) full.add(branch);
    if (full.size > 0) source.pause();
  };
  const onEnd = () => {
    for (const branch of live) branch.push(null);
  };
  source.on('data', onData);
  source.once('end', onEnd);
  const stopWatching = whenReadableSettles(source, (error) => {
    if (!error) return;
    for (const branch of [...live]) {
      // Kept on the branch for whoever reads it later, never thrown unheard.
      if (branch.listenerCount('error') === 0) branch.once('error', () => {});
      branch.destroy(error);
    }
  });
  function stop() {
    source.off('data', onData);
    source.off('end', onEnd);
    stopWatching();
  }
  return branches;
}
