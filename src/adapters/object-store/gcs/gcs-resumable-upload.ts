import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { File, SaveOptions } from '@google-cloud/storage';
import type { ContentDigest } from '../content-digest.ts';
import { UploadConnections } from './upload-connections.ts';

/** How long a failed resumable upload waits for its session to be cancelled. */
const CANCEL_TIMEOUT_MS = 5_000;

/** What a File's request interceptor returns (the library does not export the type's name). */
type RequestOptions = ReturnType<File['interceptors'][number]['request']>;

export interface ResumableUploadTarget {
  readonly file: File;
  readonly requestTimeoutMs: number;
  /** The JSON API's endpoint: its protocol chooses the connections' agent. */
  readonly apiEndpoint: string;
}

/**
 * Streams `source` to `target.file` as a resumable upload (one PUT, no chunkSize: memory stays at
 * the library's stream buffers), every chunk added to `digest` as it passes.
 *
 * When the source fails or the signal aborts, the library destroys its upload stream without an
 * error, and its resumable Upload aborts its PUT only on an 'error' event: the request stays
 * open, waiting for bytes that never come, and keeps the process alive
 * (googleapis/nodejs-storage#2367, "Application hangs when destroying a
 * File.createWriteStream() stream to abort the upload"; duplexify's destroy forwards no error to
 * the Upload). So the upload runs on connections of its own (UploadConnections, handed to the
 * library as a request option through a per-File interceptor) that are closed whatever happens,
 * and a session that was opened is cancelled (DELETE on the session URI, answered 499:
 * https://cloud.google.com/storage/docs/performing-resumable-uploads#cancel-upload) rather than
 * left for GCS to drop a week later.
 */
export async function uploadResumable(
  target: ResumableUploadTarget,
  source: Readable,
  options: SaveOptions,
  digest: ContentDigest,
  signal: AbortSignal | undefined,
): Promise<void> {
  const { file, requestTimeoutMs } = target;
  const connections = new UploadConnections(new URL(target.apiEndpoint).protocol, requestTimeoutMs);
  // Only this File's requests: the resumable Upload takes the interceptors' result as its request
  // options. (A given agent also bypasses gaxios' HTTPS_PROXY support.)
  const withAgent = { agent: connections.agent };
  file.interceptors.push({ request: (requestOptions) => ({ ...requestOptions, ...withAgent }) as RequestOptions });
  const sink = file.createWriteStream({ ...options, resumable: true });
  let sessionUri: string | undefined;
  sink.on('uri', (uri: string) => (sessionUri = uri));
  try {
    const sent = pipeline(source, sink, signal ? { signal } : {});
    // Attached once pipeline has piped the source: the digest sees exactly the chunks the sink gets.
    digest.follow(source);
    await sent;
  } catch (error) {
    connections.close('upload failed');
    // Awaited so that no request outlives put, but briefly: the failure is already known.
    if (sessionUri !== undefined) await cancelResumableSession(sessionUri, Math.min(requestTimeoutMs, CANCEL_TIMEOUT_MS));
    throw error;
  } finally {
    connections.close();
  }
}

/**
 * Cancels a resumable session. The session URI is its own credential, so this needs no auth.
 * Best effort and bounded: an upload that cannot be cancelled expires on its own.
 */
function cancelResumableSession(sessionUri: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    try {
      const send = sessionUri.startsWith('https:') ? httpsRequest : httpRequest;
      const request = send(sessionUri, { method: 'DELETE', agent: false, timeout: timeoutMs, headers: { 'content-length': '0' } }, (response) =>
        response.resume(),
      );
      request.on('timeout', () => request.destroy());
      request.on('error', () => {});
      request.on('close', () => resolve());
      request.end();
    } catch {
      resolve();
    }
  });
}
