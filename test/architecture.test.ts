/**
 * The hexagon's import rules, checked on the source: the domain and the use case import no
 * framework, SDK or container; tsyringe stays in the service's composition root; Koa and
 * busboy stay in the HTTP adapter; the library and CLI entries never reach the HTTP service.
 * (test/library/library-entry.test.ts checks the built library's real module graph too.)
 */
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = fileURLToPath(new URL('../src', import.meta.url));
const IMPORT = /(?:^|\s)(?:import|export)\s[^'";]*?from\s+['"]([^'"]+)['"]|(?:^|\s)import\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Every source file with what it imports: packages by name, local files as paths under src/. */
const sources = await (async () => {
  const files = (await readdir(src, { recursive: true })).filter((f) => f.endsWith('.ts'));
  return Promise.all(
    files.map(async (file) => {
      const text = await readFile(join(src, file), 'utf8');
      const imports = [...text.matchAll(IMPORT)].map((m) => {
        const specifier = (m[1] ?? m[2] ?? m[3])!;
        return specifier.startsWith('.') ? relative(src, resolve(dirname(join(src, file)), specifier)) : specifier;
      });
      return { file, imports };
    }),
  );
})();

const packageOf = (specifier: string) => (specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!);
const isLocal = (specifier: string) => specifier.endsWith('.ts');

function importersOf(test: (specifier: string) => boolean): string[] {
  return sources.filter((s) => s.imports.some(test)).map((s) => s.file).sort();
}

describe('import rules', () => {
  it('finds the sources', () => {
    expect(sources.map((s) => s.file)).toEqual(expect.arrayContaining(['main.ts', 'index.ts', 'domain/errors.ts', 'application/upload-attachment.ts']));
  });

  it('domain imports only the domain; shared only the domain, itself and node: built-ins; application those and itself', () => {
    const only = (file: string, imports: string[], allowed: (i: string) => boolean) =>
      expect({ file, imports: imports.filter((i) => !allowed(i)) }).toEqual({ file, imports: [] });
    for (const { file, imports } of sources) {
      if (file.startsWith('domain/')) only(file, imports, (i) => i.startsWith('domain/'));
      if (file.startsWith('shared/')) only(file, imports, (i) => i.startsWith('domain/') || i.startsWith('shared/') || i.startsWith('node:'));
      if (file.startsWith('application/')) {
        only(file, imports, (i) => i.startsWith('domain/') || i.startsWith('shared/') || i.startsWith('application/') || i.startsWith('node:'));
      }
    }
  });

  it('only the container imports tsyringe and reflect-metadata', () => {
    expect(importersOf((i) => ['tsyringe', 'reflect-metadata'].includes(packageOf(i)))).toEqual(['composition/container.ts']);
  });

  it('pino and prom-client stay in the adapters and the composition', () => {
    const importers = importersOf((i) => ['pino', 'pino-pretty', 'prom-client'].includes(packageOf(i)));
    expect(importers.filter((f) => !(f.startsWith('adapters/') || f.startsWith('composition/')))).toEqual([]);
  });

  it('adapters import neither the composition nor the entry points', () => {
    const upward = sources.filter((s) => s.file.startsWith('adapters/')).filter((s) => s.imports.some((i) => i.startsWith('composition/') || ['main.ts', 'cli.ts', 'index.ts'].includes(i)));
    expect(upward.map((s) => s.file)).toEqual([]);
  });

  it('only the HTTP adapter imports koa, busboy and multer', () => {
    const importers = importersOf((i) => /^(koa|@koa\/.+|busboy|multer)$/.test(packageOf(i)));
    expect(importers.filter((f) => !f.startsWith('adapters/http/'))).toEqual([]);
  });

  it('only the service imports the HTTP adapter, and nothing imports the entry points', () => {
    expect(importersOf((i) => isLocal(i) && i.startsWith('adapters/http/')).filter((f) => !f.startsWith('adapters/http/'))).toEqual(['composition/service.ts']);
    expect(importersOf((i) => ['main.ts', 'cli.ts', 'index.ts'].includes(i))).toEqual([]);
  });

  it('the entry points are thin: main.ts and cli.ts hand over to the composition', () => {
    for (const entry of ['main.ts', 'cli.ts']) {
      const { imports } = sources.find((s) => s.file === entry)!;
      expect({ entry, imports: imports.filter((i) => !i.startsWith('composition/')) }).toEqual({ entry, imports: [] });
    }
  });
});
