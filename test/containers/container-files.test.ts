import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { StaticTokenAuth } from '../../src/adapters/auth/static-token-auth.ts';
import { loadConfig } from '../../src/composition/config.ts';
import { composeCli, dclint, type ComposeValidator } from '../support/compose-validators.ts';

/**
 * Nothing here can build images or run containers (no Docker engine), so these tests check
 * what can be checked without one: the compose file with every validator available, the
 * Dockerfile's shape, and that the image's runtime stage has everything src/ imports.
 */
const run = promisify(execFile);
const root = new URL('../../', import.meta.url).pathname;
const composePath = join(root, 'docker-compose.yml');

describe('docker-compose.yml', () => {
  let validators: ComposeValidator[];
  let compose: {
    services: Record<string, Record<string, unknown> & { environment?: Record<string, string>; healthcheck?: { test: string[] } }>;
  };
  let scratch: string;

  beforeAll(async () => {
    const cli = await composeCli();
    if (!cli) {
      const message =
        'No Docker Compose CLI here (`docker compose` or `docker-compose`): docker-compose.yml is validated by dclint only. ' +
        'Install one (Debian: apt-get install docker-compose) for the full check.';
      if (process.env.ATTACHE_REQUIRE_COMPOSE_CLI === '1') throw new Error(message);
      console.warn(`\n*** ${message} ***\n`);
    }
    validators = [...(cli ? [cli] : []), dclint];
    compose = parse(await readFile(composePath, 'utf8'));
    scratch = await mkdtemp(join(tmpdir(), 'attache-compose-'));
  });
  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it('is valid for every available validator, and each of them refuses a broken copy', async () => {
    expect(validators.length, 'no compose validator is available').toBeGreaterThan(0);
    const broken = join(root, `.broken-compose-${process.pid}.yml`);
    const text = await readFile(composePath, 'utf8');
    await writeFile(broken, text.replace('condition: service_completed_successfully', 'condition: whenever_you_like'));
    try {
      for (const validator of validators) {
        await expect(validator.validate(composePath), validator.name).resolves.toBeUndefined();
        await expect(validator.validate(broken), `${validator.name} accepted a broken file`).rejects.toThrow();
      }
    } finally {
      await rm(broken, { force: true });
    }
    console.info(`docker-compose.yml validated by: ${validators.map((v) => v.name).join(', ')}`);
  });

  it('configures attache for MinIO with settings attache itself accepts', async () => {
    const attache = compose.services.attache!;
    const env = attache.environment!;
    const config = loadConfig(env);
    expect(config.storage).toMatchObject({ driver: 's3', bucket: 'attache', endpoint: 'http://minio:9000', forcePathStyle: true });
    expect(config.storage.publicBaseUrl).toBe(`http://localhost:9000/${env.S3_BUCKET}`);
    expect(env.AWS_ACCESS_KEY_ID).toBe((compose.services.minio!.environment as Record<string, string>).MINIO_ROOT_USER);
    expect(env.AWS_SECRET_ACCESS_KEY).toBe((compose.services.minio!.environment as Record<string, string>).MINIO_ROOT_PASSWORD);
    // The mounted tokens file is one attache loads.
    const mount = (attache.volumes as string[]).find((v) => v.includes(env.AUTH_TOKENS_FILE!))!;
    await expect(StaticTokenAuth.fromFile(join(root, mount.split(':')[0]!))).resolves.toBeDefined();
    expect(attache.depends_on).toEqual({
      'create-bucket': { condition: 'service_completed_successfully' },
      clamd: { condition: 'service_healthy' },
    });
    expect(attache.healthcheck!.test.join(' ')).toContain('/healthz');
    // Docker sends SIGKILL after stop_grace_period: it must outlast attache's own grace period.
    expect(Number(/^(\d+)s$/.exec(attache.stop_grace_period as string)![1]) * 1000).toBeGreaterThan(config.shutdownGraceMs);
  });

  it('scans with the clamd service, from the official ClamAV image, with deploy/clamd.conf mounted', () => {
    const env = compose.services.attache!.environment!;
    expect(loadConfig(env).malwareScan).toMatchObject({ host: 'clamd', port: 3310, onError: 'reject' });
    const clamd = compose.services.clamd!;
    expect(clamd.image).toMatch(/^clamav\/clamav:1\./);
    expect(clamd.volumes).toContain('./deploy/clamd.conf:/etc/clamav/clamd.conf:ro');
  });

  it("writes a clamd.conf that ClamAV 1.4's own parser takes, with limits that agree with attache's", async () => {
    const conf = await readFile(join(root, 'deploy/clamd.conf'), 'utf8');
    const dir = await mkdtemp(join(tmpdir(), 'attache-clamd-conf-'));
    let parsed: string;
    try {
      // clamconf (Debian's clamav-daemon) reads the file as clamd does and prints every setting it took.
      await writeFile(join(dir, 'clamd.conf'), conf);
      const { stdout, stderr } = await run('clamconf', ['-c', dir, '-n']);
      expect(stderr).not.toMatch(/ERROR|Parse error|Unknown option/i);
      parsed = stdout;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const setting = (name: string) => new RegExp(`^${name} = "([^"]*)"$`, 'm').exec(parsed)?.[1];
    const config = loadConfig(compose.services.attache!.environment!);
    // clamd cuts a stream off at StreamMaxLength: at least MAX_FILE_SIZE, and it scans all of it.
    expect(Number(setting('StreamMaxLength'))).toBeGreaterThanOrEqual(config.maxFileSize);
    expect(Number(setting('MaxFileSize'))).toBeGreaterThanOrEqual(Number(setting('StreamMaxLength')));
    expect(setting('AlertExceedsMax')).toBe('yes');
    expect(setting('AlertOLE2Macros')).toBe('yes');
    // A slow client must not outlast clamd's wait for the next chunk.
    expect(Number(setting('ReadTimeout')) * 1000).toBeGreaterThanOrEqual(config.http.requestTimeoutMs);
  });

  it('creates the bucket with public-read access in a one-shot mc service', () => {
    const mc = compose.services['create-bucket']!;
    expect(mc.image).toMatch(/^minio\/mc[:@]/);
    const script = (mc.command as string[]).join('\n');
    expect(script).toContain('mc mb --ignore-existing local/attache');
    expect(script).toContain('mc anonymous set download local/attache');
    expect(mc.restart).toBe('no');
  });
});

describe('Dockerfile', () => {
  let dockerfile: string;
  beforeAll(async () => {
    dockerfile = await readFile(join(root, 'Dockerfile'), 'utf8');
  });

  it('builds in stages from Node 24, compiles src/ apart, installs production dependencies only, and runs dist/main.js as a non-root user', () => {
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:24[-.\w]*$/m);
    const stages = [...dockerfile.matchAll(/^FROM (\S+) AS (\w+)$/gm)].map((m) => [m[1], m[2]]);
    expect(stages).toEqual([
      ['${NODE_IMAGE}', 'deps'],
      ['${NODE_IMAGE}', 'build'],
      ['${NODE_IMAGE}', 'runtime'],
    ]);
    expect(dockerfile).toMatch(/^RUN npm ci --omit=dev\b/m);
    const runtime = dockerfile.slice(dockerfile.indexOf('AS runtime'));
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toMatch(/^HEALTHCHECK .*\n.*\/healthz/m);
    expect(runtime).toMatch(/^COPY --from=build \/app\/dist \.\/dist$/m);
    expect(runtime).not.toMatch(/^COPY src\b/m);
    expect(runtime).toMatch(/^CMD \["node", "--max-semi-space-size=2", "dist\/main\.js"\]$/m);
  });

  it('has in its runtime stage every package src/ imports at run time (dependencies, not devDependencies)', async () => {
    const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const files = (await readdir(join(root, 'src'), { recursive: true })).filter((f) => f.endsWith('.ts'));
    const imported = new Set<string>();
    for (const file of files) {
      const source = await readFile(join(root, 'src', file), 'utf8');
      // `import type` is erased by type stripping; dynamic imports are listed apart below.
      for (const m of source.matchAll(/^import (?!type )[^'"]*from '([^'.][^']*)'/gm)) imported.add(m[1]!);
      for (const m of source.matchAll(/^import '([^'.][^']*)'/gm)) imported.add(m[1]!);
    }
    const packageOf = (specifier: string) => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');
    const missing = [...imported].filter((s) => !s.startsWith('node:')).map(packageOf).filter((p) => !(p in pkg.dependencies));
    expect(missing).toEqual([]);
  });

  it('.dockerignore lets in exactly what the Dockerfile copies', async () => {
    const ignore = (await readFile(join(root, '.dockerignore'), 'utf8')).split('\n').filter((l) => l && !l.startsWith('#'));
    expect(ignore).toEqual(['**', '!package.json', '!package-lock.json', '!tsconfig.json', '!tsconfig.build.json', '!src/**']);
    const copied = new Set([...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1]!.split(' ')));
    expect([...copied].sort()).toEqual(['package-lock.json', 'package.json', 'src', 'tsconfig.build.json', 'tsconfig.json']);
  });
});
