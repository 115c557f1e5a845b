/**
 * What the `@uppy/aws-s3` browser tests (Uppy 5 and Uppy 6) share: a bucket of their own on the run's
 * Ceph RGW with the CORS rule docs/direct-uploads.md asks for (the page's origin may PUT parts and read
 * their ETag), an attache service process on it with direct uploads on and one store token, the pages'
 * origin, and what the page shows once a file is chosen.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, ListMultipartUploadsCommand, ListObjectsV2Command, PutBucketCorsCommand, type S3Client } from '@aws-sdk/client-s3';
import { s3ClientFor, s3ServiceEnv, type S3TestServer } from '../s3/rgw-global-setup.ts';
import { startServiceProcess, type ServiceProcess } from '../service-process.ts';
import { openInChromium } from './chromium.ts';
import { servePages, type PageServer } from './page-server.ts';

export interface UppyS3Stage {
  readonly raw: S3Client;
  readonly bucket: string;
  readonly service: ServiceProcess;
  readonly pages: PageServer;
  /** A folder of the test's own, removed by `close`. */
  readonly scratch: string;
  /** What the page server serves, by path: the tests add their pages. */
  readonly served: Record<string, string>;
  /** What uploads left under staged/: objects (completion receipts aside) and multipart uploads not finished. */
  staged(): Promise<string[]>;
  /** What `<recipe>/page.html` shows once `file` is chosen and uploaded or refused, and `alsoRead`'s value after it. */
  chooseIn(recipe: string, file: string, alsoRead?: string): Promise<string>;
  close(): Promise<void>;
}

export async function startUppyS3Stage(s3: S3TestServer, options: { readonly name: string; readonly token: string }): Promise<UppyS3Stage> {
  const served: Record<string, string> = {};
  const pages = await servePages(served);
  const raw = s3ClientFor(s3);
  const bucket = `attache-${options.name}-${randomUUID().slice(0, 8)}`;
  await raw.send(new CreateBucketCommand({ Bucket: bucket }));
  await raw.send(
    new PutBucketCorsCommand({
      Bucket: bucket,
      CORSConfiguration: { CORSRules: [{ AllowedOrigins: [pages.origin], AllowedMethods: ['PUT'], AllowedHeaders: ['*'], ExposeHeaders: ['ETag'] }] },
    }),
  );
  const scratch = await mkdtemp(join(tmpdir(), `attache-${options.name}-`));
  await writeFile(join(scratch, 'tokens.json'), JSON.stringify({ tokens: [{ token: options.token, role: 'store', id: '42' }] }));
  const service = await startServiceProcess(
    {
      AUTH_TOKENS_FILE: join(scratch, 'tokens.json'),
      ...s3ServiceEnv(s3, bucket),
      S3_URL_MODE: 'signed',
      STORAGE_CHECK: 'off',
      DIRECT_UPLOADS: 'on',
      CORS_ORIGINS: pages.origin,
    },
    60_000,
  );
  return {
    raw,
    bucket,
    service,
    pages,
    scratch,
    served,
    staged: async () => [
      ...((await raw.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'staged/' }))).Contents ?? []).map((o) => o.Key!).filter((key) => !key.endsWith('.answer.json')),
      ...((await raw.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? []).map((u) => `unfinished ${u.Key}`),
    ],
    async chooseIn(recipe, file, alsoRead) {
      const page = await openInChromium(`${pages.origin}/${recipe}/page.html`);
      try {
        await page.chooseFiles('input[type=file]', [file]);
        try {
          const shown = await page.waitForText("document.querySelector('output').textContent");
          return alsoRead ? `${shown} ${await page.evaluate<string>(alsoRead)}` : shown;
        } catch (error) {
          throw new Error(`${(error as Error).message}\n${page.log.join('\n')}`);
        }
      } finally {
        await page.close();
      }
    },
    async close() {
      service.child.kill('SIGTERM');
      await service.exited;
      raw.destroy();
      await pages.close();
      await rm(scratch, { recursive: true, force: true });
    },
  };
}
