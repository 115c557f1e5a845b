/**
 * A process that stores on local disk or in memory loads no object-store SDK: the AWS SDK's modules
 * were half of a memory-driver process's heap when the resumable pieces imported the S3 ones for
 * every driver, and V8 marks that heap at every mark-compact (docs/performance.md, row 1 re-read).
 * Module loading is per process, so each configuration is composed in a child process of its own.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const container = new URL('../../src/composition/container.ts', import.meta.url).href;
const config = new URL('../../src/composition/config.ts', import.meta.url).href;

/** The module URLs a child process loaded to compose attache with `env` and resolve its resumable uploads. */
function modulesLoadedFor(env: Record<string, string>): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'sdk-loading-'));
  const tokens = join(dir, 'tokens.json');
  writeFileSync(tokens, JSON.stringify({ tokens: [{ token: 'sdk-loading-token-0123456789', role: 'store', id: '1' }] }));
  const script = join(dir, 'compose.mjs');
  writeFileSync(
    script,
    `import { registerHooks } from 'node:module';
const loaded = [];
registerHooks({ load(url, context, next) { loaded.push(url); return next(url, context); } });
const { loadConfig } = await import(${JSON.stringify(config)});
const { composeAttache, TOKENS } = await import(${JSON.stringify(container)});
const quiet = { info() {}, warn() {}, error() {}, debug() {}, trace() {}, fatal() {}, child() { return quiet; } };
const composed = await composeAttache(loadConfig(${JSON.stringify({ AUTH_TOKENS_FILE: tokens, LOCAL_STORAGE_DIR: join(dir, 'uploads'), ...env })}), { logger: quiet, selfUrl: 'http://127.0.0.1:1' });
composed.container.resolve(TOKENS.resumableUpload);
console.log(JSON.stringify(loaded));
process.exit(0);
`,
  );
  const child = spawnSync(process.execPath, [script], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
  if (child.status !== 0) throw new Error(`composing failed (${child.status}): ${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').at(-1)!) as string[];
}

const sdkModules = (urls: string[]) => urls.filter((url) => /node_modules\/(@aws-sdk|@google-cloud|@azure)\//.test(url));

describe('object-store SDKs are loaded only for their driver', () => {
  it.each(['memory', 'local'])('a %s-driver process composes without any of them', (driver) => {
    expect(sdkModules(modulesLoadedFor({ STORAGE_DRIVER: driver }))).toEqual([]);
  });

  it('an s3-driver process loads the AWS SDK (the check above sees it when it is there)', () => {
    const loaded = sdkModules(modulesLoadedFor({ STORAGE_DRIVER: 's3', S3_BUCKET: 'b', S3_REGION: 'us-east-1', S3_ENDPOINT: 'http://127.0.0.1:1' }));
    expect(loaded.some((url) => url.includes('/@aws-sdk/'))).toBe(true);
  });
});
