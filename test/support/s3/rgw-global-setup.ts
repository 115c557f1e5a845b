/**
 * vitest globalSetup: an S3 server for the tests that need one.
 *
 * By default it starts a private single-box Ceph RADOS Gateway (start-rgw.sh) on free ports of 127.0.0.1,
 * chosen at run time, creates the test bucket and `provide`s { endpoint, region, bucket, keys } as 's3'.
 * With S3_TEST_ENDPOINT, S3_TEST_ACCESS_KEY and S3_TEST_SECRET_KEY set (optional S3_TEST_BUCKET,
 * S3_TEST_REGION) it starts nothing and provides that server instead, e.g. a MinIO.
 * When RGW is not installed the run fails, saying how to install it: a missing server is never a skip.
 */
import { spawnSync } from 'node:child_process';
import { CreateBucketCommand, HeadBucketCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import type { TestProject } from 'vitest/node';
import { RGW_ACCESS_KEY, RGW_SECRET_KEY, startRgw, type RunningRgw } from './rgw-server.ts';
import type { S3ObjectStoreOptions } from '../../../src/adapters/object-store/s3/s3-options.ts';

export interface S3TestServer {
  readonly endpoint: string;
  readonly region: string;
  readonly bucket: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** The same server over HTTPS, TLS terminated by RGW itself (the test certificate): a run's own RGW only. */
  readonly tlsEndpoint?: string;
  /** 'rgw' when this run started its own Ceph RGW; 'external' for S3_TEST_ENDPOINT. */
  readonly kind: 'rgw' | 'external';
}

declare module 'vitest' {
  export interface ProvidedContext {
    s3: S3TestServer;
  }
}

const INSTALL_HINT =
  'Ceph RGW (the S3 server the tests run against) is not installed. Install it with ' +
  '`bash test/support/install-test-servers.sh` (npm test runs it as pretest; Debian/Ubuntu: ' +
  '`apt-get install -y --no-install-recommends ceph-mon ceph-osd radosgw`), or point the tests at another ' +
  'S3 server with S3_TEST_ENDPOINT, S3_TEST_ACCESS_KEY and S3_TEST_SECRET_KEY (optional S3_TEST_BUCKET, S3_TEST_REGION).';
const REQUIRED_COMMANDS = ['ceph-mon', 'ceph-osd', 'radosgw', 'radosgw-admin', 'monmaptool', 'ceph'];

export default async function setup({ provide }: TestProject): Promise<() => Promise<void>> {
  const { S3_TEST_ENDPOINT, S3_TEST_ACCESS_KEY, S3_TEST_SECRET_KEY } = process.env;
  if (S3_TEST_ENDPOINT || S3_TEST_ACCESS_KEY || S3_TEST_SECRET_KEY) {
    if (!S3_TEST_ENDPOINT || !S3_TEST_ACCESS_KEY || !S3_TEST_SECRET_KEY) {
      throw new Error('S3 tests: set all of S3_TEST_ENDPOINT, S3_TEST_ACCESS_KEY and S3_TEST_SECRET_KEY, or none');
    }
    const server: S3TestServer = {
      kind: 'external',
      endpoint: S3_TEST_ENDPOINT.replace(/\/+$/, ''),
      region: process.env.S3_TEST_REGION || 'us-east-1',
      bucket: process.env.S3_TEST_BUCKET || 'attache-test',
      accessKeyId: S3_TEST_ACCESS_KEY,
      secretAccessKey: S3_TEST_SECRET_KEY,
    };
    await ensureBucket(server);
    console.log(`[s3 globalSetup] using ${server.endpoint}, bucket ${server.bucket} (S3_TEST_ENDPOINT)`);
    provide('s3', server);
    return async () => {};
  }

  const missing = REQUIRED_COMMANDS.filter((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status !== 0);
  if (missing.length > 0) throw new Error(`${INSTALL_HINT} (missing: ${missing.join(', ')})`);

  const rgw = await startRgw((line) => console.log(`[s3 globalSetup] ${line}`), { tls: true });
  const server = rgwServer(rgw, 'attache-test');
  try {
    await ensureBucket(server);
  } catch (error) {
    await rgw.stop();
    throw error;
  }
  provide('s3', server);
  return rgw.stop;
}

/** The S3TestServer of a Ceph RGW started by startRgw, for `bucket` (which ensureBucket creates). */
export function rgwServer(rgw: RunningRgw, bucket: string): S3TestServer {
  return {
    kind: 'rgw',
    endpoint: rgw.endpoint,
    ...(rgw.tlsEndpoint ? { tlsEndpoint: rgw.tlsEndpoint } : {}),
    region: 'us-east-1',
    bucket,
    accessKeyId: RGW_ACCESS_KEY,
    secretAccessKey: RGW_SECRET_KEY,
  };
}

/** What attache's environment needs to use `bucket` (the run's own by default) on `server`. */
export function s3ServiceEnv(server: S3TestServer, bucket: string = server.bucket): Record<string, string> {
  return {
    STORAGE_DRIVER: 's3',
    S3_BUCKET: bucket,
    S3_REGION: server.region,
    S3_ENDPOINT: server.endpoint,
    AWS_ACCESS_KEY_ID: server.accessKeyId,
    AWS_SECRET_ACCESS_KEY: server.secretAccessKey,
  };
}

/** A plain SDK client for the run's S3 server, to look at buckets behind the adapter's back. */
export function s3ClientFor(server: S3TestServer, extra: Partial<S3ClientConfig> = {}): S3Client {
  return new S3Client({
    endpoint: server.endpoint,
    region: server.region,
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    // The SDK's default streamed checksums get 411 from RGW (see S3ObjectStore).
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...extra,
  });
}

/** S3ObjectStore's options for `server`: its bucket, endpoint and keys, public URLs; `overrides` last. */
export function s3StoreOptionsFor(server: S3TestServer, overrides: Partial<S3ObjectStoreOptions> = {}): S3ObjectStoreOptions {
  return {
    bucket: server.bucket,
    region: server.region,
    endpoint: server.endpoint,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    urlMode: 'public',
    ...overrides,
  };
}

export async function ensureBucket(server: S3TestServer): Promise<void> {
  const client = s3ClientFor(server, { maxAttempts: 5 });
  try {
    await client.send(new HeadBucketCommand({ Bucket: server.bucket }));
  } catch (error) {
    if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== 404) throw error;
    await client.send(new CreateBucketCommand({ Bucket: server.bucket }));
  } finally {
    client.destroy();
  }
}
