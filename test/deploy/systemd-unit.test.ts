/**
 * deploy/attache.service, read as systemd reads it: systemd's own checker accepts it without a
 * warning, and its stop settings, address and allocator setting agree with what attache and its
 * image do. (test/deploy/vm-install.test.ts runs its ExecStart on a fresh install.)
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/composition/config.ts';
import { productionEnvironment, productionNodeFlags } from '../support/image-runtime.ts';
import { readSystemdUnit, UNIT_FILE } from '../support/systemd-unit.ts';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const unit = readSystemdUnit(root);
/** How long attache may still take after SHUTDOWN_GRACE_MS: cut-off uploads undo what they wrote (run-service.ts, service.ts). */
const UNDO_AFTER_GRACE_MS = 5_000;

async function verify(file: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run('systemd-analyze', ['verify', file]);
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number | string; stdout?: string; stderr?: string };
    if (code === 'ENOENT') throw new Error('systemd-analyze is not installed (Debian package "systemd"; npm test\'s pretest installs it)');
    return { code: Number(code), output: `${stdout ?? ''}${stderr ?? ''}` };
  }
}

describe(UNIT_FILE, () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'attache-unit-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('passes `systemd-analyze verify` with nothing to say, and a broken copy does not', async () => {
    let text = await readFile(join(root, UNIT_FILE), 'utf8');
    // verify checks that ExecStart's program exists; where Node is installed elsewhere, check the rest.
    if (!existsSync(unit.execStart[0]!)) text = text.replace(`ExecStart=${unit.execStart[0]}`, `ExecStart=${process.execPath}`);
    const file = join(dir, 'attache.service');
    await writeFile(file, text);
    expect(await verify(file)).toEqual({ code: 0, output: '' });
    const broken = join(dir, 'broken.service');
    await writeFile(broken, text.replace(/^TimeoutStopSec=.*$/m, 'TimeoutStopSec=soon').replace(/^KillMode=.*$/m, 'KilMode=mixed'));
    expect((await verify(broken)).output).toMatch(/soon[\s\S]*KilMode|KilMode[\s\S]*soon/);
  });

  it('stops as attache stops: SIGTERM to node alone, and systemd waits longer than SHUTDOWN_GRACE_MS plus the undo', () => {
    const value = (key: string) => unit.service.find(([k]) => k === key)?.[1];
    expect(value('KillSignal')).toBe('SIGTERM');
    // mixed: the signal goes to the main process (node) only, SIGKILL to all once TimeoutStopSec is over.
    expect(value('KillMode')).toBe('mixed');
    // Read by attache's own loader, as the service would: the unit's settings are ones it accepts.
    const graceMs = loadConfig(unit.environment).shutdownGraceMs;
    expect(graceMs).toBe(25_000);
    expect(unit.timeoutStopMs).toBeGreaterThan(graceMs + UNDO_AFTER_GRACE_MS);
  });

  it('listens on every interface, in production, keeps connections longer than a balancer, with the image\'s allocator setting and Node flags', async () => {
    expect(unit.environment.HOST).toBe('0.0.0.0');
    // Behind a balancer whose idle timeout is 60 s (docs/operations.md).
    expect(loadConfig(unit.environment).http.keepAliveTimeoutMs).toBeGreaterThan(60_000);
    expect(unit.environment.NODE_ENV).toBe('production');
    expect(unit.environment.MALLOC_ARENA_MAX).toBe(productionEnvironment(root).MALLOC_ARENA_MAX);
    expect(unit.execStart.slice(1, -1)).toEqual(productionNodeFlags(root));
    // The same program as `npm start`, which says in one line when the Node is too old.
    const start = (JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
    expect(`node ${unit.execStart.slice(1).join(' ')}`).toBe(start);
    expect(unit.execStart[0]).toMatch(/^\/.*\/node$/);
  });

  it('is the unit docs/operations.md installs, into the folder it names', async () => {
    const operations = await readFile(join(root, 'docs/operations.md'), 'utf8');
    expect(operations).toContain(`cp ${UNIT_FILE} /etc/systemd/system/`);
    expect(operations).toContain(`cd ${unit.workingDirectory} && npm ci --omit=dev`);
  });
});
