import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpIntrospectionAuth, INTROSPECTION_ANSWER_MAX_BYTES, type HttpIntrospectionAuthOptions } from '../../src/adapters/auth/http-introspection-auth.ts';
import { loadConfig } from '../../src/composition/config.ts';
import { AuthenticationUnavailable } from '../../src/domain/errors.ts';
import { startAttache, type RunningAttache } from '../../src/composition/service.ts';
import { fileNamed } from '../support/file-heads.ts';
import { freePort } from '../support/free-port.ts';
import { startTokenBackend, type TokenBackendBehaviour } from '../support/token-backend.ts';
import { authPortContract } from '../contracts/auth-port-contract.ts';

const GOOD = 'good-store-token-0001';
const ADMIN = 'good-admin-token-0002';
const CUSTOMER = 'customer-token-0003';

/** The platform's answers: Django-REST style, the role nested under `user`. */
function platform(authorization: string | undefined): TokenBackendBehaviour {
  if (authorization === `Token ${GOOD}`) return { kind: 'json', body: { user: { role: 'store', id: 42 } } };
  if (authorization === `Token ${ADMIN}`) return { kind: 'json', body: { user: { role: 'admin', id: '7' } } };
  if (authorization === `Token ${CUSTOMER}`) return { kind: 'json', body: { user: { role: 'customer', id: 5 } } };
  return { kind: 'status', status: 401 };
}

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (stops.length) await stops.pop()!();
});

async function backend(answer: (authorization: string | undefined) => TokenBackendBehaviour) {
  const b = await startTokenBackend(answer);
  stops.push(b.stop);
  return b;
}

function auth(url: string, overrides: Partial<HttpIntrospectionAuthOptions> = {}) {
  return new HttpIntrospectionAuth({
    url,
    roleField: 'user.role',
    idField: 'user.id',
    cacheTtlSeconds: 60,
    negativeCacheTtlSeconds: 10,
    cacheMaxEntries: 100,
    timeoutMs: 2000,
    ...overrides,
  });
}

authPortContract('HttpIntrospectionAuth, asking a real HTTP token backend', async () => {
  const b = await startTokenBackend(platform);
  return {
    auth: auth(b.url),
    known: [
      { token: GOOD, role: 'store', id: 42 },
      { token: ADMIN, role: 'admin', id: '7' },
    ],
    otherRole: CUSTOMER,
    close: b.stop,
  };
});

