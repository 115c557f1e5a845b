// Baseline: a bare Node HTTP server that only drains the request body — the loopback limit.
import { listenOnLoopback } from './listen-on-loopback.ts';

listenOnLoopback((req, res) => {
  req.on('data', () => {});
  req.on('end', () => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end('{"url":"raw","type":"application/octet-stream"}');
  });
});
