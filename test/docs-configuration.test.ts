/**
 * docs/configuration.md's table is the one src/config.ts generates (`npm run docs`), and it
 * lists exactly the variables the code reads: the keys of the environment schema in
 * src/config.ts and any `process.env.X` in src/. (The attache command's own ATTACHE_TOKEN and
 * CI, read from its injected environment, are documented in docs/cli.md and checked there.)
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { configurationTable, ENVIRONMENT_VARIABLES } from '../src/config.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const page = await readFile(join(root, 'docs/configuration.md'), 'utf8');
const configSource = await readFile(join(root, 'src/config.ts'), 'utf8');
const sources = await Promise.all(
  (await readdir(join(root, 'src'), { recursive: true }))
    .filter((file) => file.endsWith('.ts'))
    .map(async (file) => ({ file, text: await readFile(join(root, 'src', file), 'utf8') })),
);

/** The keys of `const environment = z.object({ ... })` in src/config.ts: the variables loadConfig reads. */
function schemaKeys(): string[] {
  const start = configSource.indexOf('const environment = z.object({');
  const end = configSource.indexOf('\n});', start);
  if (start < 0 || end < 0) throw new Error('src/config.ts no longer declares `const environment = z.object({ ... });`: update this test');
  return [...configSource.slice(start, end).matchAll(/^ {2}([A-Z][A-Z0-9_]*):/gm)].map((m) => m[1]!);
}

/** `process.env.X` and `process.env['X']` anywhere in src/. */
function processEnvReads(): string[] {
  return sources.flatMap(({ text }) => [...text.matchAll(/process\.env(?:\.([A-Z][A-Z0-9_]*)|\[['"]([A-Z][A-Z0-9_]*)['"]\])/g)].map((m) => (m[1] ?? m[2])!));
}

/** The variables named in the first column of docs/configuration.md's table. */
function tableVariables(): string[] {
  return [...page.matchAll(/^\| `([A-Z][A-Z0-9_]*)` \|/gm)].map((m) => m[1]!);
}

describe('docs/configuration.md', () => {
  it('carries the configuration table generated from src/config.ts (npm run docs)', () => {
    expect(page).toContain(configurationTable());
  });

  it('finds the variables the code reads (a schema of some size)', () => {
    expect(schemaKeys().length).toBeGreaterThan(30);
    expect(schemaKeys()).toEqual(expect.arrayContaining(['PORT', 'STORAGE_DRIVER', 'S3_BUCKET', 'GCS_BUCKET']));
  });

  it('lists every variable the code reads', () => {
    const read = [...new Set([...schemaKeys(), ...processEnvReads()])];
    const listed = new Set(tableVariables());
    expect(read.filter((name) => !listed.has(name))).toEqual([]);
  });

  it('lists no variable the code does not read', () => {
    const read = new Set([...schemaKeys(), ...processEnvReads()]);
    expect(Object.keys(ENVIRONMENT_VARIABLES).filter((name) => !read.has(name))).toEqual([]);
  });
});

describe('docs/cli.md', () => {
  it('documents every variable the attache command reads from its environment', async () => {
    const cli = await readFile(join(root, 'docs/cli.md'), 'utf8');
    const read = sources
      .filter(({ file }) => file.startsWith('adapters/cli/') || file.startsWith('cli'))
      .flatMap(({ text }) => [...text.matchAll(/\benv\.([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]!));
    expect(read).toEqual(expect.arrayContaining(['ATTACHE_TOKEN', 'CI']));
    expect([...new Set(read)].filter((name) => !cli.includes(`\`${name}`))).toEqual([]);
  });
});
