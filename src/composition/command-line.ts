/**
 * The `attache` command's composition root (src/cli.ts launches it): the command adapter with
 * the service's configuration and the use case built from it, on the process's real stdio.
 */
import { runAttacheCommand, type CommandSetup } from '../adapters/cli/attache-command.ts';
import { UsageError } from '../adapters/cli/cli-io.ts';
import { ConfigError, loadConfig } from './config.ts';
import { createUploadAttachment } from './library.ts';
import { openStorageSetup } from './storage-setup.ts';

/**
 * The command's setup for `env`: the same variables, validation and adapters as the service,
 * relative paths taken from `cwd` (where the command was typed). A configuration problem, found
 * now or when the adapters are built (an unreadable AUTH_TOKENS_FILE), is a UsageError: "invalid
 * configuration", exit 2.
 */
export function commandSetup(env: NodeJS.ProcessEnv, cwd: string = process.cwd()): CommandSetup {
  const config = asUsageError(() => loadConfig(env, { cwd }));
  return {
    production: config.production,
    tokensFileSet: config.authTokensFile !== undefined,
    defaultToken: config.attacheToken,
    localStorageDir: config.storage.driver === 'local' ? config.storage.dir : undefined,
    open: () => asUsageError(() => createUploadAttachment(config)),
    openStorageSetup: async () => ({ ...(await openStorageSetup(config)), driver: config.storage.driver }),
  };
}

function asUsageError<T>(make: () => T): T {
  const invalid = (error: unknown) => (error instanceof ConfigError ? new UsageError(`invalid configuration: ${error.message}`) : error);
  try {
    const made = make();
    return (made instanceof Promise ? made.catch((error: unknown) => Promise.reject(invalid(error))) : made) as T;
  } catch (error) {
    throw invalid(error);
  }
}

/** The process's `attache`: real stdio and environment; Ctrl-C undoes the upload under way. */
export async function main(argv: string[]): Promise<number> {
  const interrupted = new AbortController();
  const onSigint = () => interrupted.abort(new Error('interrupted'));
  process.once('SIGINT', onSigint);
  try {
    // Under `npm run attache`, npm starts the command in the project's folder and says in
    // INIT_CWD where it was typed: file names and the configuration's paths are relative to the latter.
    const cwd = process.env.INIT_CWD ?? process.cwd();
    const io = { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd, signal: interrupted.signal };
    return await runAttacheCommand(argv, io, { setUp: (env) => commandSetup(env, cwd) });
  } finally {
    process.off('SIGINT', onSigint);
  }
}
