/**
 * Composition root of the `attache` command (src/cli.ts launches it): parses arguments with
 * node:util parseArgs, builds the use case with createUploadAttachment from the service's
 * environment variables, and hands the work to the CLI adapter in adapters/cli.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { EXIT, UsageError, type CliIO } from './adapters/cli/cli-io.ts';
import { errorReport, errorText } from './adapters/cli/error-lines.ts';
import { newTokenEntry, TOKEN_ROLES, type TokenRole } from './adapters/cli/token-entry.ts';
import { uploadFiles } from './adapters/cli/upload-files.ts';
import { ConfigError, loadConfig } from './config.ts';
import { createUploadAttachment } from './create-upload-attachment.ts';
import { Unauthorized } from './domain/errors.ts';
import { MAX_SESSION_ID_LENGTH, parseSessionId } from './domain/folder-policy.ts';
import { principalFrom, type Principal } from './domain/principal.ts';

const MAIN_HELP = `Usage: attache <command> [options]

Commands:
  upload FILE...         upload files as chat attachments, print their URLs
  tokens create          make a new token and its AUTH_TOKENS_FILE entry

Run "attache <command> --help" for a command's options. Configuration comes from the same
environment variables as the service (STORAGE_DRIVER, LOCAL_STORAGE_DIR, S3_*, GCS_*,
PUBLIC_BASE_URL, MAX_FILE_SIZE, AUTH_TOKENS_FILE, NODE_ENV).

Exit codes: 0 done, 1 an upload failed or was refused, 2 bad arguments or configuration,
130 interrupted.
`;

const UPLOAD_HELP = `Usage: attache upload FILE... [--session ID] [--token T] [--json]
       attache upload FILE... --as admin|store [--id N] [--session ID] [--json]

Uploads each FILE through the same use case as POST /v1/chat/upload/: same folders, same
allowed types, same MAX_FILE_SIZE, same storage. Files are uploaded one after another; a
file that fails is reported and the next one is tried, and the exit code is then 1. An
invalid token, an invalid session id or unavailable storage stops the run.

Options:
  --session ID   put the files in chat/session-ID/ (letters, digits, -, _)
  --token T      an admin or store token from AUTH_TOKENS_FILE (default: $ATTACHE_TOKEN)
  --as ROLE      upload as an admin or store without a token; refused when NODE_ENV=production
  --id N         with --as: the admin's or store's id (its folder is chat/ROLE-N/)
  --json         print one JSON object per file: {"file","url","type","size"} on success,
                 {"file","error","code","detail"} on failure (failures also go to stderr)
  -h, --help     show this help

Output: one line per stored file, "FILE: URL (TYPE)"; errors on stderr as
"attache: FILE: <error> (<detail>)". On a terminal (not when stderr is piped or CI is set)
files of 1 MiB and more show a progress bar on stderr.
`;

const TOKENS_CREATE_HELP = `Usage: attache tokens create --role admin|store [--id N] [--json]

Prints a new random token (line 1) and the entry that accepts it (line 2), to add to the
"tokens" array of AUTH_TOKENS_FILE. The entry holds only the token's SHA-256; the token itself
is shown once and stored nowhere. attache reads AUTH_TOKENS_FILE at start-up: restart it.

Options:
  --role ROLE    admin or store
  --id N         the admin's or store's id (letters, digits, -, _)
  --json         print {"token": "...", "entry": {...}} instead
  -h, --help     show this help
`;

function parse<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T, allowPositionals: boolean) {
  try {
    return parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals, strict: true });
  } catch (error) {
    // parseArgs's messages already name the option ("Unknown option '--x'").
    throw new UsageError((error as Error).message);
  }
}

const SAFE_ID = /^[A-Za-z0-9_-]+$/;
function checkId(id: string | undefined): string | undefined {
  if (id !== undefined && (!SAFE_ID.test(id) || id.length > MAX_SESSION_ID_LENGTH)) {
    throw new UsageError(`--id may contain only letters, digits, "-" and "_" (at most ${MAX_SESSION_ID_LENGTH}), got ${JSON.stringify(id)}`);
  }
  return id;
}

async function upload(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      session: { type: 'string' },
      token: { type: 'string' },
      as: { type: 'string' },
      id: { type: 'string' },
      json: { type: 'boolean' },
    },
    true,
  );
  if (values.help) {
    io.stdout.write(UPLOAD_HELP);
    return EXIT.OK;
  }
  if (positionals.length === 0) throw new UsageError('upload: file is required (attache upload FILE...)');
  if (values.id !== undefined && values.as === undefined) throw new UsageError('--id goes with --as; a token already names its holder');
  const config = loadConfig(io.env);
  // Checked once: a bad session id would fail every file.
  const sessionId = parseSessionId(values.session);
  const token = values.token ?? (io.env.ATTACHE_TOKEN?.trim() || undefined);

  let principal: Principal | undefined;
  if (values.as !== undefined) {
    if (config.production) throw new UsageError('--as is refused when NODE_ENV=production; pass a token from AUTH_TOKENS_FILE');
    if (token !== undefined) throw new UsageError('give either a token (--token or ATTACHE_TOKEN) or --as, not both');
    if (!(TOKEN_ROLES as readonly string[]).includes(values.as)) throw new UsageError(`--as must be admin or store, got ${JSON.stringify(values.as)}`);
    principal = principalFrom({ role: values.as, id: checkId(values.id) });
  } else if (token === undefined) {
    throw new Unauthorized('no token: pass --token T or set ATTACHE_TOKEN; outside production, --as store --id N');
  } else if (config.authTokensFile === undefined) {
    // The service's development tokens are made up at each start; nothing here could check one.
    throw new Unauthorized('AUTH_TOKENS_FILE is not set, so no token can be checked; set it, or outside production use --as store --id N');
  }

  const attache = await createUploadAttachment(config);
  try {
    principal ??= await attache.uploadAttachment.authenticate(token);
    return await uploadFiles({ uploadAttachment: attache.uploadAttachment, principal, sessionId, files: positionals, json: values.json ?? false }, io);
  } finally {
    await attache.close();
  }
}

async function tokensCreate(args: string[], io: CliIO): Promise<number> {
  const { values } = parse(args, { role: { type: 'string' }, id: { type: 'string' }, json: { type: 'boolean' } }, false);
  if (values.help) {
    io.stdout.write(TOKENS_CREATE_HELP);
    return EXIT.OK;
  }
  if (values.role === undefined || !(TOKEN_ROLES as readonly string[]).includes(values.role)) {
    throw new UsageError(`tokens create: --role must be admin or store${values.role === undefined ? '' : `, got ${JSON.stringify(values.role)}`}`);
  }
  const { token, entry } = newTokenEntry(values.role as TokenRole, checkId(values.id));
  if (values.json) {
    io.stdout.write(`${JSON.stringify({ token, entry })}\n`);
  } else {
    io.stdout.write(`${token}\n${JSON.stringify(entry)}\n`);
    io.stderr.write('Line 1 is the token: give it to its holder, it is not stored anywhere.\n');
    io.stderr.write('Line 2 goes into the "tokens" array of AUTH_TOKENS_FILE; restart attache to accept it.\n');
  }
  return EXIT.OK;
}

async function run(argv: string[], io: CliIO): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'upload':
      return upload(rest, io);
    case 'tokens':
      if (rest[0] === 'create') return tokensCreate(rest.slice(1), io);
      if (rest[0] === undefined || rest[0] === '--help' || rest[0] === '-h') {
        // Asked for, usage is the output; given instead of a subcommand, it is the error.
        const usage = 'Usage: attache tokens create --role admin|store [--id N] [--json]\n\nRun "attache tokens create --help" for details.\n';
        (rest[0] === undefined ? io.stderr : io.stdout).write(usage);
        return rest[0] === undefined ? EXIT.USAGE : EXIT.OK;
      }
      throw new UsageError(`tokens: unknown subcommand ${JSON.stringify(rest[0])}; try "attache tokens create --help"`);
    case undefined:
      io.stderr.write(MAIN_HELP);
      return EXIT.USAGE;
    case '--help':
    case '-h':
    case 'help':
      io.stdout.write(MAIN_HELP);
      return EXIT.OK;
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}; try "attache --help"`);
  }
}

/** Runs `attache ...argv`; resolves with the exit code, having printed every message. */
export async function runCli(argv: string[], io: CliIO): Promise<number> {
  try {
    return await run(argv, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`attache: ${error.message}\n`);
      return EXIT.USAGE;
    }
    if (error instanceof ConfigError) {
      io.stderr.write(`attache: invalid configuration: ${error.message}\n`);
      return EXIT.USAGE;
    }
    if (io.signal?.aborted) return EXIT.INTERRUPTED;
    io.stderr.write(`attache: ${errorText(errorReport(error))}\n`);
    return EXIT.FAILED;
  }
}

/** The process's `attache`: real stdio and environment; Ctrl-C undoes the upload under way. */
export async function main(argv: string[]): Promise<number> {
  const interrupted = new AbortController();
  const onSigint = () => interrupted.abort(new Error('interrupted'));
  process.once('SIGINT', onSigint);
  try {
    return await runCli(argv, { stdout: process.stdout, stderr: process.stderr, env: process.env, signal: interrupted.signal });
  } finally {
    process.off('SIGINT', onSigint);
  }
}
