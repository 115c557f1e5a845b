import { hash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { AuthPort } from '../../application/ports/auth-port.ts';
import type { Identity } from '../../domain/principal.ts';

// The one-shot hash: createHash builds a Hash object per call, ~20 us of every request's CPU.
const sha256Hex = (token: string) => hash('sha256', token, 'hex');

const tokenEntry = z
  .object({
    token: z.string().min(16, 'a token must be at least 16 characters').optional(),
    sha256: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, 'sha256 must be 64 hex digits')
      .optional(),
    role: z.string().min(1),
    id: z.union([z.string(), z.number()]).optional(),
  })
  .refine((e) => (e.token === undefined) !== (e.sha256 === undefined), 'each entry needs exactly one of "token" or "sha256"');
const tokensFile = z.object({ tokens: z.array(tokenEntry) });
export type TokenEntry = z.infer<typeof tokenEntry>;

/**
 * Tokens listed in configuration. Presented tokens are hashed and looked up by digest, so the
 * lookup's timing says nothing about the secrets, and entries may hold the digest instead of
 * the token itself.
 */
export class StaticTokenAuth implements AuthPort {
  readonly #byDigest: ReadonlyMap<string, Identity>;

  constructor(entries: readonly TokenEntry[]) {
    this.#byDigest = new Map(
      entries.map((e) => [e.sha256?.toLowerCase() ?? sha256Hex(e.token!), e.id === undefined ? { role: e.role } : { role: e.role, id: e.id }]),
    );
  }

  /** Reads `{"tokens":[{"token":"...","role":"admin"|"store","id":"7"}]}`; throws a one-line Error naming what is wrong. */
  static async fromFile(path: string): Promise<StaticTokenAuth> {
    return new StaticTokenAuth(await StaticTokenAuth.readFile(path));
  }

  /** The entries of a tokens file (see fromFile). */
  static async readFile(path: string): Promise<TokenEntry[]> {
    let json: unknown;
    try {
      json = JSON.parse(await readFile(path, 'utf8'));
    } catch (error) {
      throw new Error(`cannot read ${path}: ${(error as Error).message}`);
    }
    const parsed = tokensFile.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new Error(`${path}: ${issue.path.join('.') || 'file'}: ${issue.message}`);
    }
    if (parsed.data.tokens.length === 0) throw new Error(`${path}: lists no tokens`);
    return parsed.data.tokens;
  }

  /** One admin and one store token, random, for trying attache out on a development machine. */
  static development(): { auth: StaticTokenAuth; tokens: { admin: string; store: string } } {
    const { entries, tokens } = StaticTokenAuth.developmentEntries();
    return { auth: new StaticTokenAuth(entries), tokens };
  }

  /** The entries behind development(): an admin (id 1) and a store (id 1), each with a random token. */
  static developmentEntries(): { entries: TokenEntry[]; tokens: { admin: string; store: string } } {
    const tokens = { admin: `dev-admin-${randomBytes(16).toString('hex')}`, store: `dev-store-${randomBytes(16).toString('hex')}` };
    const entries: TokenEntry[] = [
      { token: tokens.admin, role: 'admin', id: '1' },
      { token: tokens.store, role: 'store', id: '1' },
    ];
    return { entries, tokens };
  }

  async identify(token: string): Promise<Identity | undefined> {
    return this.#byDigest.get(sha256Hex(token));
  }
}
