import { pino } from 'pino';
import { StaticTokenAuth } from '../../src/adapters/auth/static-token-auth.ts';
import { loadConfig } from '../../src/composition/config.ts';
import type { ResumableUpload } from '../../src/application/resumable/resumable-upload.ts';
import { TOKENS } from '../../src/composition/container.ts';
import { startAttache, type RunningAttache } from '../../src/composition/service.ts';
import { freePort } from './free-port.ts';
import { type StoreDriverUnderTest, type StoreUnderTest } from './stores-under-test.ts';

export const TEST_TOKENS = {
  admin: 'test-admin-token-0000000001',
  adminWithoutId: 'test-admin-token-no-id-0002',
  store: 'test-store-token-0000000042',
  storeWithoutId: 'test-store-token-no-id-0004',
  customer: 'test-customer-token-00000005',
} as const;

/** An AuthPort that knows TEST_TOKENS: admin 7, store 42, an admin and a store without id, a customer. */
export function testTokenAuth(): StaticTokenAuth {
  return new StaticTokenAuth([
    { token: TEST_TOKENS.admin, role: 'admin', id: '7' },
    { token: TEST_TOKENS.adminWithoutId, role: 'admin' },
    { token: TEST_TOKENS.store, role: 'store', id: 42 },
    { token: TEST_TOKENS.storeWithoutId, role: 'store' },
    { token: TEST_TOKENS.customer, role: 'customer', id: '5' },
  ]);
}

export interface AttacheUnderTest {
  readonly url: string;
  readonly uploadUrl: string;
  readonly running: RunningAttache;
  readonly backend: StoreUnderTest;
  /** Keys in the store (files under a local store's root, temporary ones included). */
  storedKeys(): Promise<string[]>;
  /**
   * Files received but never given their key (still under the provisional `incoming/`) or
   * half-written (a local store's `.partial` temporaries): empty when nothing was left behind.
   */
  waitingFiles(): Promise<string[]>;
  close(): Promise<void>;
}

/** attache on a free loopback port, with known tokens and a fresh store from `driver`. */
export async function startAttacheUnderTest(
  driver: StoreDriverUnderTest,
  env: Record<string, string> = {},
): Promise<AttacheUnderTest> {
  const port = await freePort();
  const config = loadConfig({ PORT: String(port), HOST: '127.0.0.1', STORAGE_DRIVER: 'memory', ...env });
  const auth = testTokenAuth();
  // Stores that attache serves itself must hand out URLs of this instance's /files route; the others'
  // URLs are their backend's, and attache serves no files, as in production.
  const backend = await driver.create(`http://127.0.0.1:${port}/files`);
  const running = await startAttache(config, {
    logger: pino({ level: 'silent' }),
    store: backend.store,
    auth,
    serveFiles: driver.servedByAttache,
  });
  return {
    url: running.url,
    uploadUrl: `${running.url}/v1/chat/upload/`,
    running,
    backend,
    // What completed resumable uploads staged is removed after their answers: listed once it is.
    storedKeys: async () => (await running.container.resolve<ResumableUpload>(TOKENS.resumableUpload).settled(), backend.listKeys()),
    waitingFiles: async () => (await backend.listKeys()).filter((key) => key.startsWith('incoming/') || /\.partial\b/.test(key)),
    async close() {
      await running.close();
      await backend.close();
    },
  };
}
