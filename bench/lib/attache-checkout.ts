import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { productionEnvironment, productionNodeFlags } from '../../test/support/image-runtime.ts';

/** The attache being measured: a checkout's built dist/main.js, started with its own image's Node flags and environment. */
export interface AttacheCheckout {
  readonly dir: string;
  readonly mainScript: string;
  readonly nodeFlags: string[];
  /** The image's ENV (less HOST, PORT and LOCAL_STORAGE_DIR, which the bench sets). */
  readonly environment: Record<string, string>;
  /** Which commit was measured, and when its dist/ was built (a dist/ older than the commit is stale). */
  readonly description: string;
}

const git = (dir: string, ...args: string[]) => spawnSync('git', ['-C', dir, ...args], { encoding: 'utf8' }).stdout.trim();

/**
 * `dir` defaults to this checkout (npm run bench builds it first). Another checkout must have been
 * built there (`npm run build`), so main can be measured before and after a change with the same bench.
 */
export function attacheCheckout(dir: string): AttacheCheckout {
  const root = resolve(dir);
  const mainScript = join(root, 'dist', 'main.js');
  if (!existsSync(mainScript)) throw new Error(`${mainScript} does not exist: run \`npm run build\` in ${root} first`);
  const commit = git(root, 'log', '-1', '--format=%h %s');
  const dirty = git(root, 'status', '--porcelain', '--untracked-files=no') !== '';
  const [hash, ...subject] = commit.split(' ');
  const shortSubject = subject.join(' ').slice(0, 80);
  const built = statSync(mainScript).mtime.toISOString().slice(0, 19).replace('T', ' ');
  return {
    dir: root,
    mainScript,
    nodeFlags: productionNodeFlags(root),
    environment: productionEnvironment(root),
    description: `${commit ? `${root} at ${hash}${dirty ? ' (+ uncommitted changes)' : ''} "${shortSubject}"` : `${root} (not a git checkout)`}, dist built ${built} UTC`,
  };
}
