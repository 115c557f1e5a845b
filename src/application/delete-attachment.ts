import { AttachmentNotFound, Forbidden } from '../domain/errors.ts';
import { isRequestableAttachmentKey, PREVIEW_EXTENSIONS, previewKeyFor } from '../domain/object-key.ts';
import { mayDelete, type Principal } from '../domain/principal.ts';
import { authenticate } from './authenticate.ts';
import type { AuthPort } from './ports/auth-port.ts';
import type { ObjectStore } from './ports/object-store.ts';

export interface DeleteAttachmentDeps {
  readonly store: ObjectStore;
  readonly auth: AuthPort;
}

/**
 * Takes an attachment back (a moderator removing an abusive image, an erasure request): an admin
 * may delete any, a store only those it uploaded (the uploader each object records). Removes the
 * file and its preview; the key then reads as not found, and its URL stops serving.
 */
export class DeleteAttachment {
  readonly #store: ObjectStore;
  readonly #auth: AuthPort;

  constructor(deps: DeleteAttachmentDeps) {
    this.#store = deps.store;
    this.#auth = deps.auth;
  }

  /** The principal behind a token; throws Unauthorized as UploadAttachment.authenticate does. */
  authenticate(token: string | undefined): Promise<Principal> {
    return authenticate(this.#auth, token);
  }

  /**
   * Deletes the attachment at `key` (as in its URL: `chat/<folder>/<id>-<name>`).
   * Throws AttachmentNotFound when no attachment is there (never uploaded, already deleted, or not
   * an attachment's key), Forbidden when `principal` may not delete it, StorageUnavailable when the
   * store cannot be reached (then it may be partly deleted: its preview first; a retry finishes it).
   */
  async execute(request: { readonly principal: Principal; readonly key: string }): Promise<void> {
    const { principal, key } = request;
    if (!isRequestableAttachmentKey(key)) throw new AttachmentNotFound(`no attachment at ${key}`);
    const info = await this.#store.stat(key);
    if (info === undefined) throw new AttachmentNotFound(`no attachment at ${key}`);
    if (!mayDelete(principal, info.uploader)) {
      throw new Forbidden(
        principal.id === undefined ? 'a store token without an id may not delete attachments' : 'a store token may delete only the attachments it uploaded',
      );
    }
    // The preview first: were the original gone first, a failure would leave a preview no one can find.
    for (const extension of PREVIEW_EXTENSIONS) await this.#store.delete(previewKeyFor(key, extension));
    await this.#store.delete(key);
  }
}
