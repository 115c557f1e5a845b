import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, ListMultipartUploadsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, inject } from 'vitest';
import { startRedis, type RunningRedis } from '../redis/redis-server.ts';
import { s3ClientFor, s3ServiceEnv } from './rgw-global-setup.ts';
import { startServiceProcess, type ServiceProcess } from '../service-process.ts';

/** A service process on a bucket of its own of the suite's RGW, and what tests look at it with. */
export interface ServiceOnRgw {
  /** Where the service listens (once beforeAll has run). */
  readonly url: string;
  /** The service's process (once beforeAll has run). */
  readonly process: ServiceProcess;
  readonly bucket: string;
  /** An S3 client of the bucket, to look at what is stored. */
  readonly raw: S3Client;
  /** Every key in the bucket. */
  keys(): Promise<string[]>;
  /** The keys of the bucket's unfinished multipart uploads. */
  unfinished(): Promise<string[]>;
}

/**
 * Registers, in the calling describe, the hooks that start a service process (`tokens` as stores
 * of the given ids, STORAGE_CHECK off, `env` added) on a new bucket `<bucketPrefix>-<8 hex>` of the
 * suite's RGW, with the limits' counters in a real Valkey (redis-server) when `counters` is
 * 'valkey'; and that stop them.
 */
export function serviceOnRgw(options: {
  bucketPrefix: string;
  tokens: readonly { token: string; id: string }[];
  counters?: 'in-process' | 'valkey';
  env: Record<string, string>;
}): ServiceOnRgw {
  const s3 = inject('s3');
  const bucket = `${options.bucketPrefix}-${randomUUID().slice(0, 8)}`;
  let dir: string | undefined;
  let raw: S3Client | undefined;
  let redis: RunningRedis | undefined;
  let service: ServiceProcess | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), `${options.bucketPrefix}-`));
    raw = s3ClientFor(s3);
    await raw.send(new CreateBucketCommand({ Bucket: bucket }));
    await writeFile(join(dir, 'tokens.json'), JSON.stringify({ tokens: options.tokens.map(({ token, id }) => ({ token, role: 'store', id })) }));
    if (options.counters === 'valkey') redis = await startRedis();
    service = await startServiceProcess(
      {
        AUTH_TOKENS_FILE: join(dir, 'tokens.json'),
        ...s3ServiceEnv(s3, bucket),
        STORAGE_CHECK: 'off',
        ...options.env,
        ...(redis && { REDIS_URL: redis.url, RATE_LIMIT_ON_ERROR: 'reject' }),
      },
      60_000,
    );
  }, 90_000);
  afterAll(async () => {
    service?.child.kill('SIGTERM');
    await service?.exited;
    await redis?.stop();
    raw?.destroy();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  return {
    get url() {
      return service!.url;
    },
    get process() {
      return service!;
    },
    bucket,
    get raw() {
      return raw!;
    },
    keys: async () => ((await raw!.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map((o) => o.Key!),
    unfinished: async () => ((await raw!.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? []).map((u) => u.Key!),
  };
}
