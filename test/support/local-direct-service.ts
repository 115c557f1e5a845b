import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startServiceWithStoreToken, type ServiceInItsFolder, type ServiceProcess } from './service-process.ts';

/** The service process localDirectUploadService started, and its folder (the store is `<dir>/store`). */
export interface LocalDirectUploadService {
  readonly service: ServiceProcess;
  readonly dir: string;
}

/**
 * Registers, in the calling describe, the hooks that start (and stop) a service process on the
 * local driver (its store under `<dir>/store`) accepting `token` as store 42, with direct uploads,
 * previews and metadata stripping on (a completion's work between its final put and its receipt is
 * then longest), and `env` added. The returned object is filled once beforeAll has run.
 */
export function localDirectUploadService(token: string, env: Record<string, string> = {}): LocalDirectUploadService {
  let started: ServiceInItsFolder | undefined;
  beforeAll(async () => {
    started = await startServiceWithStoreToken(
      token,
      (folder) => ({
        STORAGE_DRIVER: 'local',
        LOCAL_STORAGE_DIR: join(folder, 'store'),
        DIRECT_UPLOADS: 'on',
        DIRECT_UPLOAD_SECRET: 's'.repeat(40),
        PREVIEWS: 'on',
        STRIP_METADATA: 'on',
        ...env,
      }),
      30_000,
    );
  }, 60_000);
  afterAll(() => started?.close());
  return {
    get service() {
      return started!.service;
    },
    get dir() {
      return started!.dir;
    },
  };
}
