import type { Context } from 'koa';
import { DomainError, StorageUnavailable } from '../../domain/errors.ts';
import type { UploadMetrics } from './upload-metrics.ts';

/** What /readyz checks: one dependency, and whether it is this instance's own. */
export interface ReadinessCheck {
  readonly dependency: 'storage' | 'auth' | 'scanner' | 'limits' | 'idempotency';
  /**
   * True for what belongs to this instance alone (the local driver's disk, a clamd beside it on
   * loopback or a Unix socket): when it fails, another instance may still serve. False for what
   * every instance shares (a bucket, the token backend, a remote clamd): when it fails, it fails
   * for all of them alike.
   */
  readonly own: boolean;
  /** Resolves when the dependency answers now; throws (a DomainError saying which) when not. */
  check(): Promise<void>;
}

/**
 * GET /readyz answers "should the load balancer send uploads here rather than elsewhere?".
 * Unready (503, the first failing check's error) only when one of this instance's own
 * dependencies fails, or it is shutting down (answer-errors.ts): another instance can do better.
 * A shared dependency's failure leaves it ready (200, `unavailable` naming it): taking every
 * instance out at once would leave the balancer with no backend, answering its own error page
 * where attache answers each upload with its JSON 503 (`Storage unavailable`, ...), which
 * clients know how to read and retry (docs/operations.md#health-endpoints). The `attache_dependency_up` gauge shows both kinds.
 */
export function readinessRoute(checks: readonly ReadinessCheck[], metrics: UploadMetrics): (ctx: Context) => Promise<void> {
  return async (ctx) => {
    const outcomes = await Promise.allSettled(checks.map((c) => c.check()));
    const unavailable: string[] = [];
    let ownFailure: unknown;
    outcomes.forEach((outcome, i) => {
      const { dependency, own } = checks[i]!;
      metrics.dependencyUp(dependency, outcome.status === 'fulfilled');
      if (dependency === 'limits') metrics.limitsShared(outcome.status === 'fulfilled');
      if (outcome.status === 'fulfilled') return;
      const error = asDomainError(dependency, outcome.reason);
      // A shared store's failure is still a storage error worth alerting on; an own one is counted where it is answered.
      if (error instanceof StorageUnavailable && !own) metrics.storageError();
      if (own) ownFailure ??= error;
      else unavailable.push(dependency);
    });
    if (ownFailure !== undefined) throw ownFailure;
    ctx.body = unavailable.length === 0 ? { status: 'ready' } : { status: 'ready', unavailable };
  };
}

/** A store's check may fail with an error of its SDK: it means storage cannot be reached. */
function asDomainError(dependency: string, error: unknown): unknown {
  if (error instanceof DomainError || dependency !== 'storage') return error;
  return new StorageUnavailable('readiness check failed', { cause: error });
}
