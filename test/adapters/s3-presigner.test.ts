/**
 * S3Presigner gives, byte for byte, the URL the SDK's getSignedUrl gives for the same PutObject
 * (the key, the signed Content-Length and If-None-Match, the expiry and the signing date),
 * GetObject and UploadPart, for each way a bucket is addressed; that RGW takes what it signs is
 * the tests of the direct-upload targets, of the URL modes and of Uppy's S3 routes.
 */
import { GetObjectCommand, PutObjectCommand, S3Client, UploadPartCommand, type S3ClientConfig } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, describe, expect, it } from 'vitest';
import { S3Presigner } from '../../src/adapters/object-store/s3/s3-presigner.ts';

const BUCKET = 'attache-bucket';
const KEYS = ['staged/0b1c2d3e-aaaa-4bbb-8ccc-123456789abc', 'chat/session-1/x y+z!(é)*.pdf', "a/'~b//c", 'chat/user-7/Отчёт №1.pdf'];

describe('S3Presigner', () => {
  const clients: S3Client[] = [];
  afterAll(() => clients.forEach((client) => client.destroy()));

  const CONFIGS: [string, S3ClientConfig][] = [
    ['an endpoint, path style (RGW, MinIO)', { region: 'us-east-1', endpoint: 'https://127.0.0.1:9000', forcePathStyle: true }],
    ['an endpoint with a trailing slash, over HTTP', { region: 'us-east-1', endpoint: 'http://localhost:7480/', forcePathStyle: true }],
    ['an endpoint, virtual-hosted (R2)', { region: 'auto', endpoint: 'https://account.r2.cloudflarestorage.com' }],
    ['AWS, virtual-hosted', { region: 'eu-west-3' }],
    ['AWS, path style', { region: 'eu-central-1', forcePathStyle: true }],
    ['AWS with a session token', { region: 'us-west-2', credentials: { accessKeyId: 'AK', secretAccessKey: 'SK', sessionToken: 'token/with+chars=' } }],
  ];

  /**
   * A client as createS3Client makes it (checksums only when required: with WHEN_SUPPORTED the SDK
   * would also sign GetObject's x-amz-checksum-mode), and the presigner kept for it.
   */
  function signers(config: S3ClientConfig): { client: S3Client; presigner: S3Presigner } {
    const checksums = { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' } as const;
    const client = new S3Client({ credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' }, ...checksums, ...config });
    clients.push(client);
    return { client, presigner: new S3Presigner(client, BUCKET) };
  }

  it.each(CONFIGS)('signs the PutObject getSignedUrl signs: %s', async (_, config) => {
    const { client, presigner } = signers(config);
    for (const [i, key] of KEYS.entries()) {
      const signingDate = new Date(Date.UTC(2026, 11, 7, 12, 0, i));
      const expiresIn = 600 + i;
      const expected = await getSignedUrl(client, new PutObjectCommand({ Bucket: BUCKET, Key: key, ContentLength: 1000 + i, IfNoneMatch: '*' }), {
        expiresIn,
        signingDate,
        signableHeaders: new Set(['content-length', 'if-none-match']),
        unhoistableHeaders: new Set(['if-none-match']),
      });
      expect(await presigner.put({ key, size: 1000 + i, expiresInSeconds: expiresIn, signingDate })).toBe(expected);
    }
  });

  it.each(CONFIGS)('signs the GetObject getSignedUrl signs: %s', async (_, config) => {
    const { client, presigner } = signers(config);
    for (const [i, key] of KEYS.entries()) {
      const signingDate = new Date(Date.UTC(2026, 11, 7, 12, 0, i));
      const expected = await getSignedUrl(client, new GetObjectCommand({ Bucket: BUCKET, Key: key }), { expiresIn: 3600 + i, signingDate });
      expect(await presigner.get({ key, expiresInSeconds: 3600 + i, signingDate })).toBe(expected);
    }
  });

  it('signs a GetObject now when no signing date is given', async () => {
    const { presigner } = signers(CONFIGS[0]![1]);
    const before = Date.now() - 1000;
    const url = new URL(await presigner.get({ key: 'chat/k', expiresInSeconds: 60 }));
    const amzDate = url.searchParams.get('X-Amz-Date') ?? '';
    const signedAt = Date.parse(amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));
    expect(signedAt).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(signedAt).toBeLessThanOrEqual(Date.now());
  });

  it.each(CONFIGS)('signs the UploadPart getSignedUrl signs: %s', async (_, config) => {
    const { client, presigner } = signers(config);
    const uploadIds = ['2~abcDEF_123-xyz', 'VXBsb2FkIElE+/=', 'a b&c'];
    for (const [i, key] of KEYS.entries()) {
      const signingDate = new Date(Date.UTC(2026, 11, 7, 12, 0, i));
      const uploadId = uploadIds[i % uploadIds.length]!;
      const partNumber = [1, 2, 10, 10000][i]!;
      const command = new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId, PartNumber: partNumber });
      const expected = await getSignedUrl(client, command, { expiresIn: 900 + i, signingDate });
      expect(await presigner.uploadPart({ key, uploadId, partNumber, expiresInSeconds: 900 + i, signingDate })).toBe(expected);
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
    const presigner = new S3Presigner(client, BUCKET);
    const signingDate = new Date();
    const signings = [
      () => presigner.put({ key: 'staged/k', size: 1, expiresInSeconds: 60, signingDate }),
      () => presigner.get({ key: 'chat/k', expiresInSeconds: 60 }),
      () => presigner.uploadPart({ key: 'staged/k', uploadId: 'u', partNumber: 1, expiresInSeconds: 60, signingDate }),
    ];
    for (const sign of signings) await expect(sign()).rejects.toThrow('no credentials yet');
    found = true;
    for (const sign of signings) expect(new URL(await sign()).searchParams.get('X-Amz-Credential')).toMatch(/^AK\//);
  });
});
