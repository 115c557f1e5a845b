/**
 * `npm start` and the image's command: the service as a process, from its environment to its
 * exit. Configuration errors are one line on stderr and exit 1; SIGTERM/SIGINT shut it down
 * gracefully (a second signal: at once).
 */
import type { Logger } from 'pino';
import { StorageCheckFailed } from '../application/storage-check.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { developmentBanner, SAMPLE_ATTACHMENT_FILE } from './development-banner.ts';
import { createLogger } from './logger.ts';
import { startAttache, type RunningAttache } from './service.ts';

export async function runService(): Promise<void> {
  let config: Config;
  let logger: Logger;
  let running: RunningAttache;
  try {
    config = loadConfig();
    logger = await createLogger(config);
    running = await startAttache(config, { logger });
  } catch (error) {
    if (error instanceof StorageCheckFailed) {
      console.error(`attache: storage check failed (STORAGE_CHECK=off skips it): ${error.detail}`);
      process.exit(1);
    }
    if (!(error instanceof ConfigError)) throw error;
    console.error(`attache: invalid configuration: ${error.message}`);
    process.exit(1);
  }
  if (running.developmentTokens) {
    console.log(developmentBanner({ url: running.url, tokens: running.developmentTokens, sampleFile: SAMPLE_ATTACHMENT_FILE }).join('\n'));
  }
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) {
      // A second signal (Ctrl-C twice) means "now".
      logger.warn({ signal }, 'stopping without waiting for uploads in flight');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal, graceMs: config.shutdownGraceMs }, 'shutting down: finishing uploads in flight, refusing new ones');
    void running.shutdown(config.shutdownGraceMs).then((outcome) => {
      logger.info({ outcome }, 'stopped');
      process.exit(0);
    });
  };
  const { limits } = config;
  if (config.production && limits.redisUrl === undefined && (limits.uploads || limits.authFailures || limits.quota)) {
    logger.warn('REDIS_URL is not set: each instance counts the upload limits alone (right for one instance; with N instances a client gets up to N times the limits)');
  }
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  // Logged only now: whoever waits for this line may send SIGTERM at once, and it must be handled.
  logger.info(
    {
      url: running.url,
      driver: config.storage.driver,
      ...(config.storage.driver === 'local' && { dir: config.storage.dir }),
      maxFileSize: config.maxFileSize,
    },
    'attache is accepting uploads',
  );
}
