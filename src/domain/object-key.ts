import { extensionOf } from './file-types.ts';

/** Where an object lives in a store: `chat/<folder>/<upload id>-<safe file name>`. */
export type ObjectKey = string & { readonly __brand: 'ObjectKey' };

export const MAX_SAFE_NAME_LENGTH = 100;

/**
 * A form of the client's file name that is safe in any store's key and in a URL path:
 * Unicode letters and digits survive (NFC), everything else ('/', '\\', NUL, controls,
 * '%', '#', '?', spaces, quotes, ...) becomes '_', and the stem is cut so the name stays
 * under MAX_SAFE_NAME_LENGTH characters with its extension intact.
 */
export function safeFileName(original: string): string {
  const normalized = original.normalize('NFC');
  // Only the last path segment: clients (old IE, some SDKs) send full paths.
  const base = normalized.slice(Math.max(normalized.lastIndexOf('/'), normalized.lastIndexOf('\\')) + 1);
  const extension = extensionOf(base);
  const stem = extension === '' ? base : base.slice(0, base.length - extension.length - 1);
  const clean = (s: string) =>
    s
      .replace(/[^\p{L}\p{M}\p{N}._-]+/gu, '_')
      .replace(/_{2,}/g, '_')
      .replace(/\.{2,}/g, '.')
      .replace(/^[._-]+|[._-]+$/g, '');
  const safeExtension = clean(extension).toLowerCase();
  const room = MAX_SAFE_NAME_LENGTH - (safeExtension ? safeExtension.length + 1 : 0);
  // Cut by code points, not UTF-16 units, so a surrogate pair is never split.
  const safeStem = Array.from(clean(stem)).slice(0, Math.max(room, 1)).join('').replace(/[._-]+$/, '') || 'file';
  return safeExtension ? `${safeStem}.${safeExtension}` : safeStem;
}

/** A key unique to one upload, ending in the safe form of the client's file name. */
export function objectKeyFor(folder: string, uploadId: string, originalFileName: string): ObjectKey {
  return `${folder}${uploadId}-${safeFileName(originalFileName)}` as ObjectKey;
}
