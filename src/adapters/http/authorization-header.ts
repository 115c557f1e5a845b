import type { IncomingMessage } from 'node:http';
import { Unauthorized } from '../../domain/errors.ts';

/**
 * The token from `Authorization: Token <token>` (or `Bearer <token>`; scheme case-insensitive).
 * A missing, repeated or malformed header is Unauthorized.
 */
export function tokenFromRequest(req: IncomingMessage): string {
  // Node keeps only the first of repeated Authorization headers in req.headers; an ambiguous
  // request is refused rather than guessed at.
  const values = req.headersDistinct.authorization ?? [];
  if (values.length === 0) throw new Unauthorized('no Authorization header');
  if (values.length > 1) throw new Unauthorized('more than one Authorization header');
  const match = /^(token|bearer) +([^\s]+) *$/i.exec(values[0]!);
  if (!match) throw new Unauthorized('expected "Authorization: Token <token>"');
  return match[2]!;
}
