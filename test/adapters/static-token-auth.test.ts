import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StaticTokenAuth } from '../../src/adapters/auth/static-token-auth.ts';
import { authPortContract } from '../contracts/auth-port-contract.ts';
import { InMemoryObjectStore } from '../../src/adapters/object-store/in-memory/in-memory-object-store.ts';
import { loadConfig } from '../../src/composition/config.ts';
import { createAuth } from '../../src/composition/adapters.ts';
import { startAttache } from '../../src/composition/service.ts';
import { fileNamed } from '../support/file-heads.ts';
import { freePort } from '../support/free-port.ts';

const run = promisify(execFile);
const STORE_TOKEN = 'store-secret-token-for-sha256-test';
const ADMIN_TOKEN = 'admin-secret-token-kept-as-is-0001';

authPortContract('StaticTokenAuth, from a tokens file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'attache-tokens-'));
  const file = join(dir, 'tokens.json');
  await writeFile(
    file,
    JSON.stringify({
      tokens: [
        { token: 'contract-store-token-000001', role: 'store', id: 42 },
        { sha256: createHash('sha256').update('contract-admin-token-000002').digest('hex'), role: 'admin', id: '7' },
        { token: 'contract-customer-token-003', role: 'customer' },
      ],
    }),
  );
  return {
    auth: await StaticTokenAuth.fromFile(file),
    known: [
      { token: 'contract-store-token-000001', role: 'store', id: 42 },
      { token: 'contract-admin-token-000002', role: 'admin', id: '7' },
    ],
    otherRole: 'contract-customer-token-003',
    close: () => rm(dir, { recursive: true, force: true }),
  };
});

describe('StaticTokenAuth with sha256 entries', () => {
  let dir: string;
  let tokensFile: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'attache-tokens-'));
    tokensFile = join(dir, 'tokens.json');
    // Computed as the README tells operators to: printf %s "$TOKEN" | sha256sum
    const { stdout } = await run('sh', ['-c', `printf %s "${STORE_TOKEN}" | sha256sum`]);
    const digest = stdout.split(' ')[0]!;
    expect(digest).toBe(createHash('sha256').update(STORE_TOKEN).digest('hex'));
    await writeFile(
      tokensFile,
      JSON.stringify({
        tokens: [
          { sha256: digest.toUpperCase(), role: 'store', id: '9' },
          { token: ADMIN_TOKEN, role: 'admin', id: '1' },
        ],
      }),
    );
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('accepts the token whose digest is listed (any hex case), and the plain entry beside it', async () => {
    const auth = await StaticTokenAuth.fromFile(tokensFile);
    expect(await auth.identify(STORE_TOKEN)).toEqual({ role: 'store', id: '9' });
    expect(await auth.identify(ADMIN_TOKEN)).toEqual({ role: 'admin', id: '1' });
    expect(await auth.identify(createHash('sha256').update(STORE_TOKEN).digest('hex'))).toBeUndefined();
    expect(await auth.identify(`${STORE_TOKEN}x`)).toBeUndefined();
  });

  it.each([
    [{ tokens: [{ sha256: 'abc', role: 'store' }] }, /sha256 must be 64 hex digits/],
    [{ tokens: [{ sha256: 'a'.repeat(64), token: 'x'.repeat(20), role: 'store' }] }, /exactly one of/],
  ])('refuses a malformed file %j in one line', async (content, message) => {
    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify(content));
    await expect(StaticTokenAuth.fromFile(bad)).rejects.toThrow(message);
  });

  it('serves uploads with a sha256-listed token, and never writes a token to the logs', async () => {
    const logs: string[] = [];
    const logger = pino({ level: 'trace' }, { write: (line: string) => logs.push(line) });
    const config = loadConfig({ PORT: String(await freePort()), STORAGE_DRIVER: 'memory', AUTH_TOKENS_FILE: tokensFile });
    const { auth } = await createAuth(config);
    // A store that fails in a way attache does not know: the 500 path logs the error in full.
    const store = new InMemoryObjectStore({ publicBaseUrl: 'http://files.example' });
    const running = await startAttache(config, { logger, auth, store });
    try {
      const upload = async (token: string, name = 'a.gif') => {
        const form = new FormData();
        form.append('file', new Blob([fileNamed(name)]), name);
        const response = await fetch(`${running.url}/v1/chat/upload/`, { method: 'POST', headers: { Authorization: `Token ${token}` }, body: form });
        return { status: response.status, body: (await response.json()) as Record<string, string> };
      };
      const ok = await upload(STORE_TOKEN);
      expect(ok.status).toBe(200);
      expect(ok.body.url).toContain('/chat/store-9/');
      expect((await upload('wrong-token-0000000000000')).status).toBe(401);
      store.put = async () => {
        throw new Error('disk on fire');
      };
      expect((await upload(STORE_TOKEN)).status).toBe(500);
      const logged = logs.join('\n');
      expect(logged).toContain('request failed');
      for (const secret of [STORE_TOKEN, ADMIN_TOKEN, 'wrong-token-0000000000000']) expect(logged).not.toContain(secret);
    } finally {
      await running.close();
    }
  });
});
