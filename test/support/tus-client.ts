/**
 * tus-js-client (Node) as a browser or app would use it, against attache's resumable endpoint:
 * one upload to its end, with what the last answer said.
 */
import { Readable } from 'node:stream';
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
  /** How requests are sent: tus-js-client's own Node stack unless given (see stallingHttpStack). */
  readonly httpStack?: tus.HttpStack;
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
      ...(options.httpStack && { httpStack: options.httpStack }),
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

/** Where a PATCH stops sending: after `bytes` of its piece, until `until` settles. */
export interface Stall {
  readonly bytes: number;
  readonly until: Promise<void>;
}

/**
 * tus-js-client's own Node stack, except that a PATCH for which `stallAt` answers a Stall sends
 * the first bytes of its piece and then waits, its request open, as a phone in a tunnel does: the
 * test knows the request is in the middle of its body, and on which instance, with no timing.
 */
export function stallingHttpStack(stallAt: (offset: number, pieceLength: number) => Stall | undefined): tus.HttpStack {
  const stack = new tus.DefaultHttpStack({});
  return {
    getName: () => 'StallingHttpStack',
    createRequest(method, url) {
      const request = stack.createRequest(method, url);
      const send = request.send.bind(request);
      request.send = (body: unknown) => {
        const stall = method === 'PATCH' && body instanceof Uint8Array ? stallAt(Number(request.getHeader('Upload-Offset')), body.length) : undefined;
        if (stall === undefined) return send(body);
        const piece = body as Uint8Array;
        async function* stalled(): AsyncGenerator<Buffer> {
          yield Buffer.from(piece.subarray(0, stall!.bytes));
          await stall!.until;
          yield Buffer.from(piece.subarray(stall!.bytes));
        }
        // `size`: the stack then sends a Content-Length, as it does for the piece itself.
        return send(Object.assign(Readable.from(stalled(), { objectMode: false }), { size: piece.length }));
      };
      return request;
    },
  };
}
