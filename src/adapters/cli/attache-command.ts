import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { DeleteAttachment } from '../../application/delete-attachment.ts';
import type { SetUpStorage } from '../../application/set-up-storage.ts';
import type { UploadAttachment } from '../../application/upload-attachment.ts';
import { Unauthorized } from '../../domain/errors.ts';
import { isSafeIdentifier, MAX_SESSION_ID_LENGTH, parseSessionId } from '../../domain/folder-policy.ts';
import { principalFrom, type Principal } from '../../domain/principal.ts';
import { EXIT, isInteractive, UsageError, type CliIO } from './cli-io.ts';
import { errorReport, errorText } from './error-lines.ts';
import { deleteAttachments } from './delete-attachments.ts';
import { runStorageSetup, STORAGE_SETUP_HELP } from './storage-setup-command.ts';
import { DELETE_HELP, DIRECT_UPLOADS_EXPIRE_HELP, MAIN_HELP, TOKENS_CREATE_HELP, TOKENS_USAGE, UPLOAD_HELP } from './help-texts.ts';
import { newTokenEntry, TOKEN_ROLES, type TokenRole } from './token-entry.ts';
import { uploadFiles } from './upload-files.ts';

/** What the command gets from the composition root: the service's settings, and the use case built from them. */
export interface CommandSetup {
  /** NODE_ENV=production. */
  readonly production: boolean;
  /** Whether AUTH_TOKENS_FILE is set: only then can a token be checked here. */
  readonly tokensFileSet: boolean;
  /** ATTACHE_TOKEN: the token when --token is not given. */
  readonly defaultToken: string | undefined;
  /** With the local driver, the folder files go to (told after uploading). */
  readonly localStorageDir: string | undefined;
  /** Builds the use case as the service would; `close` releases what it opened. */
  open(): Promise<{ readonly uploadAttachment: UploadAttachment; readonly deleteAttachment: DeleteAttachment; close(): Promise<void> }>;
  /** `attache storage setup`: the setup for the configured driver (undefined: it has none), named by `driver`. */
  openStorageSetup(): Promise<{ readonly setUpStorage: SetUpStorage | undefined; readonly driver: string; close(): void }>;
}

export interface AttacheCommandDeps {
  /** The setup for this environment; throws UsageError for an invalid configuration. */
  setUp(env: NodeJS.ProcessEnv): CommandSetup;
}

/** Runs `attache ...argv`; resolves with the exit code, having printed every message. */
export async function runAttacheCommand(argv: string[], io: CliIO, deps: AttacheCommandDeps): Promise<number> {
  try {
    return await run(argv, io, deps);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`attache: ${error.message}\n`);
      return EXIT.USAGE;
    }
    if (io.signal?.aborted) return EXIT.INTERRUPTED;
    io.stderr.write(`attache: ${errorText(errorReport(error))}\n`);
    return EXIT.FAILED;
  }
}

async function run(argv: string[], io: CliIO, deps: AttacheCommandDeps): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'upload':
      return upload(rest, io, deps);
    case 'direct-uploads':
      return directUploads(rest, io, deps);
    case 'delete':
      return remove(rest, io, deps);
    case 'storage':
      if (rest[0] === 'setup') return storageSetup(rest.slice(1), io, deps);
      throw new UsageError(`storage: unknown subcommand ${JSON.stringify(rest[0] ?? '')}; try "attache storage setup --help"`);
    case 'tokens':
      if (rest[0] === 'create') return tokensCreate(rest.slice(1), io);
      if (rest[0] === undefined || rest[0] === '--help' || rest[0] === '-h') {
        // Asked for, usage is the output; given instead of a subcommand, it is the error.
        (rest[0] === undefined ? io.stderr : io.stdout).write(TOKENS_USAGE);
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

function parse<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T, allowPositionals: boolean) {
  try {
    return parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals, strict: true });
  } catch (error) {
    // parseArgs's messages already name the option ("Unknown option '--x'").
    throw new UsageError((error as Error).message);
  }
}

/** An admin's or store's id given on the command line: the same rule as the ids that name folders. */
function checkId(id: string | undefined): string | undefined {
  if (id !== undefined && !isSafeIdentifier(id)) {
    throw new UsageError(`--id may contain only letters, digits, "-" and "_" (at most ${MAX_SESSION_ID_LENGTH}), got ${JSON.stringify(id)}`);
  }
  return id;
}

