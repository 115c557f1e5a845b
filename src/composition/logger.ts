import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { ConfigError, type Config } from './config.ts';

/** What pino blanks at the top of a line, and one level down (the same paths under `*.`). */
const TOP_LEVEL_REDACT = ['authorization', 'headers.authorization', 'token'];
const NESTED_REDACT = TOP_LEVEL_REDACT.map((path) => `*.${path}`);
const SECRET_PATHS = TOP_LEVEL_REDACT.map((path) => path.split('.'));

/**
 * The process's logger: JSON lines for machines, or pino-pretty for a developer at a terminal.
 * pino-pretty is a devDependency, so it is loaded only when wanted and never required in production.
 */
export async function createLogger(config: Config, stdout: { isTTY?: boolean } = process.stdout): Promise<Logger> {
  const options = { name: 'attache', level: config.logLevel };
  if (config.logFormat === 'pretty') {
    if (config.production) throw new ConfigError('LOG_FORMAT', 'pretty is for development; with NODE_ENV=production use json');
    if (!prettyResolves()) throw new ConfigError('LOG_FORMAT', 'pretty needs pino-pretty, a devDependency that is not installed here');
  }
  const pretty = config.logFormat === 'pretty' || (config.logFormat === undefined && !config.production && stdout.isTTY === true && prettyResolves());
  // Synchronous writes to stdout: pino's default asynchronous stream flushes itself on exit, and
  // when the reader of stdout has gone (EPIPE) that flush retries for ever and the process never
  // exits (sonic-boom 4, which pino 10 uses). A line written synchronously is also never lost in a crash.
  if (!pretty) return redactingLogger(options, pino.destination({ dest: 1, sync: true }));
  const { default: pinoPretty } = await import('pino-pretty');
  return redactingLogger(options, pinoPretty({ sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,name' }));
}

/**
 * Defence in depth: nothing logs headers or tokens, and if something ever does, pino blanks them
 * (`authorization`, `headers.authorization` and `token`, at the top of a line and one level down).
 *
 * pino's redaction of the `*.` paths (@pinojs/redact 0.4) runs for every field of every line,
 * parsing its paths character by character each time: ~16 KB of garbage per access-log line, the
 * largest allocation of a small upload. So the top-level paths stay pino's (they run only for a
 * line that has the key), and a line with a candidate one level down, which no line attache
 * writes has, goes to a twin logger that redacts every path, as pino alone did.
 */
export function redactingLogger(options: LoggerOptions, destination: DestinationStream): Logger {
  let everyPath: Logger | undefined;
  return pino(
    {
      ...options,
      redact: TOP_LEVEL_REDACT,
      hooks: {
        logMethod(args, write, level) {
          if (!mayHoldNestedSecret(args[0])) return write.apply(this, args);
          everyPath ??= pino({ ...options, redact: [...TOP_LEVEL_REDACT, ...NESTED_REDACT] }, destination);
          // The same line from the twin: this logger's own bindings (its name is the twin's already) and level.
          const { name: _name, ...bindings } = this.bindings();
          const target = everyPath.child(bindings, { level: this.level });
          const log = target[this.levels.labels[level] as 'info'] as (...parts: unknown[]) => void;
          log.apply(target, args);
        },
      },
    },
    destination,
  );
}

/** Whether a line's object may have a secret one level down (erring on the side of yes). */
function mayHoldNestedSecret(line: unknown): boolean {
  if (line === null || typeof line !== 'object') return false;
  // pino logs an Error as `{ err }`: its own fields are then one level down.
  if (line instanceof Error) return true;
  // Runs for every line: plain loops, no closure per field (each would be garbage on every request).
  for (const key in line) {
    const value = (line as Record<string, unknown>)[key];
    if (value === null || typeof value !== 'object') continue;
    for (let i = 0; i < SECRET_PATHS.length; i++) if (hasPath(value, SECRET_PATHS[i]!)) return true;
  }
  return false;
}

/** Whether `value` has `path`, own or inherited (pino's err serializer copies inherited enumerable fields too). */
function hasPath(value: unknown, path: readonly string[]): boolean {
  let at = value;
  for (const key of path) {
    if (at === null || typeof at !== 'object' || !(key in at)) return false;
    at = (at as Record<string, unknown>)[key];
  }
  return true;
}

function prettyResolves(): boolean {
  try {
    import.meta.resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}
