import { Unauthorized } from './errors.ts';

/** Who is uploading. Only admins and stores may upload; their id is optional. */
export type Principal =
  | { readonly kind: 'admin'; readonly id?: string }
  | { readonly kind: 'store'; readonly id?: string };

/** What a token backend says about a token, before attache decides whether it may upload. */
export interface Identity {
  readonly role: string;
  readonly id?: string | number | null;
}

/** Turns a backend's identity into a principal, or refuses any role other than admin and store. */
export function principalFrom(identity: Identity): Principal {
  const role = identity.role.toLowerCase();
  if (role !== 'admin' && role !== 'store') throw new Unauthorized(`role '${identity.role}' may not upload`);
  const id = identity.id === undefined || identity.id === null || identity.id === '' ? undefined : String(identity.id);
  return id === undefined ? { kind: role } : { kind: role, id };
}

/**
 * How a principal is recorded as an object's uploader: `store:42`, `admin:7`, or the bare kind
 * when it has no id. The id is percent-encoded, so the record is printable ASCII that every
 * store's metadata takes (S3's user metadata travels as HTTP headers).
 */
export function uploaderOf(principal: Principal): string {
  return principal.id === undefined ? principal.kind : `${principal.kind}:${encodeURIComponent(principal.id)}`;
}

/**
 * Whether `principal` may delete an attachment recorded as uploaded by `uploader`: an admin any,
 * a store only those it uploaded. A store without an id cannot be told from another store, and
 * an object without a recorded uploader (stored before attache recorded it) has no owner to match:
 * both are for an admin only.
 */
export function mayDelete(principal: Principal, uploader: string | undefined): boolean {
  if (principal.kind === 'admin') return true;
  return principal.id !== undefined && uploader === uploaderOf(principal);
}