describe('HttpIntrospectionAuth against a real HTTP server', () => {
  it('forwards the token as "Authorization: Token <t>" and maps role and id through dotted fields', async () => {
    const b = await backend(platform);
    const a = auth(b.url);
    expect(await a.identify(GOOD)).toEqual({ role: 'store', id: 42 });
    expect(await a.identify(ADMIN)).toEqual({ role: 'admin', id: '7' });
    expect(b.requests).toEqual([`Token ${GOOD}`, `Token ${ADMIN}`]);
  });

  it('reads top-level fields by default names', async () => {
    const b = await backend(() => ({ kind: 'json', body: { role: 'admin', id: 3, email: 'a@b.c' } }));
    expect(await auth(b.url, { roleField: 'role', idField: 'id' }).identify(GOOD)).toEqual({ role: 'admin', id: 3 });
  });

  it('returns an identity without id when the id is null or missing', async () => {
    const b = await backend(() => ({ kind: 'json', body: { user: { role: 'store', id: null } } }));
    expect(await auth(b.url).identify(GOOD)).toEqual({ role: 'store' });
  });

  it.each([401, 403, 404])('treats %i from the backend as an unknown token', async (status) => {
    const b = await backend(() => ({ kind: 'status', status }));
    expect(await auth(b.url).identify('whatever-token')).toBeUndefined();
  });

  it('caches known tokens for the TTL: the backend sees one request until it expires', async () => {
    const b = await backend(platform);
    let now = 1_000_000;
    const a = auth(b.url, { now: () => now });
    for (let i = 0; i < 5; i++) expect(await a.identify(GOOD)).toEqual({ role: 'store', id: 42 });
    expect(b.requests).toHaveLength(1);
    now += 59_999;
    await a.identify(GOOD);
    expect(b.requests).toHaveLength(1);
    now += 2;
    await a.identify(GOOD);
    expect(b.requests).toHaveLength(2);
  });

  it('caches unknown tokens for the shorter negative TTL', async () => {
    const b = await backend(platform);
    let now = 1_000_000;
    const a = auth(b.url, { now: () => now });
    for (let i = 0; i < 5; i++) expect(await a.identify('bad-token')).toBeUndefined();
    expect(b.requests).toHaveLength(1);
    now += 10_001;
    await a.identify('bad-token');
    expect(b.requests).toHaveLength(2);
  });

  it('does not cache when the TTL is 0', async () => {
    const b = await backend(platform);
    const a = auth(b.url, { cacheTtlSeconds: 0, negativeCacheTtlSeconds: 0 });
    await a.identify(GOOD);
    await a.identify(GOOD);
    await a.identify('bad');
    await a.identify('bad');
    expect(b.requests).toHaveLength(4);
  });

  it('bounds the cache, dropping the oldest entry first', async () => {
    const b = await backend(() => ({ kind: 'json', body: { user: { role: 'store' } } }));
    const a = auth(b.url, { cacheMaxEntries: 2 });
    await a.identify('token-a');
    await a.identify('token-b');
    await a.identify('token-c'); // evicts token-a
    await a.identify('token-b');
    await a.identify('token-c');
    expect(b.requests).toHaveLength(3);
    await a.identify('token-a');
    expect(b.requests).toHaveLength(4);
  });

  const unavailable: Array<[string, TokenBackendBehaviour]> = [
    ['500', { kind: 'status', status: 500 }],
    ['502', { kind: 'status', status: 502 }],
    ['an HTML 200', { kind: 'raw', status: 200, body: '<html>maintenance</html>' }],
    ['a 200 without the role field', { kind: 'json', body: { user: { id: 1 } } }],
    ['a 200 with a non-string role', { kind: 'json', body: { user: { role: ['admin'] } } }],
    ['a 200 with an object id', { kind: 'json', body: { user: { role: 'admin', id: { x: 1 } } } }],
    ['a 302 redirect', { kind: 'status', status: 302 }],
  ];
  it.each(unavailable)('throws AuthenticationUnavailable for %s, and caches nothing', async (_, behaviour) => {
    const b = await backend(() => behaviour);
    const a = auth(b.url);
    await expect(a.identify(GOOD)).rejects.toBeInstanceOf(AuthenticationUnavailable);
    await expect(a.identify(GOOD)).rejects.toBeInstanceOf(AuthenticationUnavailable);
    expect(b.requests).toHaveLength(2);
  });

  it('throws AuthenticationUnavailable when the backend does not answer in time', async () => {
    const b = await backend(() => ({ kind: 'hang' }));
    await expect(auth(b.url, { timeoutMs: 200 }).identify(GOOD)).rejects.toBeInstanceOf(AuthenticationUnavailable);
  });

  it('throws AuthenticationUnavailable when the backend is down', async () => {
    const b = await startTokenBackend(platform);
    const a = auth(b.url);
    await b.stop();
    await expect(a.identify(GOOD)).rejects.toBeInstanceOf(AuthenticationUnavailable);
  });
});

