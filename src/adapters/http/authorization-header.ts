import type { IncomingMessage } from 'node:http';
import { Unauthorized } from '../../domain/errors.ts';

/**
 * The token from `Authorization: Token <token>` (or `Bearer <token>`; scheme case-insensitive).
 * A missing, repeated or malformed header is Unauthorized.
 */
export function tokenFromRequest(req: IncomingMessage): string {
  // Node keeps only the first of repeated Authorization headers in req.headers; an ambiguous
  // request is refused rather than guessed at. Counted in rawHeaders: req.headersDistinct would
  // build arrays for every header of every request.
  const value = req.headers.authorization;
  if (value === undefined) throw new Unauthorized('no Authorization header');
  if (authorizationHeaderCount(req.rawHeaders) > 1) throw new Unauthorized('more than one Authorization header');
  const match = /^(token|bearer) +([^\s]+) *$/i.exec(value);
  if (!match) throw new Unauthorized('expected "Authorization: Token <token>"');
  return match[2]!;
}

/** How many Authorization headers `rawHeaders` (names and values, alternating) holds. */
function authorizationHeaderCount(rawHeaders: readonly string[]): number {
  let count = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length === 13 && name.toLowerCase() === 'authorization') count++;
  }
  return count;
}
