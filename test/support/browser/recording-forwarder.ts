import { createServer, request, type IncomingHttpHeaders } from 'node:http';
import { forwardRequest } from '../forward-request.ts';

/** A request as the forwarder received it. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
}

export interface RecordingForwarderOptions {
  /**
   * How many bytes of `request`'s body to pass on before cutting both connections (the client's and
   * the target's), as a network failure would in the middle of a request; undefined: all of it.
   */
  readonly cutBody?: (request: RecordedRequest) => number | undefined;
  /** Whether to pass `request` on whole but drop the client's connection instead of relaying the answer: an answer lost on the way back. */
  readonly loseAnswer?: (request: RecordedRequest) => boolean;
}

export interface RecordingForwarder {
  /** The forwarder's address, to give clients instead of the target's. */
  readonly url: string;
  /** Every request received, in order: what a client really sent, retries included. */
  readonly requests: readonly RecordedRequest[];
  close(): Promise<void>;
}

/** `METHOD /path` of each request: the short form tests compare. */
export const requestLines = (requests: readonly RecordedRequest[]): string[] => requests.map(({ method, path }) => `${method} ${path}`);

/** A loopback proxy in front of `target` that records each request before forwarding it (or cutting it, or losing its answer). */
export async function recordingForwarder(target: string, options: RecordingForwarderOptions = {}): Promise<RecordingForwarder> {
  const requests: RecordedRequest[] = [];
  const server = createServer((incoming, outgoing) => {
    const recorded = { method: incoming.method ?? 'GET', path: incoming.url ?? '/', headers: incoming.headers };
    requests.push(recorded);
    if (options.loseAnswer?.(recorded)) {
      const upstream = request(new URL(recorded.path, target), { method: recorded.method, headers: incoming.headers }, (answer) => {
        answer.resume();
        answer.on('end', () => incoming.socket.destroy());
      });
      upstream.on('error', () => incoming.socket.destroy());
      incoming.pipe(upstream);
      return;
    }
    const cutAt = options.cutBody?.(recorded);
    if (cutAt === undefined) return forwardRequest(target, incoming, outgoing);
    const upstream = request(new URL(recorded.path, target), { method: recorded.method, headers: incoming.headers });
    upstream.on('error', () => {});
    let passed = 0;
    incoming.on('data', (chunk: Buffer) => {
      if (passed >= cutAt) return;
      const part = chunk.subarray(0, cutAt - passed);
      passed += part.length;
      // Once the target has the bytes before the cut, both connections drop, the client's mid-body.
      if (passed < cutAt) upstream.write(part);
      else
        upstream.write(part, () => {
          upstream.destroy();
          incoming.socket.destroy();
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