async function upload(args: string[], io: CliIO, deps: AttacheCommandDeps): Promise<number> {
  const options = { session: { type: 'string' }, token: { type: 'string' }, as: { type: 'string' }, id: { type: 'string' }, json: { type: 'boolean' } } as const;
  const { values, positionals } = parse(args, options, true);
  if (values.help) {
    io.stdout.write(UPLOAD_HELP);
    return EXIT.OK;
  }
  if (positionals.length === 0) throw new UsageError('upload: file is required (attache upload FILE...)');
  if (values.id !== undefined && values.as === undefined) throw new UsageError('--id goes with --as; a token already names its holder');
  const setup = deps.setUp(io.env);
  // Checked once: a bad session id would fail every file.
  const sessionId = parseSessionId(values.session);
  let principal = principalWithoutToken(values, setup);
  const opened = await setup.open();
  try {
    principal ??= await opened.uploadAttachment.authenticate(values.token ?? setup.defaultToken);
    const request = { uploadAttachment: opened.uploadAttachment, principal, sessionId, files: positionals, json: values.json ?? false };
    const { exitCode, stored } = await uploadFiles(request, io);
    // Told to a person at a terminal (scripts read the URLs): the service serves the files of
    // this folder, by default attache's own data/uploads, wherever the command was run.
    if (stored > 0 && setup.localStorageDir !== undefined && isInteractive(io)) io.stderr.write(`attache: stored under ${setup.localStorageDir}\n`);
    return exitCode;
  } finally {
    await opened.close();
  }
}

/**
 * The principal `--as ROLE [--id N]` names (outside production only), or undefined when a token
 * (--token or ATTACHE_TOKEN) is to be checked against AUTH_TOKENS_FILE instead; refuses what
 * cannot work: both, neither, or a token with no tokens file to check it.
 */
function principalWithoutToken(
  values: { token?: string | undefined; as?: string | undefined; id?: string | undefined },
  setup: CommandSetup,
): Principal | undefined {
  const token = values.token ?? setup.defaultToken;
  if (values.as !== undefined) {
    if (setup.production) throw new UsageError('--as is refused when NODE_ENV=production; pass a token from AUTH_TOKENS_FILE');
    if (token !== undefined) throw new UsageError('give either a token (--token or ATTACHE_TOKEN) or --as, not both');
    if (!(TOKEN_ROLES as readonly string[]).includes(values.as)) throw new UsageError(`--as must be admin or store, got ${JSON.stringify(values.as)}`);
    return principalFrom({ role: values.as, id: checkId(values.id) });
  }
  if (token === undefined) throw new Unauthorized('no token: pass --token T or set ATTACHE_TOKEN; outside production, --as store --id N');
  // The service's development tokens are made up at each start; nothing here could check one.
  if (!setup.tokensFileSet) throw new Unauthorized('AUTH_TOKENS_FILE is not set, so no token can be checked; set it, or outside production use --as store --id N');
  return undefined;
}

async function remove(args: string[], io: CliIO, deps: AttacheCommandDeps): Promise<number> {
  const options = { token: { type: 'string' }, as: { type: 'string' }, id: { type: 'string' }, json: { type: 'boolean' } } as const;
  const { values, positionals } = parse(args, options, true);
  if (values.help) {
    io.stdout.write(DELETE_HELP);
    return EXIT.OK;
  }
  if (positionals.length === 0) throw new UsageError('delete: URL is required (attache delete URL...)');
  if (values.id !== undefined && values.as === undefined) throw new UsageError('--id goes with --as; a token already names its holder');
  const setup = deps.setUp(io.env);
  let principal = principalWithoutToken(values, setup);
  const opened = await setup.open();
  try {
    principal ??= await opened.deleteAttachment.authenticate(values.token ?? setup.defaultToken);
    return await deleteAttachments({ deleteAttachment: opened.deleteAttachment, principal, urls: positionals, json: values.json ?? false }, io);
  } finally {
    await opened.close();
  }
}

async function storageSetup(args: string[], io: CliIO, deps: AttacheCommandDeps): Promise<number> {
  const { values } = parse(args, { 'dry-run': { type: 'boolean' }, json: { type: 'boolean' } }, false);
  if (values.help) {
    io.stdout.write(STORAGE_SETUP_HELP);
    return EXIT.OK;
  }
  const opened = await deps.setUp(io.env).openStorageSetup();
  try {
    return await runStorageSetup(opened, { dryRun: values['dry-run'] ?? false, json: values.json ?? false }, io);
  } finally {
    opened.close();
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

/** `attache direct-uploads expire`: kept as another name for `attache storage setup`, which installs the staged rule with the others. */
async function directUploads(args: string[], io: CliIO, deps: AttacheCommandDeps): Promise<number> {
  const [subcommand, ...rest] = args;
  if (subcommand === undefined || subcommand === '--help' || subcommand === '-h') {
    (subcommand === undefined ? io.stderr : io.stdout).write(DIRECT_UPLOADS_EXPIRE_HELP);
    return subcommand === undefined ? EXIT.USAGE : EXIT.OK;
  }
  if (subcommand !== 'expire') throw new UsageError(`direct-uploads: unknown subcommand ${JSON.stringify(subcommand)}; try "attache direct-uploads --help"`);
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(DIRECT_UPLOADS_EXPIRE_HELP);
    return EXIT.OK;
  }
  return storageSetup(rest, io, deps);
}
