/**
 * attache as a library: the upload use case, its ports, the domain's rules and errors, the
 * adapters, and the configuration loader. Importing it starts nothing and loads no HTTP
 * framework (a test checks the module graph); the HTTP service is `src/main.ts`.
 *
 * ```ts
 * import { createUploadAttachment } from 'attache';
 * const { uploadAttachment, close } = await createUploadAttachment(process.env);
 * const principal = await uploadAttachment.authenticate(token);
 * const { url, type } = await uploadAttachment.execute({ principal, sessionId, fileName, content });
 * ```
 */
export {
  createUploadAttachment,
  type CreateUploadAttachmentOptions,
  type EmbeddedUploadAttachment,
} from './composition/library.ts';

// The use case and its ports.
export {
  MEMORY_HOLD_BYTES,
  UploadAttachment,
  type AdmitRequest,
  type Admitted,
  type ReceivedAttachment,
  type StartRequest,
  type UploadAttachmentDeps,
  type UploadRequest,
  type UploadedAttachment,
} from './application/upload-attachment.ts';
export { AttachmentUpload } from './application/attachment-upload.ts';
export { DeleteAttachment, type DeleteAttachmentDeps } from './application/delete-attachment.ts';
export { DirectUpload, type DirectUploadDeps, type DirectUploadRequest, type IssuedDirectUpload } from './application/direct/direct-upload.ts';
export { SignedUploadIds, type DirectUploadClaims } from './application/direct/signed-upload-id.ts';
export { MAX_PARTS, ResumableUpload, type AppendRequest, type ResumableState, type ResumableUploadDeps } from './application/resumable/resumable-upload.ts';
export { StagedCompletion } from './application/staged-completion.ts';
export type { DirectUploadTargets, UploadTarget, UploadTargetRequest } from './application/ports/direct-upload-targets.ts';
export type { Disposition, ObjectContent, ObjectInfo, ObjectMeta, ObjectPart, ObjectStore, StoredObject } from './application/ports/object-store.ts';
export type { AuthPort } from './application/ports/auth-port.ts';
export type { MimeDetector } from './application/ports/mime-detector.ts';
export { UploadLimits, type LimitRule, type UploadAllowance, type UploadLimitsOptions } from './application/upload-limits.ts';
export type { Count, CountingRule, UsageCounters } from './application/ports/usage-counters.ts';
export { InProcessUsageCounters } from './adapters/limits/in-process-usage-counters.ts';

// The domain: errors with stable codes, principals, the spec's rules.
export {
  AttachmentNotFound,
  AuthenticationUnavailable,
  BackendUnavailable,
  ChecksumMismatch,
  DomainError,
  FileRequired,
  FileTooLarge,
  Forbidden,
  InvalidFileName,
  InvalidSessionId,
  InvalidUpload,
  LimitsUnavailable,
  ObjectAlreadyExists,
  QuotaExceeded,
  StorageUnavailable,
  TooManyRequests,
  type LimitState,
  Unauthorized,
  UnsupportedFileType,
  UploadIncomplete,
  UploadNotFound,
} from './domain/errors.ts';
export { mayDelete, principalFrom, uploaderOf, type Identity, type Principal } from './domain/principal.ts';
export { folderFor, parseSessionId, MAX_SESSION_ID_LENGTH } from './domain/folder-policy.ts';
export { ALLOWED_EXTENSIONS, allowedExtensionOf, type AllowedExtension } from './domain/file-types.ts';
export { attachmentKeyInUrl, safeFileName, type ObjectKey } from './domain/object-key.ts';

// Adapters, to assemble the use case by hand or to reuse in another transport.
export { StaticTokenAuth, type TokenEntry } from './adapters/auth/static-token-auth.ts';
export { ExtensionMimeDetector } from './adapters/mime/extension-mime-detector.ts';
export { InMemoryObjectStore } from './adapters/object-store/in-memory/in-memory-object-store.ts';
export { LocalDiskObjectStore } from './adapters/object-store/local-disk/local-disk-object-store.ts';
// A store of your own may implement `concatenate` with it (the parts streamed into its own `put`).
export { concatenateByStreaming } from './adapters/object-store/streamed-concatenation.ts';
export { createAuth, createMimeDetector, createObjectStore, type AuthSetup } from './composition/adapters.ts';

// Configuration: the same environment variables as the service.
export { ConfigError, ENVIRONMENT_VARIABLES, loadConfig, type Config, type StorageConfig, type UrlMode } from './composition/config.ts';
