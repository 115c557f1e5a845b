import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const src = new URL('../src/', import.meta.url).pathname;

/** Every package (not relative, not node:) each file under src/ imports, types included. */
async function packagesImported(): Promise<Map<string, Set<string>>> {
  const files = (await readdir(src, { recursive: true })).filter((f) => f.endsWith('.ts'));
  const result = new Map<string, Set<string>>();
  for (const file of files) {
    const source = await readFile(join(src, file), 'utf8');
    const specifiers = [...source.matchAll(/(?:^import [^'"]*?(?:from )?|import\()'([^'.][^']*)'/gm)].map((m) => m[1]!);
    result.set(file, new Set(specifiers.filter((s) => !s.startsWith('node:'))));
  }
  return result;
}


describe('architecture', () => {
  it('domain and application import no framework, SDK, logger or metrics library', async () => {
    const offenders = [...(await packagesImported())].filter(([file, pkgs]) => /^(domain|application)\//.test(file) && pkgs.size > 0);
    expect(offenders.map(([file, pkgs]) => `${file}: ${[...pkgs].join(', ')}`)).toEqual([]);
  });

  it('only main.ts imports tsyringe; pino and prom-client stay in adapters and main.ts', async () => {
    for (const [file, pkgs] of await packagesImported()) {
      if (pkgs.has('tsyringe') || pkgs.has('reflect-metadata')) expect(file).toBe('main.ts');
      if (pkgs.has('pino') || pkgs.has('prom-client') || pkgs.has('pino-pretty')) expect(file).toMatch(/^(adapters\/|main\.ts$)/);
    }
  });
});
