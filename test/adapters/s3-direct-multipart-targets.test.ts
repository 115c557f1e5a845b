/** S3's presigned parts for Uppy's multipart direct uploads, against the run's Ceph RGW: the DirectMultipartTargets contract. */
import { inject } from 'vitest';
import { S3DirectMultipartTargets } from '../../src/adapters/object-store/s3/s3-direct-multipart-targets.ts';
import { S3ObjectStore } from '../../src/adapters/object-store/s3/s3-object-store.ts';
import { directMultipartTargetsContract } from '../contracts/direct-multipart-targets-contract.ts';
import { s3StoreOptionsFor } from '../support/s3/rgw-global-setup.ts';

directMultipartTargetsContract('S3DirectMultipartTargets (Ceph RGW)', async () => {
  const options = s3StoreOptionsFor(inject('s3'));
  return { targets: new S3DirectMultipartTargets(options), store: new S3ObjectStore(options) };
});
