import { DeleteObjectsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
// The test suite's own launcher: the same RGW recipe, on free ports, torn down after.
import { startRgw } from '../../test/support/s3/rgw-server.ts';
import { ensureBucket, rgwServer, s3ClientFor, type S3TestServer } from '../../test/support/s3/rgw-global-setup.ts';
import { processGroupCpuMs, processGroupOf } from './cpu.ts';

/** A Ceph RGW started for the run, with the bench's bucket. */
export interface BenchRgw {
  readonly server: S3TestServer;
  /** RGW's own HTTPS endpoint (beast terminating TLS with the test certificate, which NODE_EXTRA_CA_CERTS must trust). */
  readonly tlsEndpoint: string;
  /** A plain SDK client, for the direct lib-storage baseline and for emptying the bucket. */
  readonly client: S3Client;
  /** attache's environment for this RGW (STORAGE_DRIVER=s3 with its defaults: 8 MiB parts, 2 in parallel). */
  readonly attacheEnv: Record<string, string>;
  /** The multer-s3 recipe's environment for this RGW. */
  readonly recipeEnv: Record<string, string>;
  /**
   * Deletes every object and frees their data at once. Every S3 upload starts from here: RGW's
   * in-memory OSD slows as it fills, which would favour whichever side is measured first.
   */
  emptyBucket(): Promise<void>;
  /** CPU used so far by the gateway and the cluster behind it (mon, OSD, radosgw), in ms. */
  cpuMs(): number;
  stop(): Promise<void>;
}

export async function startBenchRgw(log: (line: string) => void): Promise<BenchRgw> {
  const rgw = await startRgw(log, { tls: true });
  const server = rgwServer(rgw, 'attache-bench');
  try {
    await ensureBucket(server);
  } catch (error) {
    await rgw.stop();
    throw error;
  }
  const client = s3ClientFor(server);
  // start-rgw.sh runs in a process group of its own, which the daemons it starts inherit.
  const cephGroup = processGroupOf(rgw.gatewayPid);
  return {
    server,
    tlsEndpoint: rgw.tlsEndpoint!,
    client,
    attacheEnv: {
      STORAGE_DRIVER: 's3',
      S3_BUCKET: server.bucket,
      S3_ENDPOINT: server.endpoint,
      S3_REGION: server.region,
      AWS_ACCESS_KEY_ID: server.accessKeyId,
      AWS_SECRET_ACCESS_KEY: server.secretAccessKey,
      // The bench's bucket is private and its URLs are never fetched: the start-up check of the URL
      // mode would refuse it, and its probes would sit in the measured start-up.
      STORAGE_CHECK: 'off',
    },
    recipeEnv: {
      S3_BUCKET: server.bucket,
      S3_ENDPOINT: server.endpoint,
      S3_REGION: server.region,
      S3_ACCESS_KEY_ID: server.accessKeyId,
      S3_SECRET_ACCESS_KEY: server.secretAccessKey,
    },
    async emptyBucket() {
      for (;;) {
        const listed = await client.send(new ListObjectsV2Command({ Bucket: server.bucket }));
        const keys = (listed.Contents ?? []).map((o) => ({ Key: o.Key! }));
        if (keys.length === 0) break;
        await client.send(new DeleteObjectsCommand({ Bucket: server.bucket, Delete: { Objects: keys, Quiet: true } }));
      }
      // Deleted data stays in the OSD until RGW's garbage collector frees it, two hours later.
      rgw.collectGarbage();
    },
    cpuMs: () => processGroupCpuMs(cephGroup),
    async stop() {
      client.destroy();
      await rgw.stop();
    },
  };
}
