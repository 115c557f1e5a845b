import type { LifecycleRule } from '../domain/lifecycle-rules.ts';
import type { BucketLifecycle, LifecycleOutcome } from './ports/bucket-lifecycle.ts';
import type { ObjectStore } from './ports/object-store.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

/** What a sweep did, as `backendConfiguration`: objects removed per rule id, and the policy attache could not install. */
export interface SweptRules {
  /** Objects removed now, per rule id (none with `dryRun`: the store cannot list without removing). */
  readonly swept: Readonly<Record<string, number>>;
  /** The backend's own form of the rules, for an operator to install where attache cannot (see the constructor). */
  readonly policy: unknown;
}

/**
 * Lifecycle rules carried out by attache itself, over the ObjectStore port, for a backend whose own
 * rules attache cannot install with the store's credentials (Azure: lifecycle management policies are an
 * Azure Resource Manager setting of the account, not a Blob service call, and Azurite has none). `expire`
 * removes the objects under the rule's prefix last written more than its days ago (`removeStale`);
 * `abort-multipart` removes what unfinished writes left (`removeUnfinished`). The service applies it every
 * hour, as for the local driver; `attache storage setup` once, and prints `policy` for the operator to
 * install, so that the backend expires them by itself too.
 */
export class SweptLifecycle implements BucketLifecycle {
  readonly #store: ObjectStore;
  readonly #policyFor: (rules: readonly LifecycleRule[]) => unknown;
  readonly #now: () => number;

  constructor(deps: { readonly store: ObjectStore; readonly policyFor: (rules: readonly LifecycleRule[]) => unknown; readonly now?: () => number }) {
    this.#store = deps.store;
    this.#policyFor = deps.policyFor;
    this.#now = deps.now ?? Date.now;
  }

  /** Sweeps once by `rules` (with `dryRun`, removes nothing); throws StorageUnavailable as the store does. */
  async apply(rules: readonly LifecycleRule[], options: { readonly dryRun: boolean }): Promise<LifecycleOutcome> {
    const swept: Record<string, number> = {};
    if (!options.dryRun) {
      for (const rule of rules) {
        const olderThan = new Date(this.#now() - rule.days * DAY_MS);
        swept[rule.id] = rule.action === 'expire' ? await this.#store.removeStale(rule.prefix, olderThan) : await this.#store.removeUnfinished(rule.prefix, olderThan);
      }
    }
    const removed = Object.values(swept).reduce((sum, count) => sum + count, 0);
    const configuration: SweptRules = { swept, policy: this.#policyFor(rules) };
    return { rules, changed: removed > 0, kept: [], backendConfiguration: configuration };
  }
}
