/**
 * Which of /readyz's checks count as this instance's own (its failure makes the instance unready)
 * and which are shared by every instance (reported, but the instance stays ready): decided from the
 * configuration alone (src/composition/readiness-checks.ts; why: src/adapters/http/readiness-route.ts).
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { InMemoryObjectStore } from '../../src/adapters/object-store/in-memory/in-memory-object-store.ts';
import { StaticTokenAuth } from '../../src/adapters/auth/static-token-auth.ts';
import type { AuthPort } from '../../src/application/ports/auth-port.ts';
import { loadConfig } from '../../src/composition/config.ts';
import { composeAttache } from '../../src/composition/container.ts';
import { readinessChecks } from '../../src/composition/readiness-checks.ts';

/** The checks for `env`, with an in-memory store and a tokens list standing in for the real ones (their kind comes from `env`). */
async function checksFor(env: Record<string, string>, auth: AuthPort = new StaticTokenAuth([{ token: 'a-token-of-sixteen-chars', role: 'store', id: '1' }])) {
  const config = loadConfig(env);
  const { container } = await composeAttache(config, { logger: pino({ level: 'silent' }), selfUrl: 'http://localhost:8080', store: new InMemoryObjectStore({ publicBaseUrl: 'http://files.test' }), auth });
  return readinessChecks(config, container).map(({ dependency, own }) => ({ dependency, own }));
}

describe('readiness checks', () => {
  it.each([
    ['local', { STORAGE_DRIVER: 'local' }, true],
    ['memory', { STORAGE_DRIVER: 'memory' }, true],
    ['s3', { STORAGE_DRIVER: 's3', S3_BUCKET: 'shared' }, false],
    ['gcs', { STORAGE_DRIVER: 'gcs', GCS_BUCKET: 'shared' }, false],
  ])('storage with the %s driver: own %s', async (_, env, own) => {
    expect(await checksFor(env)).toEqual([{ dependency: 'storage', own }]);
  });

  it.each([
    ['a Unix socket', { CLAMD_SOCKET: '/run/clamav/clamd.ctl' }, true],
    ['loopback', { CLAMD_HOST: '127.0.0.1' }, true],
    ['another host', { CLAMD_HOST: 'clamd.internal' }, false],
  ])('a clamd on %s: own %s', async (_, env, own) => {
    expect(await checksFor({ STORAGE_DRIVER: 'memory', MALWARE_SCAN: 'clamd', ...env })).toContainEqual({ dependency: 'scanner', own });
  });

  it('checks the Valkey keeping Idempotency-Keys as shared when REDIS_URL is set (the in-process records need no check)', async () => {
    expect(await checksFor({ STORAGE_DRIVER: 'memory', REDIS_URL: 'redis://127.0.0.1:1' })).toEqual([{ dependency: 'storage', own: true }, { dependency: 'idempotency', own: false }]);
  });

  it('checks the token backend as shared, and a tokens file not at all', async () => {
    const backend: AuthPort = { identify: async () => undefined, checkReady: async () => {} };
    expect(await checksFor({ STORAGE_DRIVER: 'memory' }, backend)).toEqual([{ dependency: 'storage', own: true }, { dependency: 'auth', own: false }]);
    expect(await checksFor({ STORAGE_DRIVER: 'memory' })).toEqual([{ dependency: 'storage', own: true }]);
  });
});
