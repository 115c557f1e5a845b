/** Who may upload, and how much: credentials, rights, rate limits and quotas. */
import { DomainError, BackendUnavailable } from './domain-error.ts';

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

/** The token backend cannot say who holds a token (down, too slow, or answering nonsense). */
export class AuthenticationUnavailable extends BackendUnavailable {
  readonly code = 'AUTHENTICATION_UNAVAILABLE';
  constructor(reason: string, options?: ErrorOptions) {
    super('Authentication unavailable', reason, options);
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
