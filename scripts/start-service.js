/**
 * `npm start` and the systemd unit's ExecStart: the service from src/ on Node.js 24, no build step
 * and no dev package needed at run time; one line and exit 1 on an older Node (node-24.js). It runs
 * as the image runs: package.json's start script gives it the image's Node flags, and it gives
 * itself the image's allocator setting (image-environment.js).
 */
import { runAgainWithImageAllocator } from './image-environment.js';
import { importOnNode24 } from './node-24.js';

runAgainWithImageAllocator();
const service = await importOnNode24(new URL('../src/composition/run-service.ts', import.meta.url));
await service?.runService();
