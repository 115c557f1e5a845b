/**
 * Every failure attache knows about is a DomainError with a stable `code`.
 * Codes are the contract between the core and the transports: the HTTP adapter maps
 * them to statuses and bodies in one table, the CLI to messages and exit codes.
 * No error here knows about HTTP.
 */
export abstract class DomainError extends Error {
  abstract readonly code: string;
  /** Extra, human-readable explanation safe to show to the caller. */
  readonly detail: string | undefined;

  constructor(message: string, detail?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.detail = detail;
  }
}

/** The caller has no valid admin or store credentials. */
export class Unauthorized extends DomainError {
  readonly code = 'UNAUTHORIZED';
  constructor(detail?: string) {
    super('Unauthorized', detail);
  }
}

/** The caller is known, but may not do this to this attachment (a store token deleting another's upload). */
export class Forbidden extends DomainError {
  readonly code = 'FORBIDDEN';
  constructor(detail?: string) {
    super('Forbidden', detail);
  }
}

/** No attachment at the key named (never uploaded, or deleted). */
export class AttachmentNotFound extends DomainError {
  readonly code = 'ATTACHMENT_NOT_FOUND';
  constructor(detail?: string) {
    super('Not found', detail);
  }
}

/** The request carries no file to upload. */
export class FileRequired extends DomainError {
  readonly code = 'FILE_REQUIRED';
  constructor(detail?: string) {
    super('file is required', detail);
  }
}

/** The file's type is not one attache accepts, or its content contradicts its name. */
export class UnsupportedFileType extends DomainError {
  readonly code = 'UNSUPPORTED_FILE_TYPE';
  constructor(detail?: string) {
    super('Unsupported file type', detail);
  }
}

/** The client's file name is not one a real file can have (control characters, a `..` segment, too long). */
export class InvalidFileName extends DomainError {
  readonly code = 'INVALID_FILE_NAME';
  constructor(detail?: string) {
    super('Invalid file name', detail);
  }
}

/** The session id cannot safely name a folder. */
export class InvalidSessionId extends DomainError {
  readonly code = 'INVALID_SESSION_ID';
  constructor(detail?: string) {
    super('Invalid session_id', detail);
  }
}

/** The request is malformed in a way that is not one of the cases above. */
export class InvalidUpload extends DomainError {
  readonly code = 'INVALID_UPLOAD';
  constructor(detail?: string) {
    super('Invalid upload', detail);
  }
}

/** The file is larger than the configured limit; detected while streaming. */
export class FileTooLarge extends DomainError {
  readonly code = 'FILE_TOO_LARGE';
  readonly limitBytes: number;
  constructor(limitBytes: number) {
    super('File too large', `the limit is ${limitBytes} bytes`);
    this.limitBytes = limitBytes;
  }
}

/**
 * A backend attache depends on cannot serve the request. `reason` is for logs, not for callers:
 * it may name buckets or hosts (never a token).
 */
export abstract class BackendUnavailable extends DomainError {
  readonly reason: string;
  constructor(message: string, reason: string, options?: ErrorOptions) {
    super(message, undefined, options);
    this.reason = reason;
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

/** The token backend cannot say who holds a token (down, too slow, or answering nonsense). */
export class AuthenticationUnavailable extends BackendUnavailable {
  readonly code = 'AUTHENTICATION_UNAVAILABLE';
  constructor(reason: string, options?: ErrorOptions) {
    super('Authentication unavailable', reason, options);
  }
}

/** The service is stopping: it finishes the uploads it has, and takes no new ones. */
export class ShuttingDown extends DomainError {
  readonly code = 'SHUTTING_DOWN';
  constructor() {
    super('Shutting down');
  }
}

/**
 * The malware scanner cannot give a verdict: unreachable, too slow, answering nonsense, or gone
 * mid-scan. Not a verdict on the file: whether to refuse it or take it unscanned is a policy.
 */
export class ScannerUnavailable extends BackendUnavailable {
  readonly code = 'SCANNER_UNAVAILABLE';
  constructor(reason: string, options?: ErrorOptions) {
    super('Scanner unavailable', reason, options);
  }
}

/** The malware scanner found malware in the file; `detail` names the signature that matched. */
export class MalwareFound extends DomainError {
  readonly code = 'MALWARE_FOUND';
  readonly signature: string;
  constructor(signature: string) {
    super('File rejected', signature);
    this.signature = signature;
  }
}

/**
 * The file is larger than the malware scanner reads (clamd's StreamMaxLength): the scanner stopped
 * before its end, so the file is neither clean nor infected. Unlike ScannerUnavailable it is about
 * this file, not the scanner: a retry gets the same answer, and a policy that takes files unscanned
 * while the scanner is down must still refuse it.
 */
export class FileTooLargeToScan extends DomainError {
  readonly code = 'FILE_TOO_LARGE_TO_SCAN';
  /** How the scanner said so; for logs, not for callers. */
  readonly reason: string;
  constructor(reason: string, options?: ErrorOptions) {
    super('File too large to scan', 'the malware scanner does not read files this large', options);
    this.reason = reason;
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

/** The bytes stored are not those whose SHA-256 the client declared. */
export class ChecksumMismatch extends DomainError {
  readonly code = 'CHECKSUM_MISMATCH';
  constructor(detail?: string) {
    super('Checksum mismatch', detail);
  }
}

/** How a limit that refused a request is described to the caller: what it allows, and when it has room again. */
export interface LimitState {
  /** The policy's name, as in the `RateLimit-Policy` header (`uploads`, `auth-failures`, `quota`). */
  readonly policy: string;
  /** How much the policy allows per window (uploads, refused tokens, bytes). */
  readonly limit: number;
  readonly windowSeconds: number;
  /** What is left of it in the current window. */
  readonly remaining: number;
  /** Seconds until the current window ends. */
  readonly resetSeconds: number;
}

/** A caller went over a rate limit (uploads per principal, refused tokens per client address). */
export class TooManyRequests extends DomainError {
  readonly code = 'TOO_MANY_REQUESTS';
  readonly limit: LimitState;
  constructor(limit: LimitState) {
    super('Too many requests', `at most ${limit.limit} per ${limit.windowSeconds} s; retry in ${limit.resetSeconds} s`);
    this.limit = limit;
  }
}

/** An upload would take a principal over its byte quota for the current window. */
export class QuotaExceeded extends DomainError {
  readonly code = 'QUOTA_EXCEEDED';
  readonly limit: LimitState;
  constructor(limit: LimitState) {
    super('Quota exceeded', `${limit.remaining} of ${limit.limit} bytes left for ${limit.resetSeconds} s`);
    this.limit = limit;
  }
}

/**
 * The shared counters behind the limits (Valkey) cannot answer, and RATE_LIMIT_ON_ERROR=reject:
 * uploads are refused rather than taken uncounted.
 */
export class LimitsUnavailable extends BackendUnavailable {
  readonly code = 'LIMITS_UNAVAILABLE';
  constructor(reason: string, options?: ErrorOptions) {
    super('Limits unavailable', reason, options);
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
