import { Transform, type TransformCallback } from 'node:stream';

const BAR_WIDTH = 24;
const MiB = 1024 * 1024;

/**
 * A progress bar on one stderr line, redrawn in place, for a file of known size. It redraws only
 * when the whole percentage changes, so a fast disk does not flood the terminal.
 * Pipe the file through `meter`; call `clear()` when the upload ends, however it ends.
 */
export function progressLine(stderr: { write(text: string): unknown }, label: string, totalBytes: number) {
  let sent = 0;
  let shownPercent = -1;
  const draw = () => {
    const percent = totalBytes === 0 ? 100 : Math.min(100, Math.floor((sent / totalBytes) * 100));
    if (percent === shownPercent) return;
    shownPercent = percent;
    const filled = Math.round((percent / 100) * BAR_WIDTH);
    const bar = `${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}`;
    stderr.write(`\r\x1b[K${label} [${bar}] ${String(percent).padStart(3)}% ${(sent / MiB).toFixed(1)}/${(totalBytes / MiB).toFixed(1)} MiB`);
  };
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      sent += chunk.length;
      draw();
      callback(null, chunk);
    },
  });
  draw();
  return {
    meter,
    clear() {
      stderr.write('\r\x1b[K');
    },
  };
}
