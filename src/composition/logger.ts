import { pino, type Logger } from 'pino';
import { ConfigError, type Config } from './config.ts';

/**
 * The process's logger: JSON lines for machines, or pino-pretty for a developer at a terminal.
 * pino-pretty is a devDependency, so it is loaded only when wanted and never required in production.
 */
export async function createLogger(config: Config, stdout: { isTTY?: boolean } = process.stdout): Promise<Logger> {
  const options = {
    name: 'attache',
    level: config.logLevel,
    // Defence in depth: nothing logs headers or tokens, and if something ever does, pino blanks them.
    redact: ['authorization', '*.authorization', 'headers.authorization', '*.headers.authorization', 'token', '*.token'],
  };
  if (config.logFormat === 'pretty') {
    if (config.production) throw new ConfigError('LOG_FORMAT', 'pretty is for development; with NODE_ENV=production use json');
    if (!prettyResolves()) throw new ConfigError('LOG_FORMAT', 'pretty needs pino-pretty, a devDependency that is not installed here');
  }
  const pretty = config.logFormat === 'pretty' || (config.logFormat === undefined && !config.production && stdout.isTTY === true && prettyResolves());
  // Synchronous writes to stdout: pino's default asynchronous stream flushes itself on exit, and
  // when the reader of stdout has gone (EPIPE) that flush retries for ever and the process never
  // exits (sonic-boom 4, which pino 10 uses). A line written synchronously is also never lost in a crash.
  if (!pretty) return pino(options, pino.destination({ dest: 1, sync: true }));
  const { default: pinoPretty } = await import('pino-pretty');
  return pino(options, pinoPretty({ sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,name' }));
}

function prettyResolves(): boolean {
  try {
    import.meta.resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}
