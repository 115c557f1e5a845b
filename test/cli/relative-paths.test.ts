/**
 * Where the `attache` command takes relative paths from: the folder the command was typed in,
 * for its file arguments and its configuration's paths alike (AUTH_TOKENS_FILE,
 * LOCAL_STORAGE_DIR), also through `npm run attache` from another folder, where npm runs the
 * script in the checkout and says in INIT_CWD where it was typed. And a configuration it cannot
 * use is "invalid configuration", exit 2, never "internal error".
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newTokenEntry } from '../../src/adapters/cli/token-entry.ts';
import { fileNamed } from '../support/file-heads.ts';
import { filesUnder } from '../support/stores-under-test.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(root, 'dist', 'cli.js');

interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function settle(file: string, args: string[], cwd: string, env: Record<string, string>): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, env: { PATH: process.env.PATH, HOME: cwd, ...env } }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? -1) : 0, stdout, stderr }),
    );
  });
}

/** As docs/cli.md says to run it from anywhere: npm, told where the checkout is, typed in `cwd`. */
const npmRunAttache = (args: string[], cwd: string, env: Record<string, string>) => settle('npm', ['--prefix', root, 'run', '-s', 'attache', '--', ...args], cwd, env);
/** The installed command, `node dist/cli.js`, typed in `cwd`. */
const installedAttache = (args: string[], cwd: string, env: Record<string, string>) => settle(process.execPath, [CLI, ...args], cwd, env);

describe('relative paths in the attache command', () => {
  let work: string;
  let token: string;

  beforeAll(async () => {
    // A folder outside the checkout, holding the tokens file and the photo, as an operator's would.
    work = await mkdtemp(join(tmpdir(), 'attache-cli-paths-'));
    const created = newTokenEntry('store', '42');
    token = created.token;
    await writeFile(join(work, 'tokens.json'), JSON.stringify({ tokens: [created.entry] }));
    await writeFile(join(work, 'photo.jpg'), fileNamed('photo.jpg', 3000));
    await mkdir(join(work, 'elsewhere'));
  });
  afterAll(() => rm(work, { recursive: true, force: true }));

  it.each([
    ['npm run attache, from another folder', npmRunAttache],
    ['node dist/cli.js', installedAttache],
  ])('%s: ./tokens.json, ./uploads and photo.jpg all resolve where the command was typed (docs/cli.md)', async (_, attache) => {
    const storage = join(work, `uploads-${attache === npmRunAttache ? 'npm' : 'installed'}`);
    const env = { AUTH_TOKENS_FILE: './tokens.json', ATTACHE_TOKEN: token, LOCAL_STORAGE_DIR: `./${storage.slice(work.length + 1)}`, PUBLIC_BASE_URL: 'https://files.example', PREVIEWS: 'off' };
    const { code, stdout, stderr } = await attache(['upload', 'photo.jpg'], work, env);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toMatch(/^photo\.jpg: https:\/\/files\.example\/chat\/store-42\/\S+-photo\.jpg \(image\/jpeg\)\n$/);
    // The local driver keeps each file's metadata in a hidden sidecar beside it.
    const stored = (await filesUnder(storage)).filter((key) => !key.split('/').at(-1)!.startsWith('.'));
    expect(stored).toEqual([expect.stringMatching(/^chat\/store-42\/.+-photo\.jpg$/)]);
  });

  it.each([
    ['npm run attache', npmRunAttache],
    ['node dist/cli.js', installedAttache],
  ])('%s: a tokens file that is not where it is said to be is an invalid configuration, exit 2, naming the full path', async (_, attache) => {
    const { code, stdout, stderr } = await attache(['upload', '../photo.jpg'], join(work, 'elsewhere'), { AUTH_TOKENS_FILE: './tokens.json', ATTACHE_TOKEN: token });
    expect({ code, stdout }).toEqual({ code: 2, stdout: '' });
    expect(stderr).toBe(`attache: invalid configuration: AUTH_TOKENS_FILE: cannot read ${join(work, 'elsewhere', 'tokens.json')}: ENOENT: no such file or directory, open '${join(work, 'elsewhere', 'tokens.json')}'\n`);
  });

  it('a tokens file that is not a tokens file is an invalid configuration too, never an internal error', async () => {
    await writeFile(join(work, 'elsewhere', 'not-tokens.json'), '{"tokens": "none"}');
    const { code, stderr } = await npmRunAttache(['upload', '../photo.jpg'], join(work, 'elsewhere'), { AUTH_TOKENS_FILE: 'not-tokens.json', ATTACHE_TOKEN: token });
    expect(code).toBe(2);
    expect(stderr).toMatch(/^attache: invalid configuration: AUTH_TOKENS_FILE: \/.*\/elsewhere\/not-tokens\.json: tokens: /);
    expect(stderr).not.toContain('internal error');
  });
});
