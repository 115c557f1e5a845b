import { Unauthorized } from '../domain/errors.ts';
import { principalFrom, type Principal } from '../domain/principal.ts';
import type { AuthPort } from './ports/auth-port.ts';

/**
 * The principal behind a token, for every use case that needs one. Throws Unauthorized for a
 * missing, unknown or non-admin/store token; lets the AuthPort's own failures through.
 */
export async function authenticate(auth: AuthPort, token: string | undefined): Promise<Principal> {
  if (token === undefined || token.length === 0) throw new Unauthorized('no token');
  const identity = await auth.identify(token);
  if (identity === undefined) throw new Unauthorized('unknown token');
  return principalFrom(identity);
}
