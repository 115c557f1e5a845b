/**
 * docker-compose.yml's `scaled` profile (three replicas, Valkey, HAProxy), checked without a
 * Docker engine: attache accepts the replicas' settings, and HAProxy its configuration.
 * (container-files.test.ts validates the whole compose file against the Compose schema.)
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../src/composition/config.ts';

const run = promisify(execFile);
const root = new URL('../../', import.meta.url).pathname;
type Service = { environment?: Record<string, string>; profiles?: string[]; deploy?: { replicas?: number }; image?: string; volumes?: string[]; ports?: string[] };
// `<<` merges the single instance's environment into the replicas', as Compose does.
const compose = parse(await readFile(`${root}docker-compose.yml`, 'utf8'), { merge: true }) as { services: Record<string, Service> };

describe("docker-compose.yml's scaled profile", () => {
  const replicas = compose.services['attache-scaled']!;

  it('runs three replicas of the same attache, counting their limits together in the Valkey service', () => {
    expect(replicas.profiles).toEqual(['scaled']);
    expect(replicas.deploy?.replicas).toBe(3);
    const config = loadConfig(replicas.environment!);
    expect(config.storage).toEqual(loadConfig(compose.services.attache!.environment!).storage);
    expect(config.limits).toMatchObject({ redisUrl: 'redis://valkey:6379', uploads: { limit: 120, windowSeconds: 60 }, quota: { limit: 5e9, windowSeconds: 86_400 } });
    expect(compose.services.valkey!.image).toMatch(/^valkey\/valkey:/);
    expect(compose.services.valkey!.profiles).toEqual(['scaled']);
  });

  it("puts HAProxy in front with a configuration HAProxy accepts, checking /readyz and naming the replicas' service", async () => {
    const balancer = compose.services.balancer!;
    expect(balancer.profiles).toEqual(['scaled']);
    expect(balancer.volumes).toContain('./deploy/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro');
    const cfg = await readFile(`${root}deploy/haproxy.cfg`, 'utf8');
    expect(cfg).toContain('option httpchk GET /readyz');
    expect(cfg).toMatch(/server-template attache 3 attache-scaled:8080/);
    // Debian's haproxy, installed for the multi-instance tests; -c checks without starting.
    const { stdout } = await run('haproxy', ['-c', '-f', `${root}deploy/haproxy.cfg`]);
    expect(stdout).toContain('Configuration file is valid');
  });
});
