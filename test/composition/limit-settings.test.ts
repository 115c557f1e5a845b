import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/composition/config.ts';

const limitsOf = (env: Record<string, string>) => loadConfig(env).limits;

describe('the limits’ settings', () => {
  it.each([
    ['120/1m', { limit: 120, windowSeconds: 60 }],
    ['20/m', { limit: 20, windowSeconds: 60 }],
    ['1000 / 2h', { limit: 1000, windowSeconds: 7200 }],
    ['5/30s', { limit: 5, windowSeconds: 30 }],
  ])('UPLOAD_RATE_LIMIT=%s', (value, rule) => {
    expect(limitsOf({ UPLOAD_RATE_LIMIT: value }).uploads).toEqual(rule);
    expect(limitsOf({ AUTH_FAILURE_LIMIT: value }).authFailures).toEqual(rule);
  });

  it.each([
    ['5GB/1d', 5e9, 86_400],
    ['500MiB/1h', 500 * 2 ** 20, 3600],
    ['1.5 TB / 7d', 1.5e12, 7 * 86_400],
    ['10000/1m', 10_000, 60],
    ['10kb/1m', 10_000, 60],
  ])('UPLOAD_QUOTA=%s', (value, limit, windowSeconds) => {
    expect(limitsOf({ UPLOAD_QUOTA: value }).quota).toEqual({ limit, windowSeconds });
  });

  it.each([
    ['UPLOAD_RATE_LIMIT', '120'],
    ['UPLOAD_RATE_LIMIT', '0/1m'],
    ['UPLOAD_RATE_LIMIT', '120/1w'],
    ['UPLOAD_RATE_LIMIT', '120/32d'],
    ['UPLOAD_RATE_LIMIT', '1.5/1m'],
    ['AUTH_FAILURE_LIMIT', 'lots/1m'],
    ['UPLOAD_QUOTA', '5XB/1d'],
    ['UPLOAD_QUOTA', '0.1B/1d'],
    ['RATE_LIMIT_ON_ERROR', 'maybe'],
    ['REDIS_URL', 'http://valkey:6379'],
    ['TRUSTED_PROXIES', '10.0.0.0/33'],
    ['TRUSTED_PROXIES', 'balancer.internal'],
  ])('refuses %s=%s at start, naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`^${name}: `));
  });

  it('takes Valkey URLs and proxy lists; allow is the default policy', () => {
    const config = loadConfig({ REDIS_URL: 'rediss://user:secret@valkey.internal:6380/2', TRUSTED_PROXIES: '10.0.0.0/8, 127.0.0.1 ,::1, fd00::/8' });
    expect(config.limits).toMatchObject({ redisUrl: 'rediss://user:secret@valkey.internal:6380/2', onError: 'allow', uploads: undefined });
    expect(config.http.trustedProxies).toEqual(['10.0.0.0/8', '127.0.0.1', '::1', 'fd00::/8']);
  });
});
