import { InvalidSessionId } from './errors.ts';
import type { Principal } from './principal.ts';

export const MAX_SESSION_ID_LENGTH = 128;
// Letters, digits, '-' and '_' only: no dots (so no '..'), no separators, nothing to escape in a URL.
const SAFE_IDENTIFIER = /^[A-Za-z0-9_-]+$/;

/**
 * Checks a client-supplied session id. `undefined` means "not sent"; anything sent must be
 * a safe identifier, because it becomes part of every key in the session's folder.
 */
export function parseSessionId(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (raw.length === 0) throw new InvalidSessionId('session_id must not be empty');
  if (raw.length > MAX_SESSION_ID_LENGTH) {
    throw new InvalidSessionId(`session_id must be at most ${MAX_SESSION_ID_LENGTH} characters`);
  }
  if (!SAFE_IDENTIFIER.test(raw)) {
    throw new InvalidSessionId('session_id may contain only letters, digits, "-" and "_"');
  }
  return raw;
}

/** Whether `id` may name a folder: letters, digits, '-' and '_', at most MAX_SESSION_ID_LENGTH of them. */
export function isSafeIdentifier(id: string): boolean {
  return id.length > 0 && id.length <= MAX_SESSION_ID_LENGTH && SAFE_IDENTIFIER.test(id);
}

/** Ids from token backends are trusted but still must not break out of their folder. */
function safePrincipalId(id: string | undefined): string | undefined {
  return id !== undefined && isSafeIdentifier(id) ? id : undefined;
}

/**
 * The spec's folder rule: the session's folder when a session id is given, else the store's
 * or the admin's own folder, else the general one. Always ends in '/'.
 */
export function folderFor(principal: Principal, sessionId: string | undefined): string {
  const session = parseSessionId(sessionId);
  if (session !== undefined) return `chat/session-${session}/`;
  const id = safePrincipalId(principal.id);
  if (id !== undefined) return `chat/${principal.kind}-${id}/`;
  return 'chat/general/';
}
