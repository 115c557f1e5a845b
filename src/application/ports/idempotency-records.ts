/** What is known of a key: nothing yet (and now it is this caller's), an upload in flight, or a finished one. */
export type IdempotencyClaim =
  /** The key was free: it is now in flight for this caller, under `claimId`, until it finishes, is released or times out. */
  | { readonly state: 'claimed'; readonly claimId: string }
  /** Another request holds the key and has not finished. */
  | { readonly state: 'in-flight' }
  /** A request with this key finished: what it was sent, and what it answered. */
  | { readonly state: 'finished'; readonly record: IdempotencyRecord };

/** A finished request, as kept for its retries. */
export interface IdempotencyRecord {
  /** What identifies the request's payload (the file's size and SHA-256 as sent): a retry must send the same. */
  readonly fingerprint: string;
  /** The answer, serialized by the caller (JSON); answered again to every retry. */
  readonly answer: string;
}

/**
 * Requests that must run once per `Idempotency-Key` (draft-ietf-httpapi-idempotency-key-header),
 * shared by every instance: the key's claim while its request runs, then that request's answer
 * for the retries. One in-process adapter for a single instance, one over Valkey for many; both
 * pass test/contracts/idempotency-records-contract.ts.
 *
 * Keys are opaque to the records: the caller hashes whatever they are made of (a principal and
 * the client's key), so nothing readable by whoever reads Valkey names a caller or a token.
 * Every method throws IdempotencyUnavailable when the records cannot answer (Valkey down, too slow).
 */
export interface IdempotencyRecords {
  /**
   * Atomically claims `key` for `inFlightMs` when nothing is known of it; otherwise answers what
   * is (another claim in flight, or a finished record). Of concurrent claims, from any instance,
   * exactly one is `claimed`. A claim not finished nor released within `inFlightMs` lapses (its
   * instance died), and the key is free again.
   */
  claim(key: string, inFlightMs: number): Promise<IdempotencyClaim>;

  /** Replaces the claim with the finished request's record, kept `ttlMs` (whatever became of the claim meanwhile). */
  finish(key: string, claimId: string, record: IdempotencyRecord, ttlMs: number): Promise<void>;

  /**
   * Drops the claim `claimId` (its request failed, so that a retry runs it again). Leaves the key
   * alone when it holds anything else: another request's claim, or a finished record.
   */
  release(key: string, claimId: string): Promise<void>;

  /** Resolves when the records can answer now; throws IdempotencyUnavailable saying why not. */
  checkReady(): Promise<void>;

  /** Lets go of connections; further calls fail. */
  close(): Promise<void>;
}
