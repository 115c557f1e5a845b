import { createServer } from 'node:http';
import { forwardRequest } from '../forward-request.ts';

export interface RecordingForwarder {
  /** The forwarder's address, to give clients instead of the target's. */
  readonly url: string;
  /** `METHOD /path` of every request received, in order: what a client really sent, retries included. */
  readonly requests: readonly string[];
  close(): Promise<void>;
}

/** A loopback proxy in front of `target` that records each request's method and path before forwarding it. */
export async function recordingForwarder(target: string): Promise<RecordingForwarder> {
  const requests: string[] = [];
  const server = createServer((incoming, outgoing) => {
    requests.push(`${incoming.method} ${incoming.url}`);
    forwardRequest(target, incoming, outgoing);
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
