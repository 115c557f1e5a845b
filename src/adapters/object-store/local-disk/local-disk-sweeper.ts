import { readdir, stat, unlink } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import type { BucketLifecycle, LifecycleOutcome } from '../../../application/ports/bucket-lifecycle.ts';
import { StorageUnavailable } from '../../../domain/errors.ts';
import type { LifecycleRule } from '../../../domain/lifecycle-rules.ts';

const DAY_MS = 24 * 60 * 60 * 1000;
const isMissing = (error: unknown) => (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';

/**
 * The `local` driver's lifecycle: a disk has no rules of its own, so this sweeps as a bucket would.
 * `expire` removes files under the rule's prefix older than its days (by modification time, which
 * the store sets when it writes), with their sidecars; `abort-multipart` removes hidden `.partial`
 * files a crash left half-written. `apply` sweeps once (the service sweeps again every hour, see
 * startLifecycleSweeps); with `dryRun` it only lists what it would remove.
 */
export class LocalDiskSweeper implements BucketLifecycle {
  readonly #root: string;
  readonly #now: () => number;

  constructor(options: { rootDir: string; now?: () => number }) {
    this.#root = resolve(options.rootDir);
    this.#now = options.now ?? Date.now;
  }

  async apply(rules: readonly LifecycleRule[], options: { readonly dryRun: boolean }): Promise<LifecycleOutcome> {
    const removed: string[] = [];
    try {
      for (const rule of rules) {
        for (const path of await this.#due(rule)) {
          removed.push(path.slice(this.#root.length + 1).split(sep).join('/'));
          if (!options.dryRun) await unlink(path).catch((error: unknown) => (isMissing(error) ? undefined : Promise.reject(error)));
        }
      }
    } catch (error) {
      throw new StorageUnavailable(`cannot sweep ${this.#root}: ${(error as Error).message}`, { cause: error });
    }
    return { rules, changed: removed.length > 0, kept: [], backendConfiguration: { [options.dryRun ? 'wouldRemove' : 'removed']: removed.sort() } };
  }

  /** The files `rule` says must go now. */
  async #due(rule: LifecycleRule): Promise<string[]> {
    const cutoff = this.#now() - rule.days * DAY_MS;
    const due: string[] = [];
    for (const path of await this.#filesUnder(join(this.#root, ...rule.prefix.split('/').filter(Boolean)))) {
      const name = path.slice(path.lastIndexOf(sep) + 1);
      const partial = name.startsWith('.') && name.endsWith('.partial');
      const wanted = rule.action === 'abort-multipart' ? partial : !partial;
      if (!wanted) continue;
      const info = await stat(path).catch((error: unknown) => (isMissing(error) ? undefined : Promise.reject(error)));
      if (info !== undefined && info.mtimeMs < cutoff) due.push(path);
    }
    return due;
  }

  async #filesUnder(dir: string): Promise<string[]> {
    const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch((error: unknown) => (isMissing(error) ? [] : Promise.reject(error)));
    return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
  }
}
