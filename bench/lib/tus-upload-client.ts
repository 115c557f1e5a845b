import { randomBytes } from 'node:crypto';
import * as tus from 'tus-js-client';
import type { ServerProcess } from './processes.ts';
import type { Subject } from './subjects.ts';

const PDF_HEAD = Buffer.from('%PDF-1.7\n', 'latin1');

/** One tus upload of `file` with tus-js-client, in `chunkSize` pieces; resolves with its latency in ms and the upload's URL. */
function tusUpload(endpoint: string, token: string, file: Buffer, chunkSize: number): Promise<{ ms: number; url: string }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const upload = new tus.Upload(file, {
      endpoint,
      headers: { Authorization: `Token ${token}` },
      metadata: { filename: 'report.pdf', filetype: 'application/pdf' },
      chunkSize,
      retryDelays: [],
      storeFingerprintForResuming: false,
      onError: reject,
      onSuccess: () => resolve({ ms: performance.now() - started, url: upload.url! }),
    });
    upload.start();
  });
}

/**
 * Resumable uploads with tus-js-client against `server`'s `path` (attache's, or a baseline tus
 * server's), each file a PDF head then random bytes, sent in `chunkSize` pieces. With
 * `afterUpload`, each upload's latency includes it (what the bench does with the uploaded file).
 */
export function tusSubject(
  label: string,
  server: ServerProcess,
  token: string,
  path: string,
  chunkSize: number,
  afterUpload?: (url: string, file: Buffer) => Promise<void>,
): Subject {
  let file: Buffer | undefined;
  return {
    label,
    async send(bytes, count, concurrency) {
      if (file?.length !== bytes) file = Buffer.concat([PDF_HEAD, randomBytes(bytes - PDF_HEAD.length)]);
      const latencies: number[] = [];
      let next = 0;
      const worker = async () => {
        while (next < count) {
          next++;
          const { ms, url } = await tusUpload(`${server.url}${path}`, token, file!, chunkSize);
          if (afterUpload === undefined) {
            latencies.push(ms);
            continue;
          }
          const started = performance.now();
          await afterUpload(url, file!);
          latencies.push(ms + performance.now() - started);
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
      return latencies;
    },
    cpuMs: () => server.cpuMs(),
    stop: () => server.stop(),
  };
}