describe('HttpIntrospectionAuth against a hostile or flooded backend (#21)', () => {
  it.each([
    ['declared in Content-Length', true],
    ['streamed without a length', false],
  ])('refuses an answer over 16 KiB (%s) as unavailable, without holding it', async (_, declareLength) => {
    const b = await backend(() => ({ kind: 'endless', bytes: 400 * 1024 * 1024, declareLength }));
    const before = process.memoryUsage().rss;
    const error = await auth(b.url).identify(GOOD).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthenticationUnavailable);
    expect((error as AuthenticationUnavailable).reason).toMatch(`answered more than ${INTROSPECTION_ANSWER_MAX_BYTES} bytes`);
    expect(INTROSPECTION_ANSWER_MAX_BYTES).toBe(16 * 1024);
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 1024 * 1024);
  });

  it('accepts an answer of exactly 16 KiB', async () => {
    const pad = 'x'.repeat(INTROSPECTION_ANSWER_MAX_BYTES - JSON.stringify({ user: { role: 'store', id: 1, pad: '' } }).length);
    const b = await backend(() => ({ kind: 'json', body: { user: { role: 'store', id: 1, pad } } }));
    expect(await auth(b.url).identify(GOOD)).toEqual({ role: 'store', id: 1 });
  });

  it.each([
    ['an unknown token', 'made-up-token', undefined],
    ['a known token', GOOD, { role: 'store', id: 42 }],
  ])('asks the backend once for 20 concurrent lookups of %s', async (_, token, expected) => {
    const slow = await backend((authorization) => {
      const answer = platform(authorization);
      return answer.kind === 'json' ? { ...answer, delayMs: 100 } : answer;
    });
    const a = auth(slow.url);
    const answers = await Promise.all(Array.from({ length: 20 }, () => a.identify(token)));
    expect(answers).toEqual(Array(20).fill(expected));
    expect(slow.requests).toHaveLength(1);
  });

  it('a failure reaches every waiter and is not cached: the next lookup asks again', async () => {
    let down = true;
    const b = await backend((authorization) => (down ? { kind: 'status', status: 502 } : platform(authorization)));
    const a = auth(b.url);
    const answers = await Promise.allSettled(Array.from({ length: 5 }, () => a.identify(GOOD)));
    expect(answers.every((r) => r.status === 'rejected' && r.reason instanceof AuthenticationUnavailable)).toBe(true);
    expect(b.requests).toHaveLength(1);
    down = false;
    expect(await a.identify(GOOD)).toEqual({ role: 'store', id: 42 });
    expect(b.requests).toHaveLength(2);
  });

  it('keeps unknown tokens apart: a flood of made-up tokens does not evict a valid one', async () => {
    const b = await backend(platform);
    const a = auth(b.url, { cacheMaxEntries: 10 });
    expect(await a.identify(GOOD)).toEqual({ role: 'store', id: 42 });
    for (let i = 0; i < 50; i++) expect(await a.identify(`made-up-${i}`)).toBeUndefined();
    expect(await a.identify(GOOD)).toEqual({ role: 'store', id: 42 });
    expect(b.requests.filter((r) => r === `Token ${GOOD}`)).toHaveLength(1);
  });
});

describe('attache with AUTH_INTROSPECTION_URL', () => {
  async function attacheWith(backendUrl: string, extra: Record<string, string> = {}) {
    const port = await freePort();
    const logs: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => logs.push(line) });
    const config = loadConfig({
      PORT: String(port),
      STORAGE_DRIVER: 'memory',
      AUTH_INTROSPECTION_URL: backendUrl,
      AUTH_ROLE_FIELD: 'user.role',
      AUTH_ID_FIELD: 'user.id',
      AUTH_TIMEOUT_MS: '300',
      ...extra,
    });
    const running: RunningAttache = await startAttache(config, { logger });
    stops.push(() => running.close());
    const upload = async (token: string) => {
      const form = new FormData();
      form.append('file', new Blob([fileNamed('a.png')]), 'a.png');
      const response = await fetch(`${running.url}/v1/chat/upload/`, { method: 'POST', headers: { Authorization: `Token ${token}` }, body: form });
      return { status: response.status, body: (await response.json()) as Record<string, string> };
    };
    return { upload, logs };
  }

  it('uploads for a store token, under its id; refuses a customer and an unknown token with 401', async () => {
    const b = await backend(platform);
    const { upload } = await attacheWith(b.url);
    const ok = await upload(GOOD);
    expect(ok.status).toBe(200);
    expect(ok.body.url).toContain('/chat/store-42/');
    expect(await upload(CUSTOMER)).toEqual({ status: 401, body: { error: 'Unauthorized' } });
    expect(await upload('unknown-token-xyz')).toEqual({ status: 401, body: { error: 'Unauthorized' } });
  });

  const failures: Array<[string, TokenBackendBehaviour]> = [
    ['answers 500', { kind: 'status', status: 500 }],
    ['answers 503', { kind: 'status', status: 503 }],
    ['answers garbage', { kind: 'raw', status: 200, body: 'not json' }],
    ['times out', { kind: 'hang' }],
  ];
  it.each(failures)('answers 503 Authentication unavailable when the backend %s, and never logs the token', async (_, behaviour) => {
    const b = await backend(() => behaviour);
    const { upload, logs } = await attacheWith(b.url);
    expect(await upload(GOOD)).toEqual({ status: 503, body: { error: 'Authentication unavailable' } });
    expect(logs.join('\n')).toContain('authentication unavailable');
    expect(logs.join('\n')).not.toContain(GOOD);
  });

  it('answers 503 when the backend is stopped', async () => {
    const b = await startTokenBackend(platform);
    await b.stop();
    const { upload, logs } = await attacheWith(b.url);
    expect(await upload(GOOD)).toEqual({ status: 503, body: { error: 'Authentication unavailable' } });
    expect(logs.join('\n')).not.toContain(GOOD);
  });
});
