import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type TokenBackendBehaviour =
  | { readonly kind: 'json'; readonly status?: number; readonly body: unknown; readonly delayMs?: number }
  /** A 200 whose body is `bytes` of JSON-looking text, sent in 64 KiB writes, declared or chunked. */
  | { readonly kind: 'endless'; readonly bytes: number; readonly declareLength: boolean }
  | { readonly kind: 'status'; readonly status: number }
  | { readonly kind: 'raw'; readonly status: number; readonly body: string }
  | { readonly kind: 'hang' };

function sendEndless(res: ServerResponse, bytes: number, declareLength: boolean): void {
  res.writeHead(200, { 'Content-Type': 'application/json', ...(declareLength ? { 'Content-Length': String(bytes) } : {}) });
  const block = Buffer.alloc(64 * 1024, 0x20);
  block.write('{"user":{"role":"store","pad":"');
  let left = bytes;
  const pump = () => {
    while (left > 0) {
      const part = left >= block.length ? block : block.subarray(0, left);
      left -= part.length;
      if (!res.write(part)) return void res.once('drain', pump);
    }
    res.end();
  };
  res.on('error', () => {});
  pump();
}

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
      case 'json': {
        const send = () => {
          res.writeHead(behaviour.status ?? 200, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify(behaviour.body));
        };
        if (behaviour.delayMs === undefined) send();
        else setTimeout(send, behaviour.delayMs);
        return;
      }
      case 'endless':
        sendEndless(res, behaviour.bytes, behaviour.declareLength);
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
