/** What a file (its name, session id, type, size, bytes) is refused for. */
import { DomainError, BackendUnavailable } from './domain-error.ts';

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

/**
 * A request's small JSON body (a direct upload's announcement, Uppy's calls) is over its bound: not
 * malformed, too large, so 413 like the file limit, with words of its own.
 */
export class RequestBodyTooLarge extends DomainError {
  readonly code = 'REQUEST_BODY_TOO_LARGE';
  readonly limitBytes: number;
  constructor(limitBytes: number) {
    super('Request body too large', `the JSON body must be at most ${limitBytes} bytes`);
    this.limitBytes = limitBytes;
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

/** The bytes stored are not those whose SHA-256 the client declared. */
export class ChecksumMismatch extends DomainError {
  readonly code = 'CHECKSUM_MISMATCH';
  constructor(detail?: string) {
    super('Checksum mismatch', detail);
  }
}
