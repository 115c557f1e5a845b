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
