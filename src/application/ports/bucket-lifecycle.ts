import type { LifecycleRule } from '../../domain/lifecycle-rules.ts';

/** What installing lifecycle rules did, or (dry run) would do. */
export interface LifecycleOutcome {
  /** attache's rules now on the bucket (or that would be). */
  readonly rules: readonly LifecycleRule[];
  /** False when the bucket already had exactly these rules: nothing was written. */
  readonly changed: boolean;
  /** Ids of rules another tool put on the bucket, kept as they were. */
  readonly kept: readonly string[];
  /** The backend's own form of the whole configuration written (or that would be), for `--dry-run`. */
  readonly backendConfiguration: unknown;
}

/** A bucket's lifecycle configuration: the expiry the backend itself carries out. */
export interface BucketLifecycle {
  /**
   * Makes attache's rules on the bucket exactly `rules` (replacing earlier `attache-*` rules, keeping
   * every other), unless `dryRun`. Idempotent: the same rules again change nothing. Throws
   * StorageUnavailable when the backend cannot be reached or refuses.
   */
  apply(rules: readonly LifecycleRule[], options: { readonly dryRun: boolean }): Promise<LifecycleOutcome>;
}
