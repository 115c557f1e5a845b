import type { ObjectKey } from '../../domain/object-key.ts';

/** `base` + key, each key segment percent-encoded so Unicode names make valid URLs. */
export function publicUrlFor(base: string, key: ObjectKey): string {
  const encoded = key.split('/').map(encodeURIComponent).join('/');
  return `${base.replace(/\/+$/, '')}/${encoded}`;
}
