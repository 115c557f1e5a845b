import type { IncomingMessage } from 'node:http';
import { InvalidIdempotencyKey } from '../../domain/errors.ts';

/** A Structured Field string (RFC 9651 §3.3.3): printable ASCII in quotes, `\"` and `\\` escaped. */
const SF_STRING = /^"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"$/;
/** Leniency: a bare key, as many clients send one (`Idempotency-Key: 8e03978e-…`): visible ASCII, no quotes or commas. */
const BARE_KEY = /^[\x21\x23-\x2b\x2d-\x7e]+$/;

/**
 * The request's Idempotency-Key (draft-ietf-httpapi-idempotency-key-header), or undefined when
 * it sent none. The draft makes it a Structured Field string (`Idempotency-Key: "8e03978e"`); a
 * bare token (`Idempotency-Key: 8e03978e`) is taken too, as the same key. Throws
 * InvalidIdempotencyKey for an empty value, one sent twice, or neither form; its length is the
 * use case's rule.
 */
export function idempotencyKeyOf(req: IncomingMessage): string | undefined {
  const raw = req.headers['idempotency-key'];
  if (raw === undefined) return undefined;
  // Node joins a header sent twice with ", ", which neither form below allows.
  const value = (Array.isArray(raw) ? raw.join(', ') : raw).trim();
  if (value === '') throw new InvalidIdempotencyKey('the key is empty');
  const quoted = SF_STRING.exec(value);
  if (quoted) return quoted[1]!.replace(/\\(["\\])/g, '$1');
  if (BARE_KEY.test(value)) return value;
  throw new InvalidIdempotencyKey('send one key, as a quoted string ("…") of printable ASCII, or a bare token without spaces, quotes or commas');
}
