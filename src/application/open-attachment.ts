import { AttachmentNotFound } from '../domain/errors.ts';
import { isRequestableAttachmentKey } from '../domain/object-key.ts';
import type { ObjectContent, ObjectInfo, ObjectStore } from './ports/object-store.ts';

/**
 * Where an attachment's stable link lives on attache, `<attache>/v1/chat/files/<key>`: a public name
 * (issue #25) that the HTTP route serves and the stores' `redirect` URLs point at.
 */
export const STABLE_LINK_PREFIX = '/v1/chat/files/';

/** REDIRECT_URL_TTL's default: a presigned URL a redirect points at lives this long. */
export const DEFAULT_REDIRECT_URL_TTL_SECONDS = 300;

/** Where the bytes of an attachment asked for by its stable link are. */
export type OpenedAttachment =
  /** At the backend: `url` is valid for `lifeSeconds` from now (a redirect may be reused for less). */
  | { readonly kind: 'redirect'; readonly url: string; readonly lifeSeconds: number }
  /** With attache (local, memory): the bytes, or for a HEAD only what is known of them. */
  | { readonly kind: 'content'; readonly object: ObjectContent | ObjectInfo };

export interface OpenAttachmentDeps {
  readonly store: ObjectStore;
  /** How long a presigned URL a stable link redirects to lives, in seconds (REDIRECT_URL_TTL). */
  readonly redirectLifeSeconds?: number;
}

/**
 * Answers a stable link, `/v1/chat/files/<key>`, which a chat message may hold for years while a
 * presigned URL dies within days: each time it is followed, the attachment is looked up (an unknown
 * or deleted key is not found), and its bytes are either at a freshly presigned URL of a short life,
 * or (stores with no URL of their own) served by attache.
 */
export class OpenAttachment {
  readonly #store: ObjectStore;
  readonly #lifeSeconds: number;

  constructor(deps: OpenAttachmentDeps) {
    this.#store = deps.store;
    this.#lifeSeconds = deps.redirectLifeSeconds ?? DEFAULT_REDIRECT_URL_TTL_SECONDS;
  }

  /**
   * The attachment at `key` (as in its URL). `bytes: false` for a HEAD: attache's own stores then
   * answer what they know without opening the file. Throws AttachmentNotFound when nothing is there
   * (or `key` is not an attachment's), StorageUnavailable when the store cannot be reached.
   */
  async execute(request: { readonly key: string; readonly bytes: boolean }): Promise<OpenedAttachment> {
    const { key } = request;
    if (!isRequestableAttachmentKey(key)) throw new AttachmentNotFound(`no attachment at ${key}`);
    const info = await this.#store.stat(key);
    if (info === undefined) throw new AttachmentNotFound(`no attachment at ${key}`);
    const url = await this.#store.directUrlFor(key, this.#lifeSeconds);
    if (url !== undefined) return { kind: 'redirect', url, lifeSeconds: this.#lifeSeconds };
    if (!request.bytes) return { kind: 'content', object: info };
    const object = await this.#store.read(key);
    // Deleted between the two looks.
    if (object === undefined) throw new AttachmentNotFound(`no attachment at ${key}`);
    return { kind: 'content', object };
  }
}
