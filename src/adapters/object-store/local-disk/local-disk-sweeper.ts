import { resolve } from 'node:path';
import type { BucketLifecycle, LifecycleOutcome } from '../../../application/ports/bucket-lifecycle.ts';
import { StorageUnavailable } from '../../../domain/errors.ts';
import type { LifecycleRule } from '../../../domain/lifecycle-rules.ts';
import { filesUnder, isTempFile, unlinkIfThere, type FileUnderRoot } from './local-disk-sweep.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The `local` driver's lifecycle: a disk has no rules of its own, so this sweeps as a bucket would.
 * `expire` removes files under the rule's prefix older than its days (by modification time, which
 * the store sets when it writes), with their sidecars; `abort-multipart` removes hidden `.partial`
 * files a crash left half-written. `apply` sweeps once (the service sweeps again every hour, see
 * startLifecycleSweeps); with `dryRun` it only lists what it would remove. It walks the folder as
 * the store's own sweeps do (local-disk-sweep.ts), but files one by one, sidecars included, so that
 * it can list each path it removes.
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
        for (const file of await this.#due(rule)) {
          removed.push(file.key);
          if (!options.dryRun) await unlinkIfThere(file.path);
        }
      }
    } catch (error) {
      throw new StorageUnavailable(`cannot sweep ${this.#root}: ${(error as Error).message}`, { cause: error });
    }
    return { rules, changed: removed.length > 0, kept: [], backendConfiguration: { [options.dryRun ? 'wouldRemove' : 'removed']: removed.sort() } };
  }

  /** The files `rule` says must go now: temp files for `abort-multipart`, every other file for `expire`. */
  async #due(rule: LifecycleRule): Promise<FileUnderRoot[]> {
    const cutoff = this.#now() - rule.days * DAY_MS;
    const wanted = rule.action === 'abort-multipart' ? isTempFile : (name: string) => !isTempFile(name);
    const due: FileUnderRoot[] = [];
    for await (const file of filesUnder(this.#root, rule.prefix, wanted)) if (file.modifiedAt < cutoff) due.push(file);
    return due;
  }
}
