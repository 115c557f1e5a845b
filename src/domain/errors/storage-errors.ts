/** The object store: unreachable, a key taken, nothing at a key. */
import { DomainError, BackendUnavailable } from './domain-error.ts';

/** No attachment at the key named (never uploaded, or deleted). */
export class AttachmentNotFound extends DomainError {
  readonly code = 'ATTACHMENT_NOT_FOUND';
  constructor(detail?: string) {
    super('Not found', detail);
  }
}

/** The object store cannot be reached, refuses our credentials, or lacks the bucket. */
export class StorageUnavailable extends BackendUnavailable {
  readonly code = 'STORAGE_UNAVAILABLE';
  constructor(reason: string, options?: ErrorOptions) {
    super('Storage unavailable', reason, options);
  }
}

/** Something already exists at the key; stores never overwrite. */
export class ObjectAlreadyExists extends DomainError {
  readonly code = 'OBJECT_ALREADY_EXISTS';
  readonly key: string;
  constructor(key: string, options?: ErrorOptions) {
    super('Upload conflict', 'an object already exists at the generated key; retry the upload', options);
    this.key = key;
  }
}
