import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { configurationTable } from '../src/composition/config.ts';

const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('carries the configuration table generated from src/config.ts (npm run docs)', () => {
    expect(readme).toContain(configurationTable());
  });

  it('gives the test command that .ci/run runs', async () => {
    const ci = await readFile(new URL('../.ci/run', import.meta.url), 'utf8');
    expect(readme).toContain('npm ci && npm test');
    expect(ci).toMatch(/^npm ci && npm test$/m);
  });
});
