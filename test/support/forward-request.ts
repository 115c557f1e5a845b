import { request, type IncomingMessage, type ServerResponse } from 'node:http';

/**
 * Sends `incoming` on to the same path at `target` (plain HTTP) with its headers as they are (Host
 * included, so SigV4 signatures still verify and GCS session URIs point back through the proxy),
 * and streams the answer back; a failing upstream closes the client's connection.
 */
export function forwardRequest(target: string, incoming: IncomingMessage, outgoing: ServerResponse): void {
  const upstream = request(new URL(incoming.url ?? '/', target), { method: incoming.method, headers: incoming.headers }, (answer) => {
    outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(outgoing);
  });
  upstream.on('error', () => outgoing.destroy());
  incoming.pipe(upstream);
}
