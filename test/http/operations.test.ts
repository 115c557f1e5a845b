import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { StaticTokenAuth } from '../../src/adapters/auth/static-token-auth.ts';
import { InMemoryObjectStore } from '../../src/adapters/object-store/in-memory/in-memory-object-store.ts';
import type { AuthPort } from '../../src/application/ports/auth-port.ts';
import type { ObjectStore } from '../../src/application/ports/object-store.ts';
import { loadConfig } from '../../src/composition/config.ts';
import { AuthenticationUnavailable, StorageUnavailable } from '../../src/domain/errors.ts';
import { startAttache, type RunningAttache } from '../../src/composition/service.ts';
import { TEST_TOKENS } from '../support/attache-under-test.ts';

/** A token the platform knows, held by a customer: a role that may not upload. */
const CUSTOMER_TOKEN = 'customer-token-never-logged-9c2e';
const auth = () =>
  new StaticTokenAuth([
    { token: TEST_TOKENS.admin, role: 'admin', id: '7' },
    { token: TEST_TOKENS.store, role: 'store', id: 42 },
    { token: CUSTOMER_TOKEN, role: 'customer', id: '5' },
  ]);

/** Every line attache logs, parsed. */
function capturedLogs() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines, entries: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

let running: RunningAttache | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

async function start(options: { store?: ObjectStore; auth?: AuthPort; logger?: pino.Logger; env?: Record<string, string> } = {}) {
  // Logs and metrics are the subject here, not content checks: the fake files need not be real.
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', STORAGE_DRIVER: 'memory', MAX_FILE_SIZE: '1000', CONTENT_CHECK: 'off', ...options.env });
  running = await startAttache(config, {
    store: options.store ?? new InMemoryObjectStore({ publicBaseUrl: 'http://files.test' }),
    auth: options.auth ?? auth(),
    logger: options.logger ?? pino({ level: 'silent' }),
  });
  return running.url;
}

/** An in-memory store whose put throws `error()` once `failing` is set. */
function storeFailingWhenTold(error: () => Error): { store: InMemoryObjectStore; failing: boolean } {
  const switchable = { store: new InMemoryObjectStore({ publicBaseUrl: 'http://files.test' }), failing: false };
  const put = switchable.store.put.bind(switchable.store);
  switchable.store.put = async (...args) => {
    if (switchable.failing) throw error();
    return put(...args);
  };
  return switchable;
}

function upload(url: string, init: { token?: string; name?: string; content?: string; headers?: Record<string, string> } = {}) {
  const form = new FormData();
  form.append('session_id', '1');
  form.append('file', new Blob([init.content ?? 'fake jpeg bytes']), init.name ?? 'photo.jpg');
  return fetch(`${url}/v1/chat/upload/`, {
    method: 'POST',
    headers: { ...(init.token === undefined ? {} : { Authorization: `Token ${init.token}` }), ...init.headers },
    body: form,
  });
}

/** The access line of the request with this id, once the response has closed. */
async function accessLine(logs: ReturnType<typeof capturedLogs>, requestId: string) {
  for (let attempt = 0; attempt < 200; attempt++) {
    const line = logs.entries().find((e) => e.requestId === requestId);
    if (line) return line;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`no log line for request ${requestId}; lines:\n${logs.lines.join('\n')}`);
}

