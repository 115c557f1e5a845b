/**
 * docs/configuration.md's table is the one generated from src/composition/environment.ts
 * (`npm run docs`); test/composition/environment.test.ts checks that the environment table has
 * every variable src/ reads. docs/cli.md documents the variables only the attache command reads.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { configurationTable, ENVIRONMENT_VARIABLES } from '../src/composition/config.ts';

const page = (name: string) => readFile(new URL(`../docs/${name}`, import.meta.url), 'utf8');

describe('docs/configuration.md', () => {
  it('carries the configuration table generated from the environment table (npm run docs)', async () => {
    expect(await page('configuration.md')).toContain(configurationTable());
  });
});

describe('docs/cli.md', () => {
  it('documents every variable only the attache command reads', async () => {
    const cli = await page('cli.md');
    const cliOnly = Object.entries(ENVIRONMENT_VARIABLES)
      .filter(([, v]) => v.description.includes('(The `attache` command only.)'))
      .map(([name]) => name);
    expect(cliOnly).toEqual(expect.arrayContaining(['ATTACHE_TOKEN', 'CI', 'INIT_CWD']));
    expect(cliOnly.filter((name) => !cli.includes(`\`${name}\``))).toEqual([]);
  });
});
