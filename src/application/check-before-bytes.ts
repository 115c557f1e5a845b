import { allowedExtensionOf, checkFileName, type AllowedExtension } from '../domain/file-types.ts';
import { folderFor } from '../domain/folder-policy.ts';
import type { Principal } from '../domain/principal.ts';

/**
 * Everything about an upload that can be refused before a byte of it is read, in the order a
 * client learns of it: the session id (when known: `undefined` while it is still to come), the
 * file name, its extension. Throws InvalidSessionId, InvalidFileName or UnsupportedFileType.
 */
export function checkBeforeBytes(
  principal: Principal,
  session: { readonly sessionId: string | undefined } | undefined,
  fileName: string,
): { folder: string | undefined; extension: AllowedExtension } {
  const folder = session === undefined ? undefined : folderFor(principal, session.sessionId);
  checkFileName(fileName);
  return { folder, extension: allowedExtensionOf(fileName) };
}
