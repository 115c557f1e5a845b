import { Redis } from 'ioredis';

/**
 * An ioredis client as attache's shared state needs it: commands are never queued while the
 * server is away (enableOfflineQueue: false) and time out after `commandTimeoutMs`, so a request
 * waits at most that long before the caller's policy for an absent Valkey applies; ioredis keeps
 * reconnecting in the background.
 */
export function valkeyClient(url: string, commandTimeoutMs: number): Redis {
  return new Redis(url, {
    enableOfflineQueue: false,
    commandTimeout: commandTimeoutMs,
    connectTimeout: Math.max(commandTimeoutMs, 1000),
    maxRetriesPerRequest: 0,
    retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
  });
}

/**
 * Resolves true once the server answers a PING, or false after `timeoutMs` whatever happened:
 * a server still away is the policy's business. (The client's own status can say `ready` for a
 * moment after its server died, before it has noticed.)
 */
export async function answersPing(client: Redis, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (client.status === 'ready' && (await client.ping().then(() => true, () => false))) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}
