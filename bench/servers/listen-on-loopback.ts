import { createServer, type RequestListener } from 'node:http';

/** Serves `handler` on a free loopback port, printing `LISTENING <url>` for startServer; SIGTERM stops it. */
export function listenOnLoopback(handler: RequestListener): void {
  const server = createServer(handler);
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as { port: number };
    console.log(`LISTENING http://127.0.0.1:${port}`);
  });
  process.on("SIGTERM", () => process.exit(0)); process.on("SIGINT", () => process.exit(0));
}
