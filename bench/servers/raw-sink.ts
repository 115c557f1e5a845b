// Baseline: a bare Node HTTP server that only drains the request body — the loopback limit.
import { createServer } from 'node:http';

const server = createServer((req, res) => {
  req.on('data', () => {});
  req.on('end', () => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end('{"url":"raw","type":"application/octet-stream"}');
  });
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  console.log(`LISTENING http://127.0.0.1:${port}`);
});
process.on('SIGTERM', () => process.exit(0));
