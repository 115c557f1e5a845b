import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type TokenBackendBehaviour =
  | { readonly kind: 'json'; readonly status?: number; readonly body: unknown }
  | { readonly kind: 'status'; readonly status: number }
  | { readonly kind: 'raw'; readonly status: number; readonly body: string }
  | { readonly kind: 'hang' };

/**
 * A stand-in for the platform's token API on 127.0.0.1:0: `answer` decides, per request, what
 * it says about the `Authorization` header it received; `requests` records every header seen.
 */
export async function startTokenBackend(answer: (authorization: string | undefined) => TokenBackendBehaviour) {
  const requests: Array<string | undefined> = [];
  const hanging = new Set<ServerResponse>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    requests.push(req.headers.authorization);
    const behaviour = answer(req.headers.authorization);
    switch (behaviour.kind) {
      case 'json':
        res.writeHead(behaviour.status ?? 200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(behaviour.body));
        return;
      case 'status':
        res.writeHead(behaviour.status, { 'Content-Type': 'application/json' });
        res.end('{"detail":"nope"}');
        return;
      case 'raw':
        res.writeHead(behaviour.status, { 'Content-Type': 'text/html' });
        res.end(behaviour.body);
        return;
      case 'hang':
        hanging.add(res);
        return;
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api/auth/me/`,
    requests,
    async stop() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
