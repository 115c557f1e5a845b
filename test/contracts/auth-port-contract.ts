import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthPort } from '../../src/application/ports/auth-port.ts';

export interface AuthPortUnderTest {
  readonly auth: AuthPort;
  /** Tokens the backend knows, with the identity it must give for each. */
  readonly known: ReadonlyArray<{ readonly token: string; readonly role: string; readonly id?: string | number }>;
  /** A token of a role that may not upload (a customer): identified, then refused by the domain. */
  readonly otherRole?: string;
  readonly close?: () => Promise<void>;
}

/**
 * What every AuthPort adapter must do, whatever its backend (a tokens file, the platform's API):
 * each adapter's test file calls this with a factory for an adapter on its real backend.
 */
export function authPortContract(name: string, make: () => Promise<AuthPortUnderTest>): void {
  describe(`${name} honours the AuthPort contract`, () => {
    let subject: AuthPortUnderTest;
    beforeAll(async () => {
      subject = await make();
    });
    afterAll(async () => {
      await subject?.close?.();
    });

    it('identifies each known token with its role and id', async () => {
      for (const { token, role, id } of subject.known) {
        const identity = await subject.auth.identify(token);
        expect(identity?.role.toLowerCase()).toBe(role);
        if (id !== undefined) expect(String(identity?.id)).toBe(String(id));
      }
    });

    it('answers undefined, never throws, for tokens it does not know', async () => {
      for (const token of ['unknown-token-0000000000', 'x', ' ', `${subject.known[0]!.token}x`, 'Токен', '\u0000'.repeat(8)]) {
        await expect(subject.auth.identify(token)).resolves.toBeUndefined();
      }
    });

    it('gives a token of another role its role, for the domain to refuse', async () => {
      if (subject.otherRole === undefined) return;
      const identity = await subject.auth.identify(subject.otherRole);
      expect(identity).toBeDefined();
      expect(['admin', 'store']).not.toContain(identity!.role.toLowerCase());
    });

    it('answers concurrent calls each with its own identity', async () => {
      const tokens = Array.from({ length: 20 }, (_, i) => subject.known[i % subject.known.length]!);
      const identities = await Promise.all(tokens.map(({ token }) => subject.auth.identify(token)));
      expect(identities.map((identity) => identity?.role.toLowerCase())).toEqual(tokens.map(({ role }) => role));
    });

    it('says it is ready when its backend answers (or has no readiness to tell)', async () => {
      await expect(Promise.resolve(subject.auth.checkReady?.())).resolves.toBeUndefined();
    });
  });
}
