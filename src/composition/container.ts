/**
 * The service's container, and the one module that imports tsyringe: tokens, and a factory for
 * each part, registered once; whoever starts the service resolves what it needs once.
 */
import 'reflect-metadata';
import type { Logger } from 'pino';
import { container as rootContainer, instanceCachingFactory, type DependencyContainer } from 'tsyringe';
import type { AuthPort } from '../application/ports/auth-port.ts';
import type { MimeDetector } from '../application/ports/mime-detector.ts';
import type { ObjectStore } from '../application/ports/object-store.ts';
import { UploadAttachment, type UploadAttachmentDeps } from '../application/upload-attachment.ts';
import { ResumableUpload } from '../application/resumable/resumable-upload.ts';
import { resumablePiecesFactory } from './resumable-pieces.ts';
import { DeleteAttachment } from '../application/delete-attachment.ts';
import { OpenAttachment } from '../application/open-attachment.ts';
import type { ImagePreviewer } from '../application/ports/image-previewer.ts';
import type { MetadataStripper } from '../application/ports/metadata-stripper.ts';
import {
  ambientAzureCredential,
  authFactory,
  completionTailMsFor,
  createMalwareScan,
  createMetadataStripper,
  createMimeDetector,
  imagePreviewerFactory,
  createUploadLimits,
  createIdempotency,
  objectStoreFactory,
  type DevelopmentTokens,
} from './adapters.ts';
import type { Config } from './config.ts';
import { directUploadFactory } from './direct-uploads.ts';

export const TOKENS = {
  config: Symbol('Config'),
  logger: Symbol('Logger'),
  objectStore: Symbol('ObjectStore'),
  auth: Symbol('AuthPort'),
  mime: Symbol('MimeDetector'),
  malwareScan: Symbol('MalwareScan'),
  imagePreviewer: Symbol('ImagePreviewer'),
  metadataStripper: Symbol('MetadataStripper'),
  uploadAttachment: Symbol('UploadAttachment'),
  /** DirectUpload, or undefined when direct uploads are off. */
  directUpload: Symbol('DirectUpload'),
  /** The limits' counters (or undefined), for the service to close when it stops. */
  usageCounters: Symbol('UsageCounters'),
  /** ResumableUpload: tus uploads over the same use case and store. */
  resumableUpload: Symbol('ResumableUpload'),
  deleteAttachment: Symbol('DeleteAttachment'),
  openAttachment: Symbol('OpenAttachment'),
  /** Where Idempotency-Key claims and answers are kept, for the service to close when it stops. */
  idempotencyRecords: Symbol('IdempotencyRecords'),
} as const;

export interface ComposedAttache {
  readonly container: DependencyContainer;
  /** Set when development tokens were made up because none were configured. */
  readonly developmentTokens?: DevelopmentTokens;
}

/**
 * A child container holding every part of one attache instance. `store` and `auth`, when given,
 * replace the ones the configuration names (tests, embedders).
 */
export async function composeAttache(
  config: Config,
  parts: { logger: Logger; selfUrl: string; store?: ObjectStore; auth?: AuthPort },
): Promise<ComposedAttache> {
  // The asynchronous preparation (an SDK's module, the tokens file) comes first; the factories
  // registered below build each part synchronously when it is first resolved.
  const { store, auth } = parts;
  // One identity for everything that talks to Azure (ambientAzureCredential).
  const azureCredential = await ambientAzureCredential(config.storage);
  const makeStore = store ? () => store : await objectStoreFactory(config.storage, parts.selfUrl, azureCredential);
  const piecesFor = await resumablePiecesFactory(config.storage, store !== undefined);
  const authSetup = auth ? { make: () => auth } : await authFactory(config);
  const makePreviewer = await imagePreviewerFactory(config);
  const makeDirectUpload = await directUploadFactory(config, parts.selfUrl, azureCredential);
  const limits = await createUploadLimits(config, parts.logger);
  const idempotency = await createIdempotency(config);
  const c = rootContainer.createChildContainer();
  c.register(TOKENS.config, { useValue: config });
  c.register(TOKENS.logger, { useValue: parts.logger });
  c.register(TOKENS.objectStore, { useFactory: instanceCachingFactory<ObjectStore>(makeStore) });
  c.register(TOKENS.auth, { useFactory: instanceCachingFactory<AuthPort>(authSetup.make) });
  c.register(TOKENS.mime, { useFactory: instanceCachingFactory<MimeDetector>(() => createMimeDetector(config)) });
  c.register(TOKENS.malwareScan, { useFactory: instanceCachingFactory(() => createMalwareScan(config)) });
  c.register(TOKENS.imagePreviewer, { useFactory: instanceCachingFactory(makePreviewer) });
  c.register(TOKENS.metadataStripper, { useFactory: instanceCachingFactory(() => createMetadataStripper(config)) });
  c.register(TOKENS.usageCounters, { useFactory: () => limits?.counters });
  c.register(TOKENS.idempotencyRecords, { useValue: idempotency.records });
  c.register(TOKENS.uploadAttachment, {
    useFactory: instanceCachingFactory(
      (r) =>
        new UploadAttachment({
          store: r.resolve<ObjectStore>(TOKENS.objectStore),
          auth: r.resolve<AuthPort>(TOKENS.auth),
          mime: r.resolve<MimeDetector>(TOKENS.mime),
          maxFileSize: config.maxFileSize,
          malwareScan: r.resolve<UploadAttachmentDeps['malwareScan']>(TOKENS.malwareScan),
          previewer: r.resolve<ImagePreviewer | undefined>(TOKENS.imagePreviewer),
          metadataStripper: r.resolve<MetadataStripper | undefined>(TOKENS.metadataStripper),
          limits: limits?.limits,
          idempotency,
        }),
    ),
  });
  c.register(TOKENS.directUpload, {
    useFactory: instanceCachingFactory((r) =>
      makeDirectUpload?.({ uploads: r.resolve<UploadAttachment>(TOKENS.uploadAttachment), store: r.resolve<ObjectStore>(TOKENS.objectStore) }),
    ),
  });
  c.register(TOKENS.resumableUpload, {
    useFactory: instanceCachingFactory(
      (r) =>
        new ResumableUpload({
          uploads: r.resolve<UploadAttachment>(TOKENS.uploadAttachment),
          store: r.resolve<ObjectStore>(TOKENS.objectStore),
          pieces: piecesFor(r.resolve<ObjectStore>(TOKENS.objectStore)),
          ttlSeconds: config.resumableUploadTtlSeconds,
          completionTailMs: completionTailMsFor(config),
        }),
    ),
  });
  c.register(TOKENS.deleteAttachment, {
    useFactory: instanceCachingFactory(
      (r) => new DeleteAttachment({ store: r.resolve<ObjectStore>(TOKENS.objectStore), auth: r.resolve<AuthPort>(TOKENS.auth) }),
    ),
  });
  c.register(TOKENS.openAttachment, {
    useFactory: instanceCachingFactory(
      (r) => new OpenAttachment({ store: r.resolve<ObjectStore>(TOKENS.objectStore), redirectLifeSeconds: config.redirectUrlTtlSeconds }),
    ),
  });
  return 'developmentTokens' in authSetup && authSetup.developmentTokens
    ? { container: c, developmentTokens: authSetup.developmentTokens }
    : { container: c };
}
