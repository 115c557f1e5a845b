import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { developmentBanner } from '../src/composition/development-banner.ts';

const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
const packageJson = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };

/** The command on the line after the README quick start's `# <n>.` comment (and its continuation lines). */
function quickStartCommand(n: number): string {
  const match = new RegExp(`^# ${n}\\. .*\\n(?:#.*\\n)*(.+)$`, 'm').exec(readme);
  if (!match) throw new Error(`the README's quick start has no command numbered ${n}`);
  return match[1]!.trim();
}

describe('README', () => {
  it('starts with two commands: install and start, then install and run every test', () => {
    expect(quickStartCommand(1)).toBe('npm ci && npm start');
    expect(quickStartCommand(2)).toBe('npm install && npm test');
    expect(packageJson.scripts.start).toMatch(/^node .*scripts\/start-service\.js$/);
  });

  it('gives the test command that .ci/run runs, exactly', async () => {
    const ci = await readFile(new URL('../.ci/run', import.meta.url), 'utf8');
    const lines = ci.split('\n').filter((line) => line.trim() !== '' && !line.trimStart().startsWith('#'));
    expect(lines).toContain(quickStartCommand(2));
  });

  it('gives no package count, a figure every dependency update would make false', () => {
    expect(readme).not.toMatch(/\b\d+ (?:npm )?packages\b|packages \(\d+/);
  });

  it('stays an overview: at most 250 lines, the depth is in docs/', () => {
    expect(readme.split('\n').length).toBeLessThanOrEqual(250);
  });

  it('shows the curl that `npm start` prints, as src/composition/development-banner.ts prints it', () => {
    const banner = developmentBanner({
      url: 'http://127.0.0.1:8080',
      tokens: { admin: 'dev-admin-5f0c…', store: 'dev-store-3c84…' },
      sampleFile: '/home/you/attache/docs/sample-attachment.jpg',
    });
    const from = banner.findIndex((line) => line.startsWith('Try it'));
    expect(from).toBeGreaterThan(0);
    expect(readme).toContain(banner.slice(from, from + 4).join('\n'));
  });
});
