/**
 * What /readyz checks, and which of it is this instance's own (readiness-route.ts says why that
 * decides readiness). Known only here, from the configuration: the adapters cannot tell a bucket
 * every instance shares from a folder on this machine.
 */
import type { AuthPort } from '../application/ports/auth-port.ts';
import type { IdempotencyRecords } from '../application/ports/idempotency-records.ts';
import type { ObjectStore } from '../application/ports/object-store.ts';
import type { UploadAttachment } from '../application/upload-attachment.ts';
import type { Config } from './config.ts';
import { TOKENS, type ComposedAttache } from './container.ts';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** adapters/http's ReadinessCheck, which only service.ts may import (test/architecture.test.ts); service.ts checks that the two agree. */
type ReadinessCheck = { readonly dependency: 'storage' | 'auth' | 'scanner' | 'limits' | 'idempotency'; readonly own: boolean; check(): Promise<void> };

export function readinessChecks(config: Config, container: ComposedAttache['container']): ReadinessCheck[] {
  const store = container.resolve<ObjectStore>(TOKENS.objectStore);
  const auth = container.resolve<AuthPort>(TOKENS.auth);
  const useCase = container.resolve<UploadAttachment>(TOKENS.uploadAttachment);
  // local: this machine's disk; memory: this process. s3 and gcs: one bucket for every instance.
  const checks: ReadinessCheck[] = [{ dependency: 'storage', own: config.storage.driver === 'local' || config.storage.driver === 'memory', check: () => store.checkReady() }];
  // The token backend (AUTH_INTROSPECTION_URL) serves every instance; a tokens file has nothing to check.
  if (auth.checkReady) checks.push({ dependency: 'auth', own: false, check: () => auth.checkReady!() });
  const scan = config.malwareScan;
  // A clamd on a Unix socket or on loopback runs beside this instance (a sidecar); elsewhere, it is shared.
  if (scan) checks.push({ dependency: 'scanner', own: scan.socket !== undefined || LOOPBACK.has(scan.host), check: () => useCase.checkScannerReady() });
  // The limits' counters (Valkey with REDIS_URL) serve every instance. Whatever RATE_LIMIT_ON_ERROR
  // says, an instance stays ready while they are down: with `allow` it counts alone, with `reject`
  // it answers each upload its JSON 503 `Limits unavailable`, as for a bucket that is down.
  if (useCase.limitsOnError !== undefined) checks.push({ dependency: 'limits', own: false, check: () => useCase.checkLimitsReady() });
  // Idempotency-Keys kept in Valkey: shared too; while it is down, only uploads sending a key are refused (503).
  if (config.limits.redisUrl !== undefined) {
    const records = container.resolve<IdempotencyRecords>(TOKENS.idempotencyRecords);
    checks.push({ dependency: 'idempotency', own: false, check: () => records.checkReady() });
  }
  return checks;
}
