import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

/** Validators of compose files, for the tests of docker-compose.yml and deploy/docker-compose.*.yml. */
const run = promisify(execFile);
const root = new URL('../../', import.meta.url).pathname;
const DCLINT = join(root, 'node_modules/dclint/bin/dclint.cjs');

export interface ComposeValidator {
  readonly name: string;
  validate(file: string): Promise<void>;
}

/** `docker compose` (v2 plugin), else `docker-compose` (v1, Debian's package), when installed. */
export async function composeCli(): Promise<ComposeValidator | undefined> {
  const candidates: Array<[string, string[]]> = [
    ['docker', ['compose']],
    ['docker-compose', []],
  ];
  for (const [command, prefix] of candidates) {
    try {
      await run(command, [...prefix, 'version']);
    } catch {
      continue;
    }
    return {
      name: [command, ...prefix].join(' '),
      // `config -q` parses, interpolates and validates the file against the Compose schema, offline.
      validate: async (file) => void (await run(command, [...prefix, '-f', file, 'config', '-q'], { cwd: root })),
    };
  }
  return undefined;
}

/** dclint (devDependency): the Compose JSON schema plus lint rules; reports errors only. */
export const dclint: ComposeValidator = {
  name: 'dclint',
  validate: async (file) => void (await run(process.execPath, [DCLINT, file, '--quiet', '--color', 'false'], { cwd: root })),
};
