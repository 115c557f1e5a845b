import { z } from 'zod';
import { documented, optional, integer, LOG_LEVELS } from './variable-syntax.ts';

/** How the service runs: HTTP timeouts, connections, production mode, logs, shutdown. */
export const OPERATIONS_VARIABLES = {
  HTTP_HEADERS_TIMEOUT_MS: documented(integer(1000, 600_000).default(20_000), { doc: "Time a client has to send a request's headers." }),
  HTTP_REQUEST_TIMEOUT_MS: documented(integer(1000, 86_400_000).default(300_000), {
    doc: 'Time a client has to send a whole request, body included (a 25 MiB upload at 1 Mbit/s takes ~210 s).',
  }),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: documented(integer(0, 600_000).default(5000), {
    doc: 'How long an idle keep-alive connection stays open; keep it above your load balancer’s idle timeout: `65000` behind one whose idle timeout is 60 s (AWS ALB’s and nginx’s upstream default; operations.md).',
  }),
  MAX_CONNECTIONS: documented(integer(1, 1_000_000).default(8192), {
    doc: 'Most client connections open at once; one more is answered 503 and closed. Each holds a file descriptor: keep it a few hundred below the process’s limit (`ulimit -Hn`, which Node raises its soft limit to; systemd’s `LimitNOFILE`).',
  }),
  NODE_ENV: documented(optional, {
    default: '(unset)',
    doc: '`production` refuses to start without `AUTH_TOKENS_FILE` or `AUTH_INTROSPECTION_URL`, never makes development tokens, and never logs in the pretty format.',
  }),
  LOG_LEVEL: documented(z.enum(LOG_LEVELS, `must be one of ${LOG_LEVELS.join(', ')}`).default('info'), {
    doc: 'Least severe log level written: `fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`.',
  }),
  LOG_FORMAT: documented(z.enum(['json', 'pretty'], 'must be json or pretty').optional(), {
    default: '`pretty` when not production, stdout is a terminal and `pino-pretty` is installed; else `json`',
    doc: '`json` (one JSON object per line) or `pretty` (human-readable; needs the `pino-pretty` devDependency).',
  }),
  // An hour is far beyond any orchestrator's termination grace period; a larger value is a typo.
  SHUTDOWN_GRACE_MS: documented(integer(0, 3_600_000).default(25_000), {
    doc: 'On SIGTERM/SIGINT, how long uploads in flight may take to finish before their connections are closed.',
  }),
};
