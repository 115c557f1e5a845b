import type { S3Client } from '@aws-sdk/client-s3';
import type { PartBufferPool } from '../body-parts.ts';
import type { S3Settings } from './s3-options.ts';

/**
 * What S3ObjectStore's operations share, handed to the modules that carry them out (reads, server-side
 * copies, the cleanup of failed writes) so that each concern lives in its own file and the store stays
 * the port's face: the client, the settings, and how a failure is put into words.
 */
export interface S3BucketAccess {
  readonly client: S3Client;
  readonly settings: S3Settings;
  /** The store's part buffers (settings.partSize each), reused by its multipart uploads and S3Pieces' parts alike. */
  readonly parts: PartBufferPool;
  /** The message of a StorageUnavailable for `action` failing with `error`: names the bucket, never credentials. */
  describe(action: string, error: unknown): string;
}
