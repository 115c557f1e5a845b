import { lifecycleRulesFor, type LifecycleDays } from '../domain/lifecycle-rules.ts';
import type { BucketLifecycle, LifecycleOutcome } from './ports/bucket-lifecycle.ts';

/**
 * `attache storage setup`: installs on the bucket the expiry attache relies on, so nothing it
 * leaves behind (a provisional upload whose folder never came, an incomplete multi-part upload)
 * lives for ever, and, with RETENTION_DAYS, attachments and their previews go after that many days.
 */
export class SetUpStorage {
  readonly #lifecycle: BucketLifecycle;
  readonly #retentionDays: number | undefined;
  readonly #days: LifecycleDays;

  /** `days`: how long staged uploads and incomplete multi-part uploads may live, in whole days (1 when not given). */
  constructor(deps: { readonly lifecycle: BucketLifecycle; readonly retentionDays: number | undefined; readonly days?: LifecycleDays }) {
    this.#lifecycle = deps.lifecycle;
    this.#retentionDays = deps.retentionDays;
    this.#days = deps.days ?? {};
  }

  /** Installs the rules (or, `dryRun`, only says what it would); idempotent. Throws StorageUnavailable. */
  execute(options: { readonly dryRun: boolean }): Promise<LifecycleOutcome> {
    return this.#lifecycle.apply(lifecycleRulesFor(this.#retentionDays, this.#days), options);
  }
}
