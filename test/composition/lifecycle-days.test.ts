/**
 * The days of `attache storage setup`'s rules from the configuration: on S3 the bucket-wide abort
 * rule outlives a resumable upload (RESUMABLE_UPLOAD_TTL and its completion's request, in whole
 * days), since its parts are one multipart upload; elsewhere a day.
 */
import { describe, expect, it } from 'vitest';
import type { Config } from '../../src/composition/config.ts';
import { incompleteMultipartDays, lifecycleDaysFor } from '../../src/composition/staged-expiry.ts';

type Days = Pick<Config, 'storage' | 'directUploads' | 'resumableUploadTtlSeconds' | 'http'>;

function configOf(driver: string, resumableUploadTtlSeconds: number, requestTimeoutMs = 300_000): Days {
  return { storage: { driver }, directUploads: undefined, resumableUploadTtlSeconds, http: { requestTimeoutMs } } as unknown as Days;
}

describe('the lifecycle rules’ days', () => {
  it.each([
    ['the default: a day and 5 minutes', 86_400, 300_000, 2],
    ['a day less a request, and the request', 86_400 - 60, 60_000, 1],
    ['an hour', 3_600, 300_000, 1],
    ['three days', 3 * 86_400, 300_000, 4],
    ['the longest, 30 days', 30 * 86_400, 300_000, 31],
  ])('on s3, %s: the abort rule outlives the upload', (_, ttl, requestMs, days) => {
    expect(incompleteMultipartDays(configOf('s3', ttl, requestMs))).toBe(days);
    expect(days * 86_400).toBeGreaterThanOrEqual(ttl + requestMs / 1000);
  });

  it.each(['gcs', 'azure', 'local', 'memory'])('on %s, whose resumable uploads are objects: a day', (driver) => {
    expect(incompleteMultipartDays(configOf(driver, 30 * 86_400))).toBe(1);
  });

  it('puts the staged prefix’s days beside it', () => {
    expect(lifecycleDaysFor(configOf('s3', 3 * 86_400))).toEqual({ staged: 3, incompleteMultipart: 4 });
    expect(lifecycleDaysFor(configOf('gcs', 3 * 86_400))).toEqual({ staged: 3, incompleteMultipart: 1 });
  });
});
