/**
 * `npm run attache -- …`: the `attache` command (src/cli.ts) on Node.js 24; one line and exit 1
 * on an older Node, as after `npm ci --omit=dev` on a machine whose Node is older (node-24.js).
 */
import { importOnNode24 } from './node-24.js';

await importOnNode24(new URL('../src/cli.ts', import.meta.url));
