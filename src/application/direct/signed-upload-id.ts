import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { Principal } from '../../domain/principal.ts';

/** What a direct upload's `upload_id` carries: all that its completion needs, so that no instance has to remember it. */
export interface DirectUploadClaims {
  /** The upload's own id: its staged key and its final key are made from it. */
  readonly id: string;
  /** Whose upload it is: only they may complete or cancel it. */
  readonly principal: Principal;
  readonly fileName: string;
  /** Exactly how many bytes the client said it would send; undefined for a multipart upload, whose size is known at its end. */
  readonly size: number | undefined;
  readonly sessionId: string | undefined;
  /** Declared SHA-256, lower-case hex, when the client gave one. */
  readonly sha256: string | undefined;
  /** When the storage URL stops working, in seconds since the epoch. */
  readonly expiresAt: number;
  /** The storage's id of the multipart upload, for an upload sent in parts (DirectMultipartUpload). */
  readonly multipartId?: string | undefined;
}

/** The wire form of the claims: short names, as the id travels in URLs. */
interface Wire {
  readonly v: 1;
  readonly i: string;
  readonly k: Principal['kind'];
  readonly p?: string;
  readonly n: string;
  readonly s?: number;
  readonly d?: string;
  readonly h?: string;
  readonly e: number;
  readonly m?: string;
}

/**
 * Makes and checks `upload_id`s: the claims as base64url JSON, a dot, and their HMAC-SHA256 under
 * the current secret. Ids signed with any of the secrets given are accepted, so a secret can be
 * rotated without failing the uploads in flight: the new one first, the old one second until the
 * last id it signed has expired. Stateless by design: any instance with the secrets completes what
 * any other issued. The claims are readable by whoever holds the id (its owner): they hold nothing
 * the owner did not send.
 */
export class SignedUploadIds {
  /** KeyObjects made once: an HMAC under a Buffer makes a KeyObject per call, four fifths of its cost for an id of a few hundred bytes. */
  readonly #secrets: readonly KeyObject[];

  /** `secrets`: the one to sign with first, then any still accepted. */
  constructor(secrets: readonly string[]) {
    if (secrets.length === 0) throw new TypeError('SignedUploadIds: at least one secret is needed');
    this.#secrets = secrets.map((secret) => createSecretKey(Buffer.from(secret, 'utf8')));
  }

  sign(claims: DirectUploadClaims): string {
    const wire: Wire = {
      v: 1,
      i: claims.id,
      k: claims.principal.kind,
      ...(claims.principal.id !== undefined && { p: claims.principal.id }),
      n: claims.fileName,
      ...(claims.size !== undefined && { s: claims.size }),
      ...(claims.sessionId !== undefined && { d: claims.sessionId }),
      ...(claims.sha256 !== undefined && { h: claims.sha256 }),
      e: claims.expiresAt,
      ...(claims.multipartId !== undefined && { m: claims.multipartId }),
    };
    const payload = Buffer.from(JSON.stringify(wire)).toString('base64url');
    return `${payload}.${mac(this.#secrets[0]!, payload).toString('base64url')}`;
  }

  /** The claims of an id one of the secrets signed, or undefined for anything else (malformed, tampered, unknown). Expiry is the caller's to judge. */
  verify(uploadId: string): DirectUploadClaims | undefined {
    const dot = uploadId.indexOf('.');
    if (dot <= 0 || uploadId.length > 4096) return undefined;
    const payload = uploadId.slice(0, dot);
    const given = Buffer.from(uploadId.slice(dot + 1), 'base64url');
    const signedByUs = this.#secrets.some((secret) => {
      const expected = mac(secret, payload);
      return given.length === expected.length && timingSafeEqual(given, expected);
    });
    if (!signedByUs) return undefined;
    try {
      const w = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Wire;
      if (w.v !== 1) return undefined;
      const principal: Principal = w.p === undefined ? { kind: w.k } : { kind: w.k, id: w.p };
      return { id: w.i, principal, fileName: w.n, size: w.s, sessionId: w.d, sha256: w.h, expiresAt: w.e, multipartId: w.m };
    } catch {
      return undefined;
    }
  }
}

function mac(secret: KeyObject, payload: string): Buffer {
  return createHmac('sha256', secret).update(payload).digest();
}
