import type { ObjectKey } from '../../domain/object-key.ts';

/** What encodeURIComponent leaves as it is, and the segments' separator. */
const URL_SAFE_KEY = /^[A-Za-z0-9\-_.!~*'()/]*$/;

/** `base` + key, each key segment percent-encoded so Unicode names make valid URLs. */
export function publicUrlFor(base: string, key: ObjectKey): string {
  // Most keys (ASCII file names) have nothing to encode: no split, map and join per upload.
  const encoded = URL_SAFE_KEY.test(key) ? key : key.split('/').map(encodeURIComponent).join('/');
  return `${base.replace(/\/+$/, '')}/${encoded}`;
}
