import { createServer } from 'node:http';
import { extname } from 'node:path';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.jpg': 'image/jpeg',
  '.pdf': 'application/pdf',
};

export interface PageServer {
  /** `http://127.0.0.1:<port>`: the origin to allow in attache's CORS_ORIGINS. */
  readonly origin: string;
  close(): Promise<void>;
}

/** Serves `files` (path → content, typed by extension) on a free loopback port: a web page's own origin. */
export async function servePages(files: Readonly<Record<string, string | Uint8Array>>): Promise<PageServer> {
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://page').pathname;
    const body = files[path];
    if (body === undefined) response.writeHead(404).end();
    else response.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
