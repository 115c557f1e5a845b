/**
 * Resumable uploads on every store: tus-js-client sends a file in pieces (each a part object under
 * staged/, joined into the attachment within the store at the end: ObjectStore.concatenate). With
 * the real clamd scanning, every part is read once at the end; EICAR is refused with 422, a .pdf
 * that is a JPEG at its first bytes; nothing of a refused upload remains. Without scanning, on one
 * instance, the end reads only the first bytes (the SHA-256 computed as the pieces were stored).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startAttacheUnderTest, TEST_TOKENS, type AttacheUnderTest } from '../support/attache-under-test.ts';
import { EICAR } from '../support/fake-malware-scanner.ts';
import { fileNamed, jpegHead } from '../support/file-heads.ts';
import { sha256 } from '../support/streams.ts';
import { httpStoreDrivers } from '../support/stores-under-test.ts';
import { tusErrorAnswer, tusUpload } from '../support/tus-client.ts';

/** MALWARE_SCAN=clamd against the clamd the test setup started. */
function scanEnv(): Record<string, string> {
  const clamd = inject('clamdTestServer');
  return { MALWARE_SCAN: 'clamd', CLAMD_HOST: clamd.host, CLAMD_PORT: String(clamd.port), MAX_FILE_SIZE: String(20 * 1024 * 1024) };
}

describe.each(httpStoreDrivers)('resumable uploads with the $driver store and clamd', (driver) => {
  let attache: AttacheUnderTest;
  let endpoint: string;
  /** Parts, records, receipts: everything a resumable upload stages. */
  const staged = async () => (await attache.storedKeys()).filter((key) => key.includes('staged/'));

  beforeAll(async () => {
    attache = await startAttacheUnderTest(driver, scanEnv());
    endpoint = `${attache.url}/v1/chat/upload/resumable/`;
  });
  afterAll(async () => {
    await attache?.close();
  });

  it('a 3 MB file in 1 MB pieces: stored whole, its parts gone', async () => {
    const bytes = Buffer.concat([fileNamed('big.pdf', 1000), randomBytes(3 * 1024 * 1024)]);
    const done = await tusUpload(endpoint, bytes, { token: TEST_TOKENS.store, fileName: 'big.pdf', sessionId: '9', chunkSize: 1024 * 1024 });
    expect(done.headers('Attache-Sha256')).toBe(sha256(bytes));
    const download = await fetch(done.headers('Attache-Url')!);
    expect(Buffer.from(await download.arrayBuffer()).equals(bytes)).toBe(true);
    expect((await staged()).filter((key) => /\.tus-\d+$/.test(key))).toEqual([]);
  });

  it('EICAR is refused at the end with the upload endpoint’s 422; nothing of it remains', async () => {
    const before = await attache.storedKeys();
    const bytes = Buffer.concat([fileNamed('report.pdf', 300_000), Buffer.from(EICAR)]);
    const error = await tusUpload(endpoint, bytes, { token: TEST_TOKENS.store, fileName: 'report.pdf', chunkSize: 100_000 }).catch((e: unknown) => e);
    expect(tusErrorAnswer(error)).toMatchObject({ status: 422, body: { error: 'File rejected' } });
    expect(await attache.storedKeys()).toEqual(before);
  });

  it('a .pdf that is a JPEG is refused at its first bytes; nothing of it remains', async () => {
    const before = await attache.storedKeys();
    const bytes = Buffer.concat([jpegHead(), randomBytes(200_000)]);
    const error = await tusUpload(endpoint, bytes, { token: TEST_TOKENS.store, fileName: 'scan.pdf', chunkSize: 64 * 1024 }).catch((e: unknown) => e);
    expect(tusErrorAnswer(error)).toMatchObject({ status: 400, body: { error: 'Unsupported file type' } });
    expect(await attache.storedKeys()).toEqual(before);
  });
});

describe.each(httpStoreDrivers)('resumable uploads with the $driver store, no scanning', (driver) => {
  let attache: AttacheUnderTest;

  beforeAll(async () => {
    attache = await startAttacheUnderTest(driver, { MAX_FILE_SIZE: String(20 * 1024 * 1024) });
  });
  afterAll(async () => {
    await attache?.close();
  });

  it('a 12 MiB file in 5 MiB pieces (S3 joins them by UploadPartCopy): the attachment is the file, its SHA-256 the one computed as they were stored', async () => {
    const bytes = Buffer.concat([fileNamed('big.pdf', 1000), randomBytes(12 * 1024 * 1024 - 1000)]);
    const done = await tusUpload(`${attache.url}/v1/chat/upload/resumable/`, bytes, { token: TEST_TOKENS.store, fileName: 'big.pdf', chunkSize: 5 * 1024 * 1024 });
    expect(done.headers('Attache-Sha256')).toBe(sha256(bytes));
    expect(done.headers('Attache-Size')).toBe(String(bytes.length));
    const download = await fetch(done.headers('Attache-Url')!);
    expect(sha256(Buffer.from(await download.arrayBuffer()))).toBe(sha256(bytes));
    expect((await attache.storedKeys()).filter((key) => /\.tus-\d+$/.test(key))).toEqual([]);
  });
});