describe('logs', () => {
  it('writes one JSON line per request with id, method, path, status, bytes, duration, driver and principal kind', async () => {
    const logs = capturedLogs();
    const url = await start({ logger: logs.logger });
    const response = await upload(url, { token: TEST_TOKENS.store, headers: { 'X-Request-Id': 'lb-7f3a.1' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBe('lb-7f3a.1');
    const line = await accessLine(logs, 'lb-7f3a.1');
    expect(line).toMatchObject({ level: 30, method: 'POST', path: '/v1/chat/upload/', status: 200, driver: 'memory', principal: 'store' });
    expect(line.bytesIn).toBeGreaterThan(15);
    expect(line.bytesOut).toBeGreaterThan(0);
    expect(typeof line.durationMs).toBe('number');
    expect(logs.entries().filter((e) => e.requestId === 'lb-7f3a.1')).toHaveLength(1);
  });

  it.each([
    ['too long', 'a'.repeat(129)],
    ['with spaces and quotes', 'x" injected="1'],
  ])('replaces an X-Request-Id that is %s by a fresh one', async (_, incoming) => {
    const url = await start();
    const response = await fetch(`${url}/healthz`, { headers: { 'X-Request-Id': incoming } });
    const id = response.headers.get('x-request-id');
    expect(id).not.toBe(incoming);
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('never logs the token or the file: not on 200, 401 or 500', async () => {
    const fileMarker = 'FILE-CONTENT-MARKER-5d1c';
    const logs = capturedLogs();
    // A store with a bug: its put fails with an error that is no DomainError, so the answer is 500.
    const broken = storeFailingWhenTold(() => new Error('disk on fire'));
    const url = await start({ logger: logs.logger, store: broken.store });

    expect((await upload(url, { token: TEST_TOKENS.store, content: fileMarker })).status).toBe(200);
    const unknownToken = 'unknown-token-must-not-be-logged-4411';
    const refused = await upload(url, { token: unknownToken, content: fileMarker });
    expect(refused.status).toBe(401);
    broken.failing = true;
    const failed = await upload(url, { token: TEST_TOKENS.admin, content: fileMarker });
    expect(failed.status).toBe(500);
    expect(await failed.json()).toEqual({ error: 'Internal server error' });

    const unauthorizedLine = await accessLine(logs, refused.headers.get('x-request-id')!);
    expect(unauthorizedLine).toMatchObject({ status: 401, principal: 'none', code: 'UNAUTHORIZED' });
    const failedLine = await accessLine(logs, failed.headers.get('x-request-id')!);
    expect(failedLine).toMatchObject({ level: 50, status: 500, principal: 'admin' });
    expect(JSON.stringify(failedLine.err)).toContain('disk on fire');

    const everything = logs.lines.join('\n');
    for (const secret of [TEST_TOKENS.store, TEST_TOKENS.admin, unknownToken, fileMarker]) expect(everything).not.toContain(secret);
  });
});

describe('metrics', () => {
  /** The value of the sample of metric `name` whose labels include all of `labels` (in any order). */
  const sample = (text: string, name: string, labels = '') => {
    const wanted = labels ? labels.split(',') : [];
    const line = text.split('\n').find((l) => {
      const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? /.exec(l);
      return match?.[1] === name && wanted.every((label) => (match[2] ?? '').split(',').includes(label));
    });
    return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
  };

  it('counts uploads by outcome and type, bytes stored, latency, in-flight and storage errors, plus process metrics', async () => {
    const backend = storeFailingWhenTold(() => new StorageUnavailable('test: backend down'));
    const url = await start({ store: backend.store });
    expect((await upload(url, { token: TEST_TOKENS.store, content: 'x'.repeat(100) })).status).toBe(200);
    expect((await upload(url, { token: TEST_TOKENS.store, content: 'y'.repeat(50), name: 'doc.pdf' })).status).toBe(200);
    expect((await upload(url, { token: TEST_TOKENS.store, name: 'virus.exe' })).status).toBe(400);
    expect((await upload(url, { token: 'nope-nope-nope' })).status).toBe(401);
    expect((await upload(url, { token: TEST_TOKENS.store, content: 'z'.repeat(2000) })).status).toBe(413);
    backend.failing = true;
    expect((await upload(url, { token: TEST_TOKENS.store })).status).toBe(503);

    const response = await fetch(`${url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    expect(sample(text, 'attache_uploads_total', 'outcome="ok",type="image/jpeg"')).toBe(1);
    expect(sample(text, 'attache_uploads_total', 'outcome="ok",type="application/pdf"')).toBe(1);
    expect(sample(text, 'attache_uploads_total', 'outcome="UNSUPPORTED_FILE_TYPE",type="none"')).toBe(1);
    expect(sample(text, 'attache_uploads_total', 'outcome="UNAUTHORIZED",type="none"')).toBe(1);
    expect(sample(text, 'attache_uploads_total', 'outcome="FILE_TOO_LARGE",type="none"')).toBe(1);
    expect(sample(text, 'attache_uploads_total', 'outcome="STORAGE_UNAVAILABLE",type="none"')).toBe(1);
    expect(sample(text, 'attache_uploaded_bytes_total')).toBe(150);
    expect(sample(text, 'attache_upload_duration_seconds_count', 'outcome="ok"')).toBe(2);
    expect(sample(text, 'attache_uploads_in_flight')).toBe(0);
    expect(sample(text, 'attache_storage_errors_total')).toBe(1);
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('driver="memory"');
  });

  it('keeps each instance’s counts apart', async () => {
    const url = await start();
    const other = await startAttache(loadConfig({ PORT: '0', STORAGE_DRIVER: 'memory', CONTENT_CHECK: 'off' }), { auth: auth(), logger: pino({ level: 'silent' }) });
    try {
      expect((await upload(other.url, { token: TEST_TOKENS.store })).status).toBe(200);
      const text = await (await fetch(`${url}/metrics`)).text();
      expect(sample(text, 'attache_uploads_total', 'outcome="ok",type="image/jpeg"')).toBeUndefined();
    } finally {
      await other.close();
    }
  });

  it.each([
    ['no Authorization header', {}, 'no Authorization header'],
    ['another scheme', { headers: { Authorization: `Basic ${CUSTOMER_TOKEN}` } }, 'expected "Authorization: Token <token>"'],
    ['an unknown token', { token: 'unknown-token-never-logged-0b7d' }, 'unknown token'],
    ['a role that may not upload', { token: CUSTOMER_TOKEN }, "role 'customer' may not upload"],
  ])('says why a request got 401, in its log line only, without the token: %s', async (_, request, reason) => {
    const logs = capturedLogs();
    const url = await start({ logger: logs.logger });
    const response = await upload(url, request);
    expect([response.status, await response.json()]).toEqual([401, { error: 'Unauthorized' }]);
    const line = await accessLine(logs, response.headers.get('x-request-id')!);
    expect(line).toMatchObject({ level: 30, status: 401, code: 'UNAUTHORIZED', principal: 'none', reason });
    expect(logs.lines.join('\n')).not.toMatch(/never-logged/);
  });
});

describe('health', () => {
  it('/healthz answers while the process is up; /readyz follows storage and the auth port’s own check', async () => {
    const store = new InMemoryObjectStore({ publicBaseUrl: 'http://files.test' });
    let storageUp = true;
    store.checkReady = async () => {
      if (!storageUp) throw new StorageUnavailable('test: bucket missing');
    };
    let authChecks = 0;
    const checkedAuth: AuthPort = Object.assign(auth(), {
      async checkReady() {
        authChecks++;
      },
    });
    const url = await start({ store, auth: checkedAuth });
    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${url}/readyz`);
    expect([ready.status, await ready.json()]).toEqual([200, { status: 'ready' }]);
    expect(authChecks).toBe(1);
    storageUp = false;
    const notReady = await fetch(`${url}/readyz`);
    expect([notReady.status, await notReady.json()]).toEqual([503, { error: 'Storage unavailable' }]);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });

  it('/readyz stays 200 when a dependency every instance shares fails, naming it, so a balancer keeps a backend', async () => {
    // A bucket (STORAGE_DRIVER=s3) and a token backend with a checkReady: both shared by every instance.
    const bucket = storeFailingWhenTold(() => new StorageUnavailable('test: bucket unreachable'));
    const store = bucket.store;
    store.checkReady = async () => {
      if (bucket.failing) throw new StorageUnavailable('test: bucket unreachable');
    };
    const sharedAuth: AuthPort = Object.assign(auth(), {
      async checkReady() {
        if (bucket.failing) throw new AuthenticationUnavailable('test: token backend down');
      },
    });
    const url = await start({ store, auth: sharedAuth, env: { STORAGE_DRIVER: 's3', S3_BUCKET: 'shared-bucket' } });
    const gauge = async () => (await (await fetch(`${url}/metrics`)).text()).split('\n').filter((l) => l.startsWith('attache_dependency_up{'));
    expect(await (await fetch(`${url}/readyz`)).json()).toEqual({ status: 'ready' });
    expect(await gauge()).toEqual([expect.stringMatching(/dependency="storage".* 1$/), expect.stringMatching(/dependency="auth".* 1$/)]);
    bucket.failing = true;
    const degraded = await fetch(`${url}/readyz`);
    expect([degraded.status, await degraded.json()]).toEqual([200, { status: 'ready', unavailable: ['storage', 'auth'] }]);
    expect(await gauge()).toEqual([expect.stringMatching(/dependency="storage".* 0$/), expect.stringMatching(/dependency="auth".* 0$/)]);
    // Uploads still get attache's own JSON answer, which a balancer with no backend could not give.
    const refused = await upload(url, { token: TEST_TOKENS.store });
    expect([refused.status, await refused.json()]).toEqual([503, { error: 'Storage unavailable' }]);
    expect(await (await fetch(`${url}/metrics`)).text()).toMatch(/^attache_storage_errors_total\{[^}]*\} 2$/m);
  });
});
