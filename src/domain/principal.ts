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
