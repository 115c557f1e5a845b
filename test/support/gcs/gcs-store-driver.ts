import { randomUUID } from 'node:crypto';
import { Storage } from '@google-cloud/storage';
import { inject } from 'vitest';
import { GcsObjectStore } from '../../../src/adapters/object-store/gcs/gcs-object-store.ts';
import type { StoreDriverUnderTest } from '../stores-under-test.ts';

const PROJECT_ID = process.env.GCS_TEST_PROJECT_ID || 'demo-test';

/**
 * GcsObjectStore on the run's GCS server (see gcs-global-setup.ts), each store in a bucket of its own so that
 * listKeys sees exactly what that store holds. Its URLs are the server's own (`<endpoint>/<bucket>/<key>`),
 * so downloads go to the GCS server, not through attache. (A resumable session that was never finished is
 * not an object and cannot be listed: GCS drops it after a week.)
 */
export const gcsDriver: StoreDriverUnderTest = {
  driver: 'gcs',
  servedByAttache: false,
  async create() {
    const server = inject('gcsTestServer');
    if (server.unusable) throw new Error(server.unusable);
    const storage = new Storage({ apiEndpoint: server.endpoint, projectId: PROJECT_ID, retryOptions: { autoRetry: false } });
    const [bucket] = await storage.createBucket(`attache-http-${randomUUID().slice(0, 13)}`);
    const store = new GcsObjectStore({
      bucket: bucket.name,
      projectId: PROJECT_ID,
      apiEndpoint: server.endpoint,
      urlMode: 'public',
      urlTtlSeconds: 600,
    });
    const names = async () => (await bucket.getFiles())[0].map((f) => f.name).sort();
    return {
      store,
      listKeys: names,
      async storedContentDisposition(url) {
        const path = new URL(url).pathname;
        const prefix = `/${bucket.name}/`;
        if (!path.startsWith(prefix)) throw new Error(`${url} is not in bucket ${bucket.name}`);
        const key = path.slice(prefix.length).split('/').map(decodeURIComponent).join('/');
        const [metadata] = await bucket.file(key).getMetadata();
        return metadata.contentDisposition;
      },
      async close() {
        // A few at a time: hundreds of deletes at once made a busy emulator hang up on some (a failed run).
        const files = (await bucket.getFiles())[0];
        for (let i = 0; i < files.length; i += 8) await Promise.all(files.slice(i, i + 8).map((f) => f.delete({ ignoreNotFound: true })));
      },
    };
  },
};
