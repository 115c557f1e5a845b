import { execFile } from 'node:child_process';
import { mkdtemp, rm, symlink, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pngHead } from '../support/file-heads.ts';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Runs `body` in a fresh Node after registering a resolve hook (module.registerHooks, which sees
 * ESM imports, dynamic imports and require() alike) that records every module URL resolved.
 * The script runs inside the package, so `import('attache')` resolves through package.json's
 * `exports` exactly as it does for a dependent. Prints {"result": ..., "modules": [...]}.
 */
async function withModuleGraph(body: string): Promise<{ result: unknown; modules: string[] }> {
  const script = `
    import { registerHooks } from 'node:module';
    const modules = new Set();
    registerHooks({
      resolve(specifier, context, nextResolve) {
        const resolved = nextResolve(specifier, context);
        modules.add(resolved.url);
        return resolved;
      },
    });
    const result = await (async () => { ${body} })();
    process.stdout.write(JSON.stringify({ result, modules: [...modules] }));
  `;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: root, env: { PATH: process.env.PATH } });
  return JSON.parse(stdout) as { result: unknown; modules: string[] };
}

const packagesIn = (modules: string[]) =>
  [...new Set(modules.flatMap((url) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1] ?? []))].sort();

/** Packages only the HTTP service (src/main.ts, adapters/http) needs. */
const SERVICE_ONLY = /^(koa|@koa\/.*|busboy|multer|tsyringe|reflect-metadata|pino)$/;

describe("the package's library entry (exports '.' -> dist/index.js)", () => {
  it('builds the use case from environment variables, uploads, and loads no Koa, busboy, multer, tsyringe or pino', async () => {
    const pngHex = pngHead().toString('hex');
    const { result, modules } = await withModuleGraph(`
      const attache = await import('attache');
      const { Readable } = await import('node:stream');
      const embedded = await attache.createUploadAttachment(
        { STORAGE_DRIVER: 'memory', PUBLIC_BASE_URL: 'https://cdn.example/att' },
        { auth: new attache.StaticTokenAuth([{ token: 'library-store-token-0042', role: 'store', id: '42' }]) },
      );
      const useCase = embedded.uploadAttachment;
      const principal = await useCase.authenticate('library-store-token-0042');
      const png = Buffer.from('${pngHex}', 'hex');
      const uploaded = await useCase.execute({ principal, fileName: 'photo.png', content: Readable.from([png]) });
      let refused;
      try { await useCase.authenticate('nobody-knows-this-token'); } catch (error) {
        refused = { code: error.code, message: error.message, isDomainError: error instanceof attache.DomainError };
      }
      await embedded.close();
      return { url: uploaded.url, type: uploaded.type, refused };
    `);
    expect(result).toEqual({
      url: expect.stringMatching(/^https:\/\/cdn\.example\/att\/chat\/store-42\/[0-9a-f-]{36}-photo\.png$/),
      type: 'image/png',
      refused: { code: 'UNAUTHORIZED', message: 'Unauthorized', isDomainError: true },
    });
    expect(modules).toContain(new URL('dist/index.js', `file://${root}`).href);
    expect(packagesIn(modules).filter((name) => SERVICE_ONLY.test(name))).toEqual([]);
  });

  it('the same hook does see Koa and tsyringe when the service entry is imported (the check can fail)', async () => {
    const { modules } = await withModuleGraph(`await import('./dist/main.js'); return null;`);
    expect(packagesIn(modules)).toEqual(expect.arrayContaining(['koa', 'tsyringe']));
  });

  describe('its types, for a TypeScript dependent', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'attache-dependent-'));
      await mkdir(join(dir, 'node_modules'));
      await symlink(root, join(dir, 'node_modules', 'attache'));
      await writeFile(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
      await writeFile(
        join(dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: { module: 'nodenext', target: 'es2024', strict: true, noEmit: true, skipLibCheck: true, types: ['node'], typeRoots: [join(root, 'node_modules/@types')] },
          files: ['dependent.ts'],
        }),
      );
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('type-check a dependent that builds the use case both ways and catches domain errors', async () => {
      await writeFile(
        join(dir, 'dependent.ts'),
        `
import { Readable } from 'node:stream';
import {
  createUploadAttachment, UploadAttachment, InMemoryObjectStore, StaticTokenAuth, ExtensionMimeDetector,
  DomainError, UnsupportedFileType, loadConfig, type AuthPort, type ObjectStore, type UploadedAttachment,
} from 'attache';

const fromEnv = await createUploadAttachment(process.env);
const store: ObjectStore = new InMemoryObjectStore({ publicBaseUrl: 'https://cdn.example' });
const auth: AuthPort = { identify: async (token) => (token === 'x' ? { role: 'store', id: 1 } : undefined) };
const byHand = new UploadAttachment({ store, auth, mime: new ExtensionMimeDetector(), maxFileSize: loadConfig({}).maxFileSize });
const principal = await byHand.authenticate('x');
try {
  const done: UploadedAttachment = await byHand.execute({ principal, fileName: 'a.pdf', content: Readable.from(['%PDF']) });
  console.log(done.url, done.type);
} catch (error) {
  if (error instanceof UnsupportedFileType) console.log(error.code, error.detail);
  else if (error instanceof DomainError) console.log(error.code);
}
new StaticTokenAuth([{ sha256: '0'.repeat(64), role: 'admin' }]);
// With skipLibCheck an unresolved import in attache's .d.ts would turn its types into any; this
// line fails to compile only while they are real.
// @ts-expect-error fileName and content are required
await byHand.execute({ principal });
await fromEnv.close();
`,
      );
      const tsc = join(root, 'node_modules/typescript/bin/tsc');
      const checked = await run(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], { cwd: dir }).catch((error: { stdout: string }) => error);
      expect(checked.stdout).toBe('');
    });
  });
});
