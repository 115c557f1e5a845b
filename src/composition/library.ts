/**
 * The use case built from configuration, for code that is not the HTTP service: a WebSocket
 * server, a queue consumer, a migration script, the `attache` CLI. The same environment
 * variables as the service, the same adapters, no container, no HTTP server, no Koa.
 */
import {
  createAuth,
  ambientAzureCredential,
  completionTailMsFor,
  createMalwareScan,
  createMetadataStripper,
  createMimeDetector,
  createObjectStore,
  createUploadLimits,
  createIdempotency,
  defaultSelfUrl,
  imagePreviewerFactory,
} from './adapters.ts';
import type { AuthPort } from '../application/ports/auth-port.ts';
import type { MimeDetector } from '../application/ports/mime-detector.ts';
import type { ObjectStore } from '../application/ports/object-store.ts';
import { DeleteAttachment } from '../application/delete-attachment.ts';
import { UploadAttachment } from '../application/upload-attachment.ts';
import type { DirectUpload } from '../application/direct/direct-upload.ts';
import { ResumableUpload } from '../application/resumable/resumable-upload.ts';
import { resumablePiecesFactory } from './resumable-pieces.ts';
import { loadConfig, type Config } from './config.ts';
import { directUploadFactory } from './direct-uploads.ts';

export interface CreateUploadAttachmentOptions {
  /** Use this store instead of the one STORAGE_DRIVER names. */
  readonly store?: ObjectStore;
  /** Use this AuthPort instead of AUTH_TOKENS_FILE's tokens (e.g. one that asks your user service). */
  readonly auth?: AuthPort;
  /** Use this detector instead of the extension-based one. */
  readonly mime?: MimeDetector;
}

export interface EmbeddedUploadAttachment {
  /**
   * The use case: `authenticate(token)` (or `admit(...)`, which also counts the upload against
   * UPLOAD_RATE_LIMIT, UPLOAD_QUOTA and AUTH_FAILURE_LIMIT when set), then `execute(...)`, or
   * `start(...)` and `complete`/`abandon`.
   */
  readonly uploadAttachment: UploadAttachment;
  /** Takes attachments back, as DELETE /v1/chat/files/<key>: `authenticate(token)`, then `execute({ principal, key })`. */
  readonly deleteAttachment: DeleteAttachment;
  readonly config: Config;
  readonly store: ObjectStore;
  readonly auth: AuthPort;
  readonly mime: MimeDetector;
  /**
   * Direct uploads over the same use case and store, when DIRECT_UPLOADS is on: `issue` (where a
   * client sends its bytes), then `complete` (the attachment, after every check) or `cancel`.
   * With `local`/`memory` the bytes go to a service on HOST:PORT sharing the store and the secret.
   */
  readonly directUpload: DirectUpload | undefined;
  /**
   * Resumable uploads (the tus routes' use case) over the same use case and store: `create`, then
   * `append` piece by piece (the last one makes the attachment), `state`, `result`, `terminate`.
   */
  readonly resumableUpload: ResumableUpload;
  /**
   * Set when no AUTH_TOKENS_FILE is configured outside production and no `auth` was given:
   * two random tokens, valid for this instance only.
   */
  readonly developmentTokens?: { readonly admin: string; readonly store: string };
  /** Releases what this function opened (store clients, the limits' Valkey connection). Idempotent; leaves given adapters alone. */
  close(): Promise<void>;
}

function isConfig(source: Config | NodeJS.ProcessEnv): source is Config {
  return typeof (source as Config).storage === 'object' && (source as Config).storage !== null;
}

/**
 * Builds UploadAttachment from a validated Config or from environment variables (default
 * `process.env`), exactly as the service does, replacing any adapter given in `options`.
 * Throws ConfigError (one line naming the variable) for an invalid configuration.
 *
 * With STORAGE_DRIVER=local or memory and no PUBLIC_BASE_URL, URLs point at the service's
 * /files route on HOST:PORT (`http://localhost:8080/files/...` by default), where an attache
 * service sharing LOCAL_STORAGE_DIR serves them.
 */
export async function createUploadAttachment(
  source: Config | NodeJS.ProcessEnv = process.env,
  options: CreateUploadAttachmentOptions = {},
): Promise<EmbeddedUploadAttachment> {
  const config = isConfig(source) ? source : loadConfig(source);
  // One identity for everything that talks to Azure (ambientAzureCredential).
  const azureCredential = await ambientAzureCredential(config.storage);
  const store = options.store ?? (await createObjectStore(config.storage, defaultSelfUrl(config), azureCredential));
  const authSetup = options.auth ? { auth: options.auth } : await createAuth(config);
  const mime = options.mime ?? createMimeDetector(config);
  // The same limits as the service's (admit), counted in the same Valkey: every way in counts.
  const limits = await createUploadLimits(config, { warn: (fields, message) => process.emitWarning(`attache: ${message} ${JSON.stringify(fields)}`), info: () => {} });
  const idempotency = await createIdempotency(config);
  const uploadAttachment = new UploadAttachment({
    store,
    auth: authSetup.auth,
    mime,
    maxFileSize: config.maxFileSize,
    malwareScan: createMalwareScan(config),
    previewer: (await imagePreviewerFactory(config))(),
    metadataStripper: createMetadataStripper(config),
    limits: limits?.limits,
    idempotency,
  });
  const directUpload = (await directUploadFactory(config, defaultSelfUrl(config), azureCredential))?.({ uploads: uploadAttachment, store });
  const resumableUpload = new ResumableUpload({ uploads: uploadAttachment, store, pieces: (await resumablePiecesFactory(config.storage, options.store !== undefined))(store), ttlSeconds: config.resumableUploadTtlSeconds, completionTailMs: completionTailMsFor(config) });
  const ownedStore = options.store ? undefined : store;
  let closed = false;
  return {
    uploadAttachment,
    deleteAttachment: new DeleteAttachment({ store, auth: authSetup.auth }),
    config,
    store,
    auth: authSetup.auth,
    mime,
    directUpload,
    resumableUpload,
    ...('developmentTokens' in authSetup && authSetup.developmentTokens ? { developmentTokens: authSetup.developmentTokens } : {}),
    async close() {
      if (closed) return;
      closed = true;
      // Removals of what completed resumable uploads staged run after their answers.
      await resumableUpload.settled();
      // SDK-backed stores hold connection pools; local and memory stores have nothing to close.
      await (ownedStore as { close?: () => Promise<void> } | undefined)?.close?.();
      await limits?.counters.close();
      await idempotency.records.close();
    },
  };
}
