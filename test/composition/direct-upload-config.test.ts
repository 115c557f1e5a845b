import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/composition/config.ts';

const SECRET = 's'.repeat(32);
const PRODUCTION = { NODE_ENV: 'production', AUTH_TOKENS_FILE: '/etc/attache/tokens.json' };

describe('DIRECT_UPLOADS and its secrets', () => {
  it('is on outside production with a secret made up at start, and TTL 15 minutes', () => {
    expect(loadConfig({}).directUploads).toEqual({ secrets: undefined, ttlSeconds: 900 });
  });
  it('is off by default in production, and on there only with a secret', () => {
    expect(loadConfig(PRODUCTION).directUploads).toBeUndefined();
    expect(() => loadConfig({ ...PRODUCTION, DIRECT_UPLOADS: 'on' })).toThrow('DIRECT_UPLOAD_SECRET: is required with DIRECT_UPLOADS=on when NODE_ENV=production');
    expect(loadConfig({ ...PRODUCTION, DIRECT_UPLOADS: 'on', DIRECT_UPLOAD_SECRET: SECRET, DIRECT_UPLOAD_TTL: '600' }).directUploads).toEqual({ secrets: [SECRET], ttlSeconds: 600 });
  });
  it('signs with the new secret and accepts the previous one during a rotation', () => {
    const previous = 'p'.repeat(32);
    expect(loadConfig({ DIRECT_UPLOAD_SECRET: SECRET, DIRECT_UPLOAD_PREVIOUS_SECRET: previous }).directUploads?.secrets).toEqual([SECRET, previous]);
  });
  it.each([
    [{ DIRECT_UPLOAD_SECRET: 'short' }, 'DIRECT_UPLOAD_SECRET: must be at least 32 characters'],
    [{ DIRECT_UPLOAD_PREVIOUS_SECRET: SECRET }, 'DIRECT_UPLOAD_PREVIOUS_SECRET: needs DIRECT_UPLOAD_SECRET'],
    [{ DIRECT_UPLOADS: 'off', DIRECT_UPLOAD_SECRET: SECRET }, 'DIRECT_UPLOAD_SECRET: applies only with DIRECT_UPLOADS=on, which is set to off'],
    [{ ...PRODUCTION, DIRECT_UPLOAD_SECRET: SECRET }, 'DIRECT_UPLOAD_SECRET: applies only with DIRECT_UPLOADS=on, which is off by default with NODE_ENV=production'],
    [{ DIRECT_UPLOADS: 'yes' }, 'DIRECT_UPLOADS: must be on or off'],
    [{ DIRECT_UPLOAD_TTL: '0' }, 'DIRECT_UPLOAD_TTL: must be at least 1'],
  ])('refuses %j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });
});
