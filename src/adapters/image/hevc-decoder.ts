import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

export interface HevcDecodeRequest {
  readonly bytes: Uint8Array;
  readonly maxPixels: number;
  /** The decoder's WebAssembly memory may grow to memoryBaseBytes + this × the pixels the image declares. */
  readonly memoryBytesPerPixel: number;
  readonly memoryBaseBytes: number;
}

/**
 * libheif and libde265 use ~7 bytes of WebAssembly memory per pixel (a 12-megapixel photo: 101 MB,
 * of which ~20 MB is the module's own): 10 per pixel and 64 MiB leave room for 4:4:4 and 10-bit
 * streams, and stop a stream that decodes to more than its container declares.
 */
export const HEVC_MEMORY = { bytesPerPixel: 10, baseBytes: 64 * 1024 * 1024 } as const;

export type HevcDecodeReply =
  | { readonly decoded: true; readonly width: number; readonly height: number; readonly hasAlpha: boolean; readonly rgba: Uint8ClampedArray }
  | {
      readonly decoded: false;
      readonly reason: 'undecodable' | 'too-many-pixels' | 'timed-out';
      readonly width?: number;
      readonly height?: number;
      readonly detail: string;
    };

// The worker sits beside this file: .ts when run from src/, .js once compiled to dist/.
const WORKER_URL = new URL(`./hevc-decode-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url);

/**
 * Decodes an HEVC-coded HEIC to RGBA (its rotation and mirroring applied) in a worker thread of
 * its own, ended when done. Resolves decoded:false when the file cannot be decoded, declares
 * more than `maxPixels`, needs more memory than `memory` allows for what it declares, or takes
 * longer than `timeoutMs` (the worker is then terminated: WebAssembly stops where it is). Rejects only with the signal's reason, once the worker is gone.
 */
export function decodeHevc(
  bytes: Uint8Array,
  options: { maxPixels: number; timeoutMs: number; signal?: AbortSignal | undefined; memory?: { bytesPerPixel: number; baseBytes: number } },
): Promise<HevcDecodeReply> {
  const { signal, memory = HEVC_MEMORY } = options;
  if (signal?.aborted) return Promise.reject(signal.reason);
  const request: HevcDecodeRequest = { bytes, maxPixels: options.maxPixels, memoryBytesPerPixel: memory.bytesPerPixel, memoryBaseBytes: memory.baseBytes };
  // libheif-js prints its failures with console.log; the reply says why, so its output is dropped.
  const worker = new Worker(WORKER_URL, { workerData: request, stdout: true, stderr: true });
  worker.stdout.resume();
  worker.stderr.resume();

  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (settle: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      // Settles once the worker is gone, so a caller's concurrency limit also bounds live workers.
      void worker.terminate().finally(settle);
    };
    const failed = (detail: string) => finish(() => resolve({ decoded: false, reason: 'undecodable', detail }));
    const onAbort = () => finish(() => reject(signal!.reason));
    const timer = setTimeout(
      () => finish(() => resolve({ decoded: false, reason: 'timed-out', detail: `decoding took over ${options.timeoutMs} ms` })),
      options.timeoutMs,
    );
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.once('message', (reply: HevcDecodeReply) => finish(() => resolve(reply)));
    // A trap in libheif (a corrupt stream can make it read out of bounds) or running out of memory.
    worker.once('error', (error) => failed(`the decoder failed: ${error.message}`));
    worker.once('exit', (code) => failed(`the decoder exited (code ${code}) without an answer`));
  });
}
