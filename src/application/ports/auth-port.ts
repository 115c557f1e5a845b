import type { Identity } from '../../domain/principal.ts';

/** Who holds a token. */
export interface AuthPort {
  /**
   * The identity behind `token`, or undefined when the token is unknown, expired or revoked.
   * Never throws for a bad token; throws only when the token backend itself cannot answer.
   */
  identify(token: string): Promise<Identity | undefined>;

  /**
   * Optional. Resolves when the token backend can answer now; otherwise throws a DomainError
   * saying why not (one whose code the HTTP adapter maps to 503, e.g. AUTHENTICATION_UNAVAILABLE;
   * anything else is reported as a bug). Ports with nothing remote to reach (a static token list)
   * leave it out, and readiness then depends on the store alone.
   */
  checkReady?(): Promise<void>;
}
