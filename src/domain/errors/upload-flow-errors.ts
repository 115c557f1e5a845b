/** An upload across requests: direct and resumable uploads, Idempotency-Key, the service stopping. */
import { DomainError, BackendUnavailable } from './domain-error.ts';

/** The service is stopping: it finishes the uploads it has, and takes no new ones. */
export class ShuttingDown extends DomainError {
  readonly code = 'SHUTTING_DOWN';
  constructor() {
    super('Shutting down');
  }
}

/**
 * A direct upload's `upload_id` names nothing this caller may complete or cancel: unknown, expired,
 * tampered with, or another principal's. One error for all of them, so an id cannot be probed.
 */
export class UploadNotFound extends DomainError {
  readonly code = 'UPLOAD_NOT_FOUND';
  constructor(detail?: string) {
    super('Upload not found', detail);
  }
}

/** A direct upload is completed before its bytes are in storage. */
export class UploadIncomplete extends DomainError {
  readonly code = 'UPLOAD_INCOMPLETE';
  constructor(detail?: string) {
    super('Upload incomplete', detail);
  }
}

/** A resumable upload's bytes were sent for an offset other than the one stored (tus: 409). */
export class UploadOffsetMismatch extends DomainError {
  readonly code = 'UPLOAD_OFFSET_MISMATCH';
  constructor(detail?: string) {
    super('Upload offset mismatch', detail);
  }
}

/** A resumable-upload request in a protocol version attache does not speak (tus: 412). */
export class ProtocolVersionUnsupported extends DomainError {
  readonly code = 'PROTOCOL_VERSION_UNSUPPORTED';
  constructor(detail?: string) {
    super('Unsupported protocol version', detail);
  }
}

/** A resumable upload's bytes sent with another Content-Type than the protocol's (tus: 415). */
export class WrongContentType extends DomainError {
  readonly code = 'WRONG_CONTENT_TYPE';
  constructor(detail?: string) {
    super('Unsupported media type', detail);
  }
}

/** The `Idempotency-Key` header is not one key: empty, longer than 255 characters, or not a string. */
export class InvalidIdempotencyKey extends DomainError {
  readonly code = 'INVALID_IDEMPOTENCY_KEY';
  constructor(detail?: string) {
    super('Invalid Idempotency-Key', detail);
  }
}

/**
 * A request with the same Idempotency-Key, from the same caller, is still being answered; or
 * another completion of the same staged upload is still making its attachment.
 */
export class UploadInProgress extends DomainError {
  readonly code = 'UPLOAD_IN_PROGRESS';
  constructor(detail = 'a request with this Idempotency-Key has not finished; retry once it has') {
    super('Upload in progress', detail);
  }
}

/** An Idempotency-Key already used for another file (another size or SHA-256) by the same caller. */
export class IdempotencyKeyReused extends DomainError {
  readonly code = 'IDEMPOTENCY_KEY_REUSED';
  constructor(detail?: string) {
    super('Idempotency key reused', detail ?? 'this Idempotency-Key was used for another file; use a new key for a new upload');
  }
}

/** The shared records behind Idempotency-Key (Valkey) cannot answer: a request carrying one cannot be run once and only once. */
export class IdempotencyUnavailable extends BackendUnavailable {
  readonly code = 'IDEMPOTENCY_UNAVAILABLE';
  constructor(reason: string, options?: ErrorOptions) {
    super('Idempotency unavailable', reason, options);
  }
}

/** A way of uploading the configured storage cannot do (a direct multipart upload on a driver without presigned parts). */
export class UploadMethodUnsupported extends DomainError {
  readonly code = 'UPLOAD_METHOD_UNSUPPORTED';
  constructor(detail?: string) {
    super('Not implemented', detail);
  }
}
