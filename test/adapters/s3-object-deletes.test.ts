/**
 * S3ObjectStore's deletes under load, through a recording proxy to Ceph RGW: those asked for while
 * one is under way go together in one DeleteObjects, each caller's promise settling for its own key;
 * a lone delete is one DeleteObject as before; a server that refuses DeleteObjects still gets every
 * key deleted, one request each (and, when it does not implement it, never asked again).
 */
import { Readable } from 'node:stream';
import { ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { S3ObjectStore } from '../../src/adapters/object-store/s3/s3-object-store.ts';
import type { ObjectKey } from '../../src/domain/object-key.ts';
import { startS3Proxy } from '../support/s3/recording-s3-proxy.ts';
import { s3ClientFor, s3StoreOptionsFor } from '../support/s3/rgw-global-setup.ts';

describe('S3ObjectStore deletes, several to a request under load', () => {
  const s3 = inject('s3');
  let raw: S3Client;
  const stores: S3ObjectStore[] = [];
  const proxies: { close(): Promise<void> }[] = [];
  const prefix = `deletes-${Date.now()}`;

  beforeAll(() => {
    raw = s3ClientFor(s3);
  });
  afterAll(async () => {
    stores.forEach((store) => store.close());
    await Promise.all(proxies.map((proxy) => proxy.close()));
    raw.destroy();
  });

  async function storeBehind(options: Parameters<typeof startS3Proxy>[1] = {}) {
    const proxy = await startS3Proxy(s3.endpoint, options);
    proxies.push(proxy);
    const store = new S3ObjectStore(s3StoreOptionsFor(s3, { endpoint: proxy.endpoint }));
    stores.push(store);
    return { proxy, store };
  }
  async function putKeys(name: string, count: number): Promise<ObjectKey[]> {
    const keys = Array.from({ length: count }, (_, i) => `${prefix}/${name}/${i}` as ObjectKey);
    await Promise.all(keys.map((Key) => raw.send(new PutObjectCommand({ Bucket: s3.bucket, Key, Body: Readable.from([Buffer.from(Key)]), ContentLength: Buffer.byteLength(Key) }))));
    return keys;
  }
  const left = async (name: string) => (await raw.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: `${prefix}/${name}/` }))).KeyCount ?? 0;
  const deletesIn = (requests: string[]) => ({ single: requests.filter((r) => r === 'DELETE').length, batches: requests.filter((r) => r === 'POST ?delete').length });

  it('a lone delete is one DeleteObject', async () => {
    const { proxy, store } = await storeBehind();
    const [key] = await putKeys('lone', 1);
    await store.delete(key!);
    expect(deletesIn(proxy.requests())).toEqual({ single: 1, batches: 0 });
    expect(await left('lone')).toBe(0);
  });

  it('40 deletes at once: the first alone, the rest in one DeleteObjects; a missing key and a key asked for twice settle too', async () => {
    const { proxy, store } = await storeBehind();
    const keys = await putKeys('many', 40);
    await Promise.all([...keys, `${prefix}/many/never-stored` as ObjectKey, keys[7]!].map((key) => store.delete(key)));
    expect(deletesIn(proxy.requests())).toEqual({ single: 1, batches: 1 });
    expect(await left('many')).toBe(0);
  });

  it('a delete under way that does not end holds the others back no longer than a moment: they go in a request of their own', async () => {
    const { proxy, store } = await storeBehind();
    const [stuck, ...others] = await putKeys('stuck', 4);
    // The first delete is answered only once the others are done: they cannot be waiting for it.
    let releaseStuck!: () => void;
    const stuckAnswered = new Promise<void>((resolve) => (releaseStuck = resolve));
    proxy.holdBack((request) => request.method === 'DELETE' && request.url!.endsWith(`/${stuck}`), stuckAnswered);
    const deletingStuck = store.delete(stuck!);
    await Promise.all(others.map((key) => store.delete(key)));
    releaseStuck();
    await deletingStuck;
    expect(deletesIn(proxy.requests())).toEqual({ single: 1, batches: 1 });
    expect(await left('stuck')).toBe(0);
  });

  it('a DeleteObjects refused (403): its keys are deleted one by one, and the next batch is tried again', async () => {
    const { proxy, store } = await storeBehind({ refuse: (request) => request.method === 'POST' && request.url!.includes('delete') });
    for (const round of ['refused-1', 'refused-2']) {
      const keys = await putKeys(round, 5);
      await Promise.all(keys.map((key) => store.delete(key)));
      expect(await left(round)).toBe(0);
    }
    expect(deletesIn(proxy.requests())).toEqual({ single: 10, batches: 2 });
  });

  it('a server without DeleteObjects (501 NotImplemented): every key deleted one by one, and never a batch again', async () => {
    const { proxy, store } = await storeBehind({
      refuse: (request) => request.method === 'POST' && request.url!.includes('delete'),
      refusal: { status: 501, code: 'NotImplemented' },
    });
    for (const round of ['unimplemented-1', 'unimplemented-2']) {
      const keys = await putKeys(round, 5);
      await Promise.all(keys.map((key) => store.delete(key)));
      expect(await left(round)).toBe(0);
    }
    expect(deletesIn(proxy.requests())).toEqual({ single: 10, batches: 1 });
  });
});
