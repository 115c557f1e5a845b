/** The HTTP service's entry point (`npm start`, the image's command); the service itself is composition/service.ts. */
import { runService } from './composition/run-service.ts';

if (import.meta.main) await runService();
