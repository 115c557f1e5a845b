/**
 * What docs/operations.md says about a revoked token with AUTH_INTROSPECTION_URL: each instance
 * keeps accepting it for up to AUTH_CACHE_TTL seconds after it last asked the token backend
 * (its cache is its own memory), a fresh instance refuses it at once, and AUTH_CACHE_TTL=0 refuses
 * it on the next upload. Two instances share one token backend, as behind a load balancer.
 */
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/composition/config.ts';
import { startAttache, type RunningAttache } from '../../src/composition/service.ts';
import { fileNamed } from '../support/file-heads.ts';
import { startTokenBackend } from '../support/token-backend.ts';

const TOKEN = 'store-token-about-to-be-revoked-42';
const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

/** A token backend that knows TOKEN until `revoked` is set. */
async function platform() {
  const state = { revoked: false };
  const backend = await startTokenBackend((authorization) =>
    authorization === `Token ${TOKEN}` && !state.revoked ? { kind: 'json', body: { role: 'store', id: '42' } } : { kind: 'status', status: 401 },
  );
  stops.push(() => backend.stop());
  return Object.assign(state, { url: backend.url });
}

async function instance(backendUrl: string, cacheTtl: string) {
  const logs: string[] = [];
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', STORAGE_DRIVER: 'memory', PREVIEWS: 'off', AUTH_INTROSPECTION_URL: backendUrl, AUTH_CACHE_TTL: cacheTtl });
  const running: RunningAttache = await startAttache(config, { logger: pino({ level: 'info' }, { write: (line: string) => logs.push(line) }) });
  stops.push(() => running.close());
  const upload = async () => {
    const form = new FormData();
    form.append('file', new Blob([fileNamed('a.png')]), 'a.png');
    return (await fetch(`${running.url}/v1/chat/upload/`, { method: 'POST', headers: { Authorization: `Token ${TOKEN}` }, body: form })).status;
  };
  return { upload, logs };
}

describe('a token revoked at the token backend', () => {
  it('keeps working on each instance that cached it until AUTH_CACHE_TTL is over, and never on a fresh instance', async () => {
    const backend = await platform();
    // 3 s: long enough that a busy machine's uploads stay within it, short enough to wait out.
    const [a, b] = [await instance(backend.url, '3'), await instance(backend.url, '3')];
    expect([await a.upload(), await b.upload()]).toEqual([200, 200]);
    backend.revoked = true;
    const revokedAt = Date.now();
    // Both still hold the backend's earlier answer.
    expect([await a.upload(), await b.upload()]).toEqual([200, 200]);
    expect(Date.now() - revokedAt).toBeLessThan(2000);
    // A restarted (fresh) instance has no cache: it asks, and refuses at once.
    const restarted = await instance(backend.url, '3');
    expect(await restarted.upload()).toBe(401);
    await new Promise((resolve) => setTimeout(resolve, 3100 - (Date.now() - revokedAt)));
    expect([await a.upload(), await b.upload()]).toEqual([401, 401]);
    expect(a.logs.join('\n')).toContain('"reason":"unknown token"');
    expect(a.logs.join('\n')).not.toContain(TOKEN);
  });

  it('is refused on the next upload with AUTH_CACHE_TTL=0', async () => {
    const backend = await platform();
    const a = await instance(backend.url, '0');
    expect(await a.upload()).toBe(200);
    backend.revoked = true;
    expect(await a.upload()).toBe(401);
  });
});
