/**
 * GCS direct-upload targets: the Cloud Storage emulator implements no signed URLs, so what is
 * checked is the URL itself: its V4 signature (recomputed here and verified with the public key of
 * a locally generated service-account key) covers the PUT, the key, the exact length range and
 * the no-overwrite precondition, and expires when told. That GCS then refuses other bodies is
 * Google's documented behaviour, not verified here (docs/direct-uploads.md says so).
 */
import { createHash, generateKeyPairSync, verify } from 'node:crypto';
import { Storage } from '@google-cloud/storage';
import { describe, expect, it } from 'vitest';
import { GcsDirectUploadTargets } from '../../src/adapters/object-store/gcs/gcs-direct-upload-targets.ts';
import { stagedKeyFor } from '../../src/domain/object-key.ts';

const { publicKey, privateKey } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});
const credentials = { type: 'service_account', client_email: 'attache-test@demo-test.iam.gserviceaccount.com', private_key: privateKey, project_id: 'demo-test' };
const encode = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

describe('GcsDirectUploadTargets', () => {
  it('signs a PUT of exactly the size, at the staged key, only if nothing is there, expiring when told', async () => {
    const targets = new GcsDirectUploadTargets({ bucket: 'attache-bucket', urlMode: 'public', urlTtlSeconds: 1, storage: new Storage({ projectId: 'demo-test', credentials }) });
    const key = stagedKeyFor('0f1e2d3c-0000-4000-8000-000000000001');
    const target = await targets.targetFor({ key, size: 12345, expiresAt: new Date(Date.now() + 900_000), uploadId: 'unused' });
    expect(target.method).toBe('PUT');
    expect(target.headers).toEqual({ 'x-goog-content-length-range': '12345,12345', 'x-goog-if-generation-match': '0' });
    const url = new URL(target.url);
    const q = url.searchParams;
    expect(url.origin).toBe('https://storage.googleapis.com');
    expect(url.pathname).toBe(`/attache-bucket/${key}`);
    expect(Number(q.get('X-Goog-Expires'))).toBeGreaterThanOrEqual(899);
    expect(Number(q.get('X-Goog-Expires'))).toBeLessThanOrEqual(900);
    expect(q.get('X-Goog-SignedHeaders')).toBe('host;x-goog-content-length-range;x-goog-if-generation-match');

    const date = q.get('X-Goog-Date')!;
    const scope = `${date.slice(0, 8)}/auto/storage/goog4_request`;
    const query = [...q.entries()]
      .filter(([name]) => name !== 'X-Goog-Signature')
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, value]) => `${encode(name)}=${encode(value)}`)
      .join('&');
    const canonical = (length: string) =>
      ['PUT', url.pathname, query, `host:storage.googleapis.com\nx-goog-content-length-range:${length}\nx-goog-if-generation-match:0\n`, q.get('X-Goog-SignedHeaders'), 'UNSIGNED-PAYLOAD'].join('\n');
    const stringToSign = (length: string) => ['GOOG4-RSA-SHA256', date, scope, createHash('sha256').update(canonical(length)).digest('hex')].join('\n');
    const signature = Buffer.from(q.get('X-Goog-Signature')!, 'hex');
    expect(verify('sha256', Buffer.from(stringToSign('12345,12345')), publicKey, signature)).toBe(true);
    // Another length range does not verify: the size is part of what was signed.
    expect(verify('sha256', Buffer.from(stringToSign('0,12346')), publicKey, signature)).toBe(false);
  });

  it('says the storage is unavailable when it cannot sign', async () => {
    const targets = new GcsDirectUploadTargets({
      bucket: 'b',
      urlMode: 'public',
      urlTtlSeconds: 1,
      storage: new Storage({ projectId: 'demo-test', credentials: { client_email: credentials.client_email, private_key: 'not a key' } }),
    });
    await expect(targets.targetFor({ key: stagedKeyFor('x'), size: 1, expiresAt: new Date(Date.now() + 60_000), uploadId: 'u' })).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
  });
});
