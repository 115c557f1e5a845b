/**
 * `attache delete URL...` as installed (`node dist/cli.js`, built by the vitest globalSetup), on a
 * temporary LOCAL_STORAGE_DIR: the same rules as DELETE /v1/chat/files/<key>.
 */
import { execFile } from 'node:child_process';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileNamed } from '../support/file-heads.ts';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

function attache(args: string[], env: Record<string, string>, cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH, ...env }, cwd }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? -1) : 0, stdout, stderr });
    });
  });
}

const exists = (path: string) => access(path).then(() => true, () => false);

describe('attache delete', () => {
  let scratch: string;
  let storage: string;
  let env: Record<string, string>;
  let tokens: { store: string; otherStore: string; admin: string };

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'attache-cli-delete-'));
    storage = join(scratch, 'uploads');
    const created = await Promise.all(
      [['store', '42'], ['store', '43'], ['admin', '7']].map(async ([role, id]) => {
        const { stdout } = await attache(['tokens', 'create', '--role', role!, '--id', id!, '--json'], {}, scratch);
        return JSON.parse(stdout) as { token: string; entry: object };
      }),
    );
    tokens = { store: created[0]!.token, otherStore: created[1]!.token, admin: created[2]!.token };
    await writeFile(join(scratch, 'tokens.json'), JSON.stringify({ tokens: created.map((c) => c.entry) }));
    env = { LOCAL_STORAGE_DIR: storage, AUTH_TOKENS_FILE: join(scratch, 'tokens.json') };
    await writeFile(join(scratch, 'photo.jpg'), fileNamed('photo.jpg', 5000));
  });
  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  async function uploaded(token: string): Promise<{ url: string; path: string }> {
    const { code, stdout } = await attache(['upload', 'photo.jpg', '--token', token, '--json'], env, scratch);
    expect(code).toBe(0);
    const { url } = JSON.parse(stdout) as { url: string };
    return { url, path: join(storage, decodeURIComponent(new URL(url).pathname.replace(/^\/files\//, ''))) };
  }

  it('deletes what the store uploaded, by its URL; a second time it is not found (exit 1)', async () => {
    const { url, path } = await uploaded(tokens.store);
    expect(await exists(path)).toBe(true);
    const first = await attache(['delete', url, '--token', tokens.store], env, scratch);
    expect(first).toEqual({ code: 0, stdout: `${url}: deleted\n`, stderr: '' });
    expect(await exists(path)).toBe(false);
    const second = await attache(['delete', url, '--token', tokens.store], env, scratch);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/^attache: .*: Not found/);
  });

  it('refuses another store’s token with Forbidden, tries the next URL, and lets an admin delete it (JSON lines)', async () => {
    const theirs = await uploaded(tokens.store);
    const mine = await uploaded(tokens.otherStore);
    const refused = await attache(['delete', theirs.url, mine.url, '--token', tokens.otherStore, '--json'], env, scratch);
    expect(refused.code).toBe(1);
    const lines = refused.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, string>);
    expect(lines).toEqual([
      { url: theirs.url, error: 'Forbidden', code: 'FORBIDDEN', detail: expect.stringMatching(/only the attachments it uploaded/) },
      { url: mine.url, deleted: expect.stringMatching(/^chat\/store-43\//) },
    ]);
    expect(await exists(theirs.path)).toBe(true);
    expect((await attache(['delete', theirs.url, '--token', tokens.admin], env, scratch)).code).toBe(0);
    expect(await exists(theirs.path)).toBe(false);
  });

  it.each([
    [['delete'], 2, /^attache: delete: URL is required/],
    [['delete', 'https://x.example/a.pdf', '--as', 'admin'], 1, /Not found \(not an attachment URL\)/],
    [['delete', 'https://x.example/chat/a/b.pdf'], 1, /^attache: Unauthorized \(no token/],
  ])('answers %j with exit code %i and a one-line reason', async (args, exit, message) => {
    const { code, stderr } = await attache(args, { LOCAL_STORAGE_DIR: storage }, scratch);
    expect(code).toBe(exit);
    expect(stderr).toMatch(message);
  });
});
