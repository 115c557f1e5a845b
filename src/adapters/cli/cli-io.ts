/** Where a CLI command reads its environment and writes its output; the process's by default, buffers in tests. */
export interface CliIO {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown; readonly isTTY?: boolean; readonly columns?: number };
  readonly env: NodeJS.ProcessEnv;
  /** Where the files named on the command line are; the process's working directory by default. */
  readonly cwd?: string;
  /** Aborted when the user interrupts (Ctrl-C): the upload under way is undone. */
  readonly signal?: AbortSignal;
}

/** Exit codes of the `attache` command. */
export const EXIT = {
  /** Everything asked for was done. */
  OK: 0,
  /** An upload failed or was refused (Unauthorized, unsupported type, missing file, storage down...). */
  FAILED: 1,
  /** Bad arguments or an invalid configuration: nothing was attempted. */
  USAGE: 2,
  /** Interrupted (SIGINT), as shells report it. */
  INTERRUPTED: 130,
} as const;

/** A mistake in the command line or configuration; printed as `attache: <message>`, exit 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** True where a progress bar can be redrawn in place: a terminal, and not a CI log. */
export function isInteractive(io: CliIO): boolean {
  const ci = io.env.CI?.trim().toLowerCase();
  return io.stderr.isTTY === true && (ci === undefined || ci === '' || ci === 'false' || ci === '0');
}
