import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { ownCpuMs } from './cpu.ts';
import type { ServerProcess } from './processes.ts';
import type { BenchRgw } from './rgw-for-bench.ts';
import { MB } from './rows.ts';
import { uploadMany, type UploadSpec } from './upload-client.ts';

/** Something that takes uploads and whose CPU can be read: attache, a baseline server, or the bench itself. */
export interface Subject {
  readonly label: string;
  /** Sends `count` uploads of `bytes`, `concurrency` at a time; rejects unless every one succeeds. Resolves with their latencies in ms. */
  send(bytes: number, count: number, concurrency: number): Promise<number[]>;
  /** CPU used so far by the process that does the work, in ms. */
  cpuMs(): number;
  /** The part of it its main thread used, for a server process (not for work inside the bench). */
  mainThreadCpuMs?(): number;
  /** Untimed, after each batch: takes back what the batch stored, for a subject measured that way. */
  tidy?(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A server reached over HTTP, every upload shaped like `spec` (file name, field order, session_id).
 * With `deleteAfterEachBatch` (attache only), `tidy` deletes every attachment of the last batch
 * through attache's DELETE /v1/chat/files/<key>, untimed, so that a store in memory reuses the
 * memory of the last batch, as a server that frees what it answered does.
 */
export function httpSubject(
  label: string,
  server: ServerProcess,
  token: string,
  spec: Omit<UploadSpec, 'bytes'>,
  options: { deleteAfterEachBatch?: boolean } = {},
): Subject {
  let stored: string[] = [];
  return {
    label,
    async send(bytes, count, concurrency) {
      const results = await uploadMany(server.url, token, { ...spec, bytes }, count, concurrency);
      if (options.deleteAfterEachBatch) stored = results.map((r) => attachmentKeyOf(r.body));
      return results.map((r) => r.ms);
    },
    cpuMs: () => server.cpuMs(),
    mainThreadCpuMs: () => server.mainThreadCpuMs(),
    ...(options.deleteAfterEachBatch && {
      async tidy() {
        for (const key of stored.splice(0)) {
          const answer = await fetch(`${server.url}/v1/chat/files/${key}`, { method: 'DELETE', headers: { Authorization: `Token ${token}` } });
          if (answer.status !== 204) throw new Error(`DELETE ${key} answered ${answer.status}: ${await answer.text()}`);
        }
      },
    }),
    stop: () => server.stop(),
  };
}

/** The key of the attachment an upload's answer names: its URL's path after /files/ (the memory and local drivers). */
function attachmentKeyOf(answer: string): string {
  const { pathname } = new URL((JSON.parse(answer) as { url: string }).url);
  if (!pathname.startsWith('/files/')) throw new Error(`not a URL attache serves itself: ${pathname}`);
  return pathname.slice('/files/'.length);
}

const BLOCK = randomBytes(MB);

/**
 * The direct baseline: lib-storage's Upload from inside the bench to the same RGW, with attache's
 * defaults (8 MiB parts, 2 in parallel). Its CPU is the bench process's own (process.cpuUsage,
 * the same utime + stime), which does nothing else while it runs.
 */
export function directLibStorageSubject(rgw: BenchRgw, client: S3Client = rgw.client, label = 'direct lib-storage Upload'): Subject {
  let sequence = 0;
  const uploadOne = async (bytes: number) => {
    async function* body() {
      for (let sent = 0; sent < bytes; sent += MB) yield BLOCK.subarray(0, Math.min(MB, bytes - sent));
    }
    const started = performance.now();
    const params = { Bucket: rgw.server.bucket, Key: `bench/direct-${sequence++}.pdf`, Body: Readable.from(body()) };
    await new Upload({ client, params, partSize: 8 * MB, queueSize: 2 }).done();
    return performance.now() - started;
  };
  return inProcessSubject(label, uploadOne);
}

/**
 * A baseline that uploads from inside the bench with `uploadOne` (resolving with its latency in ms), `concurrency`
 * at a time. Its CPU is the bench process's own, which does nothing else while it runs.
 */
export function inProcessSubject(label: string, uploadOne: (bytes: number) => Promise<number>): Subject {
  return {
    label,
    async send(bytes, count, concurrency) {
      const latencies: number[] = [];
      let next = 0;
      const worker = async () => {
        while (next < count) {
          next++;
          latencies.push(await uploadOne(bytes));
        }
      };
      await Promise.all(Array.from({ length: concurrency }, worker));
      return latencies;
    },
    cpuMs: ownCpuMs,
    stop: async () => {},
  };
}

/**
 * What a completion's checks must read, at the least: a GetObject of each file from the same RGW,
 * every byte hashed with SHA-256, from inside the bench. The files are PutObject first, uncounted:
 * `cpuMs` advances only while they are read back (the bench process does nothing else then).
 */
export function getAndHashSubject(rgw: BenchRgw, label = 'bare GetObject + SHA-256 of the same files'): Subject {
  let countedMs = 0;
  let sequence = 0;
  const Bucket = rgw.server.bucket;
  const workers = <T>(count: number, concurrency: number, one: (i: number) => Promise<T>) => {
    let next = 0;
    const results: T[] = [];
    const worker = async () => {
      while (next < count) results.push(await one(next++));
    };
    return Promise.all(Array.from({ length: concurrency }, worker)).then(() => results);
  };
  return {
    label,
    async send(bytes, count, concurrency) {
      const keys = Array.from({ length: count }, () => `bench/read-${sequence++}.pdf`);
      await workers(count, concurrency, async (i) => {
        const body = Buffer.concat([BLOCK.subarray(0, Math.min(MB, bytes))], bytes);
        await rgw.client.send(new PutObjectCommand({ Bucket, Key: keys[i]!, Body: bytes <= MB ? body : Readable.from(blocksOf(bytes)), ContentLength: bytes }));
      });
      const before = ownCpuMs();
      try {
        return await workers(count, concurrency, async (i) => {
          const started = performance.now();
          const object = await rgw.client.send(new GetObjectCommand({ Bucket, Key: keys[i]! }));
          const hash = createHash('sha256');
          for await (const chunk of object.Body as Readable) hash.update(chunk as Buffer);
          hash.digest();
          return performance.now() - started;
        });
      } finally {
        countedMs += ownCpuMs() - before;
      }
    },
    cpuMs: () => countedMs,
    stop: async () => {},
  };
}

function* blocksOf(bytes: number) {
  for (let sent = 0; sent < bytes; sent += MB) yield BLOCK.subarray(0, Math.min(MB, bytes - sent));
}
