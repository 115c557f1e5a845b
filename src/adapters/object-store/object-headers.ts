import { create as formatContentDisposition, parse as parseContentDisposition } from 'content-disposition';
import type { Disposition, ObjectMeta } from '../../application/ports/object-store.ts';

/** Keys are unique per upload and objects never change, so caches may keep them for good. */
export const IMMUTABLE_CACHE_CONTROL = 'public, max-age=31536000, immutable';

/** RFC 6266 Content-Disposition: an ASCII `filename` fallback plus RFC 8187 `filename*` for any other name. */
export function contentDispositionFor(meta: Pick<ObjectMeta, 'fileName' | 'disposition'>): string {
  return formatContentDisposition(meta.fileName, { type: meta.disposition });
}

/**
 * The original name and disposition back from a stored Content-Disposition. Objects stored by
 * other tools, or with a malformed header, get the key's last segment and `attachment`.
 */
export function dispositionFrom(header: string | undefined, key: string): { fileName: string; disposition: Disposition } {
  const fallback = { fileName: key.slice(key.lastIndexOf('/') + 1), disposition: 'attachment' as const };
  if (!header) return fallback;
  try {
    const parsed = parseContentDisposition(header);
    return { fileName: parsed.parameters['filename'] ?? fallback.fileName, disposition: parsed.type === 'inline' ? 'inline' : 'attachment' };
  } catch {
    return fallback;
  }
}
