/**
 * The library examples of docs/library.md and the README, run as a dependent runs them: each
 * ```js block that starts with `// <name>.mjs` is written to a project whose node_modules/attache
 * is this package. An example shown on both pages must be the same code on both.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileWithText } from '../support/file-heads.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

const PAGES = ['docs/library.md', 'README.md'];
const examplesOn = async (page: string) =>
  [...(await readFile(join(root, page), 'utf8')).matchAll(/```js\n\/\/ ([\w-]+\.mjs)[^\n]*\n([\s\S]*?)```/g)].map((m) => ({ page, name: m[1]!, code: m[2]! }));
const shown = (await Promise.all(PAGES.map(examplesOn))).flat();
const examples = Object.fromEntries(shown.map(({ name, code }) => [name, code]));

function node(dir: string, args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, args, { cwd: dir, env: { PATH: process.env.PATH, ...env } }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? -1) : 0, stdout, stderr }),
    );
  });
}

describe('the library examples of the docs', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'attache-docs-'));
    await mkdir(join(dir, 'node_modules'));
    await symlink(root, join(dir, 'node_modules', 'attache'));
    await writeFile(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
    for (const [name, code] of Object.entries(examples)) await writeFile(join(dir, name), code);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('has both library examples', () => {
    expect(Object.keys(examples).sort()).toEqual(['custom-adapters.mjs', 'upload-one.mjs']);
  });

  it('shows an example on several pages only as the same code', () => {
    for (const { page, name, code } of shown) expect(code, `${name} on ${page}`).toBe(examples[name]);
    const on = (page: string) => shown.filter((e) => e.page === page).map((e) => e.name);
    expect(on('docs/library.md')).toEqual(['upload-one.mjs', 'custom-adapters.mjs']);
    expect(on('README.md')).toEqual(['upload-one.mjs']);
  });

  it('upload-one.mjs uploads from the service’s environment, and reports a domain error by code', async () => {
    await writeFile(join(dir, 'tokens.json'), JSON.stringify({ tokens: [{ token: 'docs-example-store-token', role: 'store', id: '42' }] }));
    await writeFile(join(dir, 'photo.jpg'), fileWithText('photo.jpg', 'jpeg bytes'));
    await writeFile(join(dir, 'virus.exe'), 'MZ');
    const env = { STORAGE_DRIVER: 'local', LOCAL_STORAGE_DIR: join(dir, 'uploads'), AUTH_TOKENS_FILE: join(dir, 'tokens.json'), ATTACHE_TOKEN: 'docs-example-store-token' };
    const ok = await node(dir, ['upload-one.mjs', 'photo.jpg'], env);
    expect(ok).toMatchObject({ code: 0, stderr: '' });
    expect(ok.stdout).toMatch(new RegExp(`^http://localhost:8080/files/chat/store-42/${UUID}-photo\\.jpg image/jpeg\\n$`));
    const refused = await node(dir, ['upload-one.mjs', 'virus.exe'], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^UNSUPPORTED_FILE_TYPE: Unsupported file type \(\.exe is not allowed; /);
  });

  it('custom-adapters.mjs uploads through adapters of its own', async () => {
    const { code, stdout } = await node(dir, ['custom-adapters.mjs']);
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`^https://cdn\\.example\\.com/chat/session-order-1001/${UUID}-invoice\\.pdf application/pdf\\n$`));
  });
});
