import { createHash, randomBytes } from 'node:crypto';

export const TOKEN_ROLES = ['admin', 'store'] as const;
export type TokenRole = (typeof TOKEN_ROLES)[number];

/**
 * A new random token and the AUTH_TOKENS_FILE entry that accepts it. The entry holds only the
 * token's SHA-256, so the tokens file can be read by many without revealing any token.
 */
export function newTokenEntry(role: TokenRole, id: string | undefined) {
  // 32 random bytes: 256 bits, URL- and header-safe.
  const token = `attache_${randomBytes(32).toString('base64url')}`;
  const sha256 = createHash('sha256').update(token, 'utf8').digest('hex');
  const entry = id === undefined ? { sha256, role } : { sha256, role, id };
  return { token, entry };
}
