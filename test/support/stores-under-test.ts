import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { ObjectStore } from '../../src/application/ports/object-store.ts';
import { InMemoryObjectStore } from '../../src/adapters/object-store/in-memory/in-memory-object-store.ts';
import { LocalDiskObjectStore } from '../../src/adapters/object-store/local-disk/local-disk-object-store.ts';
import { azureDriver } from './azure/azure-store-driver.ts';
import { gcsDriver } from './gcs/gcs-store-driver.ts';
import { s3Driver } from './s3/s3-store-driver.ts';

/** A store on a real backend, fresh for one test file, plus a way to see everything it holds. */
export interface StoreUnderTest {
  readonly store: ObjectStore;
  /** Every key in the store now (so tests can say "nothing was stored"). */
  listKeys(): Promise<string[]>;
  /**
   * The Content-Disposition stored with the object at `url`, for a backend that serves another one than it
   * stores (the GCS emulator: the README, GCS section). Absent where downloads carry the stored header.
   */
  storedContentDisposition?(url: string): Promise<string | undefined>;
  close(): Promise<void>;
}

export interface StoreDriverUnderTest {
  readonly driver: string;
  /**
   * True when the store's URLs point at attache's own /files route (local, memory): attache then serves the
   * files. False when they point at the backend itself, and downloads never touch attache.
   */
  readonly servedByAttache: boolean;
  /** `attacheFilesUrl`: where attache's /files route is, for the stores it serves; the others ignore it. */
  create(attacheFilesUrl: string): Promise<StoreUnderTest>;
}

export async function filesUnder(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name)));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

export const memoryDriver: StoreDriverUnderTest = {
  driver: 'memory',
  servedByAttache: true,
  async create(publicBaseUrl) {
    const store = new InMemoryObjectStore({ publicBaseUrl });
    return { store, listKeys: async () => store.keys(), close: async () => {} };
  },
};

export const localDriver: StoreDriverUnderTest = {
  driver: 'local',
  servedByAttache: true,
  async create(publicBaseUrl) {
    const dir = await mkdtemp(join(tmpdir(), 'attache-http-'));
    return {
      store: new LocalDiskObjectStore({ rootDir: dir, publicBaseUrl }),
      // Temp files and sidecars count too: "nothing stored" means nothing at all.
      listKeys: () => filesUnder(dir),
      close: () => rm(dir, { recursive: true, force: true }),
    };
  },
};

/** The drivers whose stores the HTTP contract runs against, end to end, downloads included. */
export const httpStoreDrivers: StoreDriverUnderTest[] = [memoryDriver, localDriver, s3Driver, gcsDriver, azureDriver];
