/**
 * S3PutPresigner gives, byte for byte, the URL the SDK's getSignedUrl gives for the same PutObject
 * (the key, the signed Content-Length and If-None-Match, the expiry and the signing date), for
 * each way a bucket is addressed; that RGW takes what it signs is the direct-upload targets' test.
 */
import { PutObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, describe, expect, it } from 'vitest';
import { S3PutPresigner } from '../../src/adapters/object-store/s3/s3-put-presigner.ts';

const BUCKET = 'attache-bucket';
const KEYS = ['staged/0b1c2d3e-aaaa-4bbb-8ccc-123456789abc', 'chat/session-1/x y+z!(é)*.pdf', "a/'~b//c", 'chat/user-7/Отчёт №1.pdf'];

describe('S3PutPresigner', () => {
  const clients: S3Client[] = [];
  afterAll(() => clients.forEach((client) => client.destroy()));

  it.each<[string, S3ClientConfig]>([
    ['an endpoint, path style (RGW, MinIO)', { region: 'us-east-1', endpoint: 'https://127.0.0.1:9000', forcePathStyle: true }],
    ['an endpoint with a trailing slash, over HTTP', { region: 'us-east-1', endpoint: 'http://localhost:7480/', forcePathStyle: true }],
    ['an endpoint, virtual-hosted (R2)', { region: 'auto', endpoint: 'https://account.r2.cloudflarestorage.com' }],
    ['AWS, virtual-hosted', { region: 'eu-west-3' }],
    ['AWS, path style', { region: 'eu-central-1', forcePathStyle: true }],
    ['AWS with a session token', { region: 'us-west-2', credentials: { accessKeyId: 'AK', secretAccessKey: 'SK', sessionToken: 'token/with+chars=' } }],
  ])('signs what getSignedUrl signs: %s', async (_, config) => {
    const client = new S3Client({ credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' }, requestChecksumCalculation: 'WHEN_REQUIRED', ...config });
    clients.push(client);
    const presigner = new S3PutPresigner(client, BUCKET);
    for (const [i, key] of KEYS.entries()) {
      const signingDate = new Date(Date.UTC(2026, 11, 7, 12, 0, i));
      const expiresIn = 600 + i;
      const expected = await getSignedUrl(client, new PutObjectCommand({ Bucket: BUCKET, Key: key, ContentLength: 1000 + i, IfNoneMatch: '*' }), {
        expiresIn,
        signingDate,
        signableHeaders: new Set(['content-length', 'if-none-match']),
        unhoistableHeaders: new Set(['if-none-match']),
      });
      expect(await presigner.presign({ key, size: 1000 + i, expiresInSeconds: expiresIn, signingDate })).toBe(expected);
    }
  });

  it('fails as getSignedUrl does without credentials, and signs once they can be found', async () => {
    let found = false;
    const credentials = async () => {
      if (!found) throw new Error('no credentials yet');
      return { accessKeyId: 'AK', secretAccessKey: 'SK' };
    };
    const client = new S3Client({ region: 'us-east-1', credentials });
    clients.push(client);
    const presigner = new S3PutPresigner(client, BUCKET);
    const request = { key: 'staged/k', size: 1, expiresInSeconds: 60, signingDate: new Date() };
    await expect(presigner.presign(request)).rejects.toThrow('no credentials yet');
    found = true;
    expect(new URL(await presigner.presign(request)).searchParams.get('X-Amz-Credential')).toMatch(/^AK\//);
  });
});
