/**
 * tus-js-client (Node) as a browser or app would use it, against attache's resumable endpoint:
 * one upload to its end, with what the last answer said.
 */
import * as tus from 'tus-js-client';

export interface TusOutcome {
  /** The upload's URL (Location). */
  readonly url: string;
  /** The headers of the last answer (the final PATCH's, or the HEAD's that found it complete). */
  readonly headers: (name: string) => string | undefined;
}

export interface TusOptions {
  readonly token: string;
  readonly fileName: string;
  readonly sessionId?: string;
  readonly chunkSize?: number;
  readonly uploadDataDuringCreation?: boolean;
  readonly retryDelays?: number[];
  /** Called after each answer, e.g. to cut a connection or kill an instance in the middle. */
  readonly onAfterResponse?: tus.UploadOptions['onAfterResponse'];
  readonly onProgress?: (sent: number) => void;
}

/** Uploads `bytes` to `endpoint` (…/v1/chat/upload/resumable/); rejects with tus-js-client's DetailedError. */
export function tusUpload(endpoint: string, bytes: Buffer, options: TusOptions): Promise<TusOutcome> {
  return new Promise((resolve, reject) => {
    const upload = new tus.Upload(bytes, {
      endpoint,
      headers: { Authorization: `Token ${options.token}` },
      metadata: { filename: options.fileName, ...(options.sessionId !== undefined && { session_id: options.sessionId }) },
      chunkSize: options.chunkSize ?? Number.POSITIVE_INFINITY,
      uploadDataDuringCreation: options.uploadDataDuringCreation ?? false,
      retryDelays: options.retryDelays ?? [0, 100, 300],
      storeFingerprintForResuming: false,
      ...(options.onAfterResponse && { onAfterResponse: options.onAfterResponse }),
      onProgress: (sent) => options.onProgress?.(sent),
      onError: reject,
      onSuccess: ({ lastResponse }) => resolve({ url: upload.url!, headers: (name) => lastResponse.getHeader(name) }),
    });
    upload.start();
  });
}

/** The status and body of the answer a tus-js-client error carries. */
export function tusErrorAnswer(error: unknown): { status: number | undefined; body: unknown } {
  const response = (error as tus.DetailedError).originalResponse;
  const text = response?.getBody();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : text;
  } catch {
    // Not JSON: kept as text.
  }
  return { status: response?.getStatus(), body };
}
