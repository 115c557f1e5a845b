import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The Node flags a checkout's image starts attache with: the Dockerfile's CMD is `node <flags> dist/main.js`.
 * Read from there so the benchmark measures the service as it runs in production.
 */
export function productionNodeFlags(checkoutDir: string): string[] {
  const dockerfile = readFileSync(join(checkoutDir, 'Dockerfile'), 'utf8');
  const cmd = /^CMD (\[.*\])$/m.exec(dockerfile);
  if (!cmd) throw new Error(`${checkoutDir}/Dockerfile has no CMD ["node", ..., "dist/main.js"]`);
  const argv = JSON.parse(cmd[1]!) as string[];
  return argv.slice(1, -1);
}

/** What the bench sets itself: where to listen, and where the local driver writes. */
const SET_BY_THE_BENCH = new Set(['HOST', 'PORT', 'LOCAL_STORAGE_DIR']);

/**
 * The environment a checkout's image gives attache: the ENV instructions of the Dockerfile's last stage
 * (`ENV A=1 \` continued lines, `ENV A 1`), less what the bench sets itself. With its Node flags, what
 * makes the benchmark measure the service as the image runs it (NODE_ENV, and allocator settings such
 * as MALLOC_ARENA_MAX if the image sets them).
 */
export function productionEnvironment(checkoutDir: string): Record<string, string> {
  const dockerfile = readFileSync(join(checkoutDir, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  const lastStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  const env: Record<string, string> = {};
  for (const [, args] of lastStage.matchAll(/^ENV\s+(.+)$/gm)) {
    for (const [name, value] of envPairs(args!)) if (!SET_BY_THE_BENCH.has(name)) env[name] = value;
  }
  return env;
}

/** An ENV instruction's `A=1 B="x y"`, or its legacy form `A value with spaces`. */
function envPairs(args: string): [string, string][] {
  if (!args.includes('=')) {
    const [name = '', ...value] = args.split(/\s+/);
    return [[name, value.join(' ')]];
  }
  return [...args.matchAll(/(\w+)=("[^"]*"|\S*)/g)].map((m) => [m[1]!, m[2]!.replace(/^"|"$/g, '')]);
}
