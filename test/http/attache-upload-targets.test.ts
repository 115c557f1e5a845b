/**
 * attache as its own direct uploads' target (`local`, `memory`): the DirectUploadTargets contract,
 * through the service's PUT route, as a bucket's signed URL is held to it.
 */
import { afterAll } from 'vitest';
import type { DirectUpload } from '../../src/application/direct/direct-upload.ts';
import { TOKENS } from '../../src/composition/container.ts';
import { stagedKeyFor } from '../../src/domain/object-key.ts';
import { directUploadTargetsContract } from '../contracts/direct-upload-targets-contract.ts';
import { startAttacheUnderTest, type AttacheUnderTest } from '../support/attache-under-test.ts';
import { localDriver } from '../support/stores-under-test.ts';

const started: AttacheUnderTest[] = [];
afterAll(async () => {
  await Promise.all(started.map((attache) => attache.close()));
});

directUploadTargetsContract('AttacheUploadTargets (the local driver, through HTTP)', async () => {
  // DIRECT_UPLOAD_TTL=1, for the expiry case; completion is not what is tested here.
  const attache = await startAttacheUnderTest(localDriver, { DIRECT_UPLOAD_TTL: '1' });
  started.push(attache);
  const direct = attache.running.container.resolve<DirectUpload>(TOKENS.directUpload);
  return {
    store: attache.backend.store,
    secondUse: 'refused',
    async target(size) {
      const issued = await direct.issue({ principal: { kind: 'store', id: '42' }, fileName: 'a.pdf', size });
      const id = /"i":"([^"]+)"/.exec(Buffer.from(issued.uploadId.split('.')[0]!, 'base64url').toString())![1]!;
      return { key: stagedKeyFor(id), target: issued.target };
    },
  };
});
